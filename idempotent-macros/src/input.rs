//! The analysed handler: its parameters, receiver and the shape of its return type.

use syn::{Attribute, FnArg, GenericArgument, Ident, ItemFn, Pat, PathArguments, ReturnType, Type};

use crate::errors::Errors;

/// A named parameter of the handler.
pub(crate) struct Param {
    /// Its name: the binding of `name: T`, or the one inside `Json(name): Json<T>`.
    pub(crate) ident: Ident,
    /// Its type as written (`Json<T>` for a pattern).
    pub(crate) ty: Type,
    /// For a one-field pattern (`Json(name)`), the pattern's path (`Json`): the value is
    /// fingerprinted by the binding inside, and passed on as `Json(name)`.
    pub(crate) wrapper: Option<syn::Path>,
    /// Its `#[cfg(..)]` and `#[cfg_attr(..)]` attributes, repeated on every use the expansion
    /// makes of it, so a parameter configured out is not used either.
    pub(crate) cfgs: Vec<Attribute>,
}

/// What the handler returns, which decides what the wrapped handler returns.
#[expect(clippy::large_enum_variant, reason = "one value per expansion")]
pub(crate) enum Output {
    /// A plain `T` (or nothing, `()`): the handler cannot fail.
    Plain(Type),
    /// A type spelled `Result<..>` or `path::Result<..>`, or marked `fallible`.
    Fallible {
        /// The return type exactly as written.
        spelled: Type,
        /// Its first type argument, the success type; `None` (an alias marked `fallible`):
        /// read through a trait.
        ok: Option<Type>,
        /// Its second type argument if written; else the error is read through a trait.
        err: Option<Type>,
    },
}

/// The handler, as the attribute sees it.
pub(crate) struct Handler {
    pub(crate) item: ItemFn,
    pub(crate) params: Vec<Param>,
    pub(crate) has_receiver: bool,
    /// `Self` appears in the signature or the body (outside nested items): the fn is in an
    /// impl or a trait, as nothing else can name `Self`.
    pub(crate) mentions_self: bool,
    pub(crate) output: Output,
}

impl Handler {
    /// Analyses `item`, recording parameters it cannot name. `fallible`: the return type is
    /// a `Result` under another name.
    pub(crate) fn analyse(item: ItemFn, fallible: bool, errors: &mut Errors) -> Self {
        let mut params = Vec::new();
        let mut has_receiver = false;
        for input in &item.sig.inputs {
            match input {
                FnArg::Receiver(_) => has_receiver = true,
                FnArg::Typed(typed) => {
                    let cfgs: Vec<Attribute> = typed
                        .attrs
                        .iter()
                        .filter(|attr| {
                            attr.path().is_ident("cfg") || attr.path().is_ident("cfg_attr")
                        })
                        .cloned()
                        .collect();
                    let ty = (*typed.ty).clone();
                    match named(&typed.pat) {
                        Some((ident, wrapper)) => params.push(Param {
                            ident,
                            ty,
                            wrapper,
                            cfgs,
                        }),
                        None => errors.spanned(
                            &typed.pat,
                            "#[idempotent] needs a name for every parameter, to fingerprint it under that name: write `name: T`, or for an extractor `Json(name): Json<T>`, and take the pattern apart inside the body",
                        ),
                    }
                }
            }
        }
        let output = Output::of(&item.sig.output, fallible);
        let mentions_self = mentions_self(&item);
        Self {
            item,
            params,
            has_receiver,
            mentions_self,
            output,
        }
    }

    /// The parameter named `name`, if any.
    pub(crate) fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|param| param.ident == name)
    }

    /// The fn's name.
    pub(crate) fn ident(&self) -> &Ident {
        &self.item.sig.ident
    }

    /// Whether the handler is `async`.
    pub(crate) fn is_async(&self) -> bool {
        self.item.sig.asyncness.is_some()
    }
}

/// The name a parameter pattern binds: `name`, `mut name`, or the one field of a tuple-struct
/// pattern (`Json(name)`, `State(mut app)`) with that pattern's path.
fn named(pat: &Pat) -> Option<(Ident, Option<syn::Path>)> {
    let plain = |pat: &Pat| match pat {
        Pat::Ident(pat) if pat.subpat.is_none() => Some(pat.ident.clone()),
        _ => None,
    };
    match pat {
        Pat::TupleStruct(tuple) if tuple.qself.is_none() && tuple.elems.len() == 1 => {
            let inner = tuple.elems.first().and_then(plain)?;
            Some((inner, Some(tuple.path.clone())))
        }
        other => plain(other).map(|ident| (ident, None)),
    }
}

impl Output {
    fn of(output: &ReturnType, fallible: bool) -> Self {
        let ty = match output {
            ReturnType::Default => return Output::Plain(syn::parse_quote!(())),
            ReturnType::Type(_, ty) => &**ty,
        };
        match Self::spelled(ty) {
            Output::Plain(spelled) if fallible => Output::Fallible {
                spelled,
                ok: None,
                err: None,
            },
            output => output,
        }
    }

    /// The shape a type's spelling shows, looking through the invisible groups a
    /// `macro_rules!` fragment leaves.
    fn spelled(ty: &Type) -> Self {
        let Type::Path(path) = ungrouped(ty) else {
            return Output::Plain(ty.clone());
        };
        let Some(last) = path.path.segments.last() else {
            return Output::Plain(ty.clone());
        };
        let PathArguments::AngleBracketed(args) = &last.arguments else {
            return Output::Plain(ty.clone());
        };
        let types: Vec<&Type> = args
            .args
            .iter()
            .filter_map(|arg| match arg {
                GenericArgument::Type(ty) => Some(ty),
                _ => None,
            })
            .collect();
        match (last.ident == "Result", types.as_slice()) {
            (true, [ok]) => Output::Fallible {
                spelled: ty.clone(),
                ok: Some((*ok).clone()),
                err: None,
            },
            (true, [ok, err]) => Output::Fallible {
                spelled: ty.clone(),
                ok: Some((*ok).clone()),
                err: Some((*err).clone()),
            },
            _ => Output::Plain(ty.clone()),
        }
    }

    /// The return type as written (`()` for none).
    pub(crate) fn written(&self) -> &Type {
        match self {
            Output::Plain(ty) | Output::Fallible { spelled: ty, .. } => ty,
        }
    }

    /// The success type, if it is written out.
    pub(crate) fn ok(&self) -> Option<&Type> {
        match self {
            Output::Plain(ty) => Some(ty),
            Output::Fallible { ok, .. } => ok.as_ref(),
        }
    }
}

/// `ty` without the invisible groups (a `macro_rules!` `$t:ty`) and parentheses around it.
pub(crate) fn ungrouped(ty: &Type) -> &Type {
    match ty {
        Type::Group(group) => ungrouped(&group.elem),
        Type::Paren(paren) => ungrouped(&paren.elem),
        other => other,
    }
}

/// Whether a type is spelled `Option<..>` (or `path::Option<..>`).
pub(crate) fn is_option(ty: &Type) -> bool {
    matches!(ungrouped(ty), Type::Path(path) if path.path.segments.last().is_some_and(|last| {
        last.ident == "Option" && matches!(last.arguments, PathArguments::AngleBracketed(_))
    }))
}

/// Whether `Self` appears in the fn's signature or body, outside items nested in the body
/// (which have their own `Self`, or none).
fn mentions_self(item: &ItemFn) -> bool {
    struct Finder(bool);
    impl<'ast> syn::visit::Visit<'ast> for Finder {
        fn visit_ident(&mut self, ident: &'ast Ident) {
            self.0 |= ident == "Self";
        }
        fn visit_item(&mut self, _: &'ast syn::Item) {}
        // A macro's tokens are not parsed by `syn`; look at them as tokens.
        fn visit_macro(&mut self, mac: &'ast syn::Macro) {
            self.0 |= tokens_mention_self(mac.tokens.clone());
            syn::visit::visit_macro(self, mac);
        }
    }
    let mut finder = Finder(false);
    syn::visit::Visit::visit_signature(&mut finder, &item.sig);
    syn::visit::Visit::visit_block(&mut finder, &item.block);
    finder.0
}

fn tokens_mention_self(tokens: proc_macro2::TokenStream) -> bool {
    tokens.into_iter().any(|tree| match tree {
        proc_macro2::TokenTree::Ident(ident) => ident == "Self",
        proc_macro2::TokenTree::Group(group) => tokens_mention_self(group.stream()),
        _ => false,
    })
}

/// The last segment of a type spelled as a path (`Json` of `axum::Json<T>`), with its
/// arguments.
pub(crate) fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ungrouped(ty) {
        Type::Path(path) if path.qself.is_none() => path.path.segments.last(),
        _ => None,
    }
}

/// The one type argument of a type spelled `Name<T>`, if its last segment is `name`.
pub(crate) fn argument_of<'t>(ty: &'t Type, name: &str) -> Option<&'t Type> {
    let segment = last_segment(ty).filter(|segment| segment.ident == name)?;
    let PathArguments::AngleBracketed(args) = &segment.arguments else {
        return None;
    };
    let mut types = args.args.iter().filter_map(|arg| match arg {
        GenericArgument::Type(ty) => Some(ty),
        _ => None,
    });
    match (types.next(), types.next()) {
        (Some(only), None) => Some(only),
        _ => None,
    }
}

/// Whether a type is spelled as a sequence of bytes (`Vec<u8>`, `[u8]`, `[u8; N]`, `Box<[u8]>`,
/// behind any references), which the fingerprint takes in one copy instead of a byte at a time.
pub(crate) fn is_byte_sequence(ty: &Type) -> bool {
    let is_u8 = |ty: &Type| matches!(ungrouped(ty), Type::Path(path) if path.qself.is_none() && path.path.is_ident("u8"));
    let is_slice = |ty: &Type| matches!(ungrouped(ty), Type::Slice(slice) if is_u8(&slice.elem));
    match ungrouped(ty) {
        Type::Reference(reference) => is_byte_sequence(&reference.elem),
        Type::Slice(slice) => is_u8(&slice.elem),
        Type::Array(array) => is_u8(&array.elem),
        ty => {
            argument_of(ty, "Vec").is_some_and(is_u8)
                || argument_of(ty, "Box").is_some_and(is_slice)
        }
    }
}

/// Whether a parameter's type is one that is never fingerprinted: axum's `State<..>`,
/// `Extension<..>` and `HeaderMap` (shared state and transport, not the request's content).
pub(crate) fn never_fingerprinted(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|segment| {
        ["State", "Extension", "HeaderMap"]
            .iter()
            .any(|name| segment.ident == name)
    })
}

/// Whether a token's type is spelled `IdempotencyKey` or `Option<IdempotencyKey>`: an HTTP
/// key, which makes the handler an HTTP handler.
pub(crate) fn is_http_key(ty: &Type) -> bool {
    let ty = argument_of(ty, "Option").unwrap_or(ty);
    last_segment(ty).is_some_and(|segment| segment.ident == "IdempotencyKey")
}

/// Whether a type mentions `impl Trait` anywhere.
pub(crate) fn mentions_impl_trait(ty: &Type) -> bool {
    struct Finder(bool);
    impl<'ast> syn::visit::Visit<'ast> for Finder {
        fn visit_type_impl_trait(&mut self, _: &'ast syn::TypeImplTrait) {
            self.0 = true;
        }
    }
    let mut finder = Finder(false);
    syn::visit::Visit::visit_type(&mut finder, ty);
    finder.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sequences_are_known_by_their_spelling() {
        let spelled = |text: &str| is_byte_sequence(&syn::parse_str::<Type>(text).expect("a type"));
        for bytes in [
            "Vec<u8>",
            "&[u8]",
            "&'a [u8]",
            "[u8; 32]",
            "&Vec<u8>",
            "Box<[u8]>",
            "std::vec::Vec<u8>",
        ] {
            assert!(spelled(bytes), "{bytes}");
        }
        for other in [
            "Vec<u16>",
            "&str",
            "String",
            "[u16]",
            "Vec<Vec<u8>>",
            "Box<u8>",
            "u8",
            "Bytes",
        ] {
            assert!(!spelled(other), "{other}");
        }
    }
    use syn::parse_quote;

    fn output(item: ItemFn) -> Output {
        Handler::analyse(item, false, &mut Errors::default()).output
    }

    #[test]
    fn result_spellings_are_fallible() {
        assert!(matches!(
            output(parse_quote!(
                fn f() -> Result<u8, E> {}
            )),
            Output::Fallible { err: Some(_), .. }
        ));
        assert!(matches!(
            output(parse_quote!(
                fn f() -> io::Result<u8> {}
            )),
            Output::Fallible { err: None, .. }
        ));
        assert!(matches!(
            output(parse_quote!(
                fn f() -> ::core::result::Result<u8, E> {}
            )),
            Output::Fallible { .. }
        ));
    }

    #[test]
    fn other_types_are_plain() {
        assert!(matches!(
            output(parse_quote!(
                fn f() {}
            )),
            Output::Plain(_)
        ));
        assert!(matches!(
            output(parse_quote!(
                fn f() -> Option<u8> {}
            )),
            Output::Plain(_)
        ));
        assert!(matches!(
            output(parse_quote!(
                fn f() -> fmt::Result {}
            )),
            Output::Plain(_)
        ));
        assert!(matches!(
            output(parse_quote!(
                fn f() -> MyResult<u8, E> {}
            )),
            Output::Plain(_)
        ));
    }

    #[test]
    fn options_are_recognised_by_spelling() {
        assert!(is_option(&parse_quote!(Option<String>)));
        assert!(is_option(&parse_quote!(std::option::Option<&str>)));
        assert!(!is_option(&parse_quote!(String)));
    }

    #[test]
    fn self_is_found_in_signature_body_and_macros_but_not_nested_items() {
        let mentions =
            |item: ItemFn| Handler::analyse(item, false, &mut Errors::default()).mentions_self;
        assert!(mentions(parse_quote!(
            fn f() -> Result<Self, E> {}
        )));
        assert!(mentions(parse_quote!(
            fn f() -> u8 {
                Self::X
            }
        )));
        assert!(mentions(parse_quote!(
            fn f() -> u8 {
                vec![Self::X][0]
            }
        )));
        assert!(!mentions(parse_quote!(
            fn f() -> u8 {
                struct A;
                impl A {
                    fn g() -> Self {
                        A
                    }
                }
                1
            }
        )));
        assert!(!mentions(parse_quote!(
            fn f(self_id: u8) -> u8 {
                self_id
            }
        )));
    }

    #[test]
    fn impl_trait_is_found_when_nested() {
        assert!(mentions_impl_trait(&parse_quote!(Vec<impl Serialize>)));
        assert!(!mentions_impl_trait(&parse_quote!(Vec<u8>)));
    }
}
