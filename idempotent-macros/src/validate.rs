//! Checks the options against the handler and resolves them into a plan for the expansion.

use std::time::Duration;

use proc_macro2::{Span, TokenStream};
use syn::spanned::Spanned;
use syn::{Expr, Ident, LitStr, Type};

use crate::args::{Args, Set};
use crate::crate_path::runtime_path;
use crate::errors::Errors;
use crate::input::{
    is_http_key, is_option, mentions_impl_trait, never_fingerprinted, ungrouped, Handler, Output,
    Param,
};

/// Everything the expansion needs, resolved: it reads the plan, never the raw options.
pub(crate) struct Plan<'a> {
    pub(crate) handler: &'a Handler,
    /// The path generated code uses to reach the runtime.
    pub(crate) krate: TokenStream,
    /// A method or associated fn: `Self` exists, no alias can be declared beside it.
    pub(crate) in_impl: bool,
    pub(crate) token: &'a Param,
    pub(crate) token_is_option: bool,
    pub(crate) scope: Option<&'a Param>,
    /// `tx = "..."`: the parameter holding the caller's open transaction, which the record is
    /// written in (never fingerprinted).
    pub(crate) tx: Option<&'a Param>,
    /// Parameters to fingerprint, sorted by name.
    pub(crate) fingerprinted: Vec<&'a Param>,
    /// The error alias to declare beside a free fn; `None` for methods.
    pub(crate) alias: Option<Ident>,
    /// The store expression; `None`: the process-wide default store.
    pub(crate) store: Option<&'a Expr>,
    /// The store expression may be borrowed across the body rather than cloned.
    pub(crate) borrow_store: bool,
    /// Where the user wrote the store expression (the attribute, if it has none).
    pub(crate) store_span: Span,
    /// `name = "..."`, else the default operation name is used.
    pub(crate) name: Option<&'a LitStr>,
    /// The options the attribute sets; the runtime's defaults cover the rest.
    pub(crate) settings: Settings,
    /// `cache_errors`: an `Err` is recorded and replayed too.
    pub(crate) cache_errors: bool,
    /// The token is an `IdempotencyKey`: an HTTP handler, which answers `Outcome<T>` (so a
    /// replay is marked in the response) and has no companion.
    pub(crate) http: bool,
}

/// The options that become fields of the runtime's `Options`.
pub(crate) struct Settings {
    pub(crate) ttl_ms: Option<u64>,
    pub(crate) lease_ms: Option<u64>,
    /// `concurrent = "wait"` (true) or `"reject"` (false).
    pub(crate) wait: Option<bool>,
    pub(crate) heartbeat: Option<bool>,
}

impl Plan<'_> {
    /// Whether `ty` names one of the fn's own type parameters, so a missing bound is best
    /// reported as the bound to add.
    pub(crate) fn is_generic(&self, ty: &Type) -> bool {
        let params = type_params(self.handler);
        mentions_any(ty, &params)
    }
}

/// Whether the handler is inside an impl (or a trait): it has a receiver, says `in_impl`, or
/// names `Self` in its signature or body, which only an impl's fns can.
pub(crate) fn in_impl(args: &Args, handler: &Handler) -> bool {
    handler.has_receiver || args.in_impl.is_some() || handler.mentions_self
}

/// Validates `args` against `handler`, recording every mistake.
pub(crate) fn plan<'a>(
    args: &'a Args,
    handler: &'a Handler,
    errors: &mut Errors,
) -> Option<Plan<'a>> {
    let in_impl = in_impl(args, handler);
    check_options(args, handler, in_impl, errors);
    check_output(args, handler, errors);
    let token = resolve_token(args, handler, errors);
    let scope = args
        .scope
        .as_ref()
        .and_then(|scope| resolve(&scope.value, "scope", handler, errors));
    let skipped = resolve_skips(args, handler, errors);
    let tx = resolve_tx(args, handler, errors);
    let keyed: Vec<&Ident> = token
        .iter()
        .chain(&scope)
        .chain(&tx)
        .map(|param| &param.ident)
        .collect();
    if let (Some(token), Some(scope)) = (token, scope) {
        if token.ident == scope.ident {
            errors.spanned(&args.scope.as_ref()?.value, "`scope` and `token` name the same parameter; the scope is another parameter, such as the account or tenant");
        }
    }
    let mut fingerprinted: Vec<&Param> = handler
        .params
        .iter()
        .filter(|param| {
            !keyed.contains(&&param.ident)
                && !skipped.contains(&&param.ident)
                && !never_fingerprinted(&param.ty)
        })
        .collect();
    fingerprinted.sort_by_key(|param| param.ident.to_string());
    for param in fingerprinted.iter().chain(&scope) {
        check_fingerprinted(param, handler, errors);
    }
    let alias = if in_impl {
        None
    } else {
        alias_name(args, handler, errors)
    };
    let token = token?;
    let millis = |set: &Set<Duration>| u64::try_from(set.value.as_millis()).unwrap_or(u64::MAX);
    Some(Plan {
        handler,
        krate: runtime_path(args.krate.as_ref().map(|set| &set.value)),
        in_impl,
        token,
        token_is_option: is_option(&token.ty),
        scope,
        tx,
        fingerprinted,
        alias,
        store: args.store.as_ref().map(|set| &set.value),
        borrow_store: args
            .store
            .as_ref()
            .is_some_and(|set| crate::store_borrow::can_borrow(&handler.item.sig, &set.value)),
        store_span: args
            .store
            .as_ref()
            .map_or_else(Span::call_site, |set| set.value.span()),
        name: args.name.as_ref().map(|set| &set.value),
        settings: Settings {
            ttl_ms: args.ttl.as_ref().map(millis),
            lease_ms: args.lease.as_ref().map(millis),
            wait: args.wait.as_ref().map(|set| set.value),
            heartbeat: args.heartbeat.as_ref().map(|set| set.value),
        },
        cache_errors: args.cache_errors.is_some(),
        http: is_http_key(&token.ty),
    })
}

/// A fingerprinted parameter of a bare generic type needs a `Serialize` bound, and an
/// `impl Trait` cannot be fingerprinted at all.
fn check_fingerprinted(param: &Param, handler: &Handler, errors: &mut Errors) {
    let name = &param.ident;
    if mentions_impl_trait(&param.ty) {
        errors.spanned(&param.ty, format!("`{name}` has an `impl Trait` type, which cannot be fingerprinted; give it a concrete type, or leave it out with skip({name})"));
    } else if let Some(generic) = unbounded_generic(&param.ty, handler) {
        errors.spanned(&param.ty, format!("`{name}` is fingerprinted, so its type `{generic}` must be serde: write `{generic}: serde::Serialize` among the fn's generics, or leave it out with skip({name})"));
    }
}

/// The output is recorded and decoded on a replay: it must own its data, and a bare generic
/// type needs serde bounds.
fn check_output(args: &Args, handler: &Handler, errors: &mut Errors) {
    let mut replayed: Vec<(&Type, &str)> = handler
        .output
        .ok()
        .map(|ok| (ok, "output"))
        .into_iter()
        .collect();
    if let (Some(_), Output::Fallible { err: Some(err), .. }) =
        (&args.cache_errors, &handler.output)
    {
        replayed.push((err, "error (under `cache_errors`)"));
    }
    for (ty, what) in replayed {
        if let Some(reference) = borrowed(ty) {
            errors.spanned(reference, format!("the {what} is decoded from the store on a replay, so it cannot borrow; return an owned type such as `String` or `Vec<T>`"));
        } else if let Some(generic) = unbounded_generic(ty, handler) {
            errors.spanned(ty, format!("the {what} is recorded and replayed, so `{generic}` must be serde: write `{generic}: serde::Serialize + serde::de::DeserializeOwned` among the fn's generics"));
        }
    }
}

/// The first reference (`&T`) anywhere in `ty`.
fn borrowed(ty: &Type) -> Option<&syn::TypeReference> {
    struct Finder<'ast>(Option<&'ast syn::TypeReference>);
    impl<'ast> syn::visit::Visit<'ast> for Finder<'ast> {
        fn visit_type_reference(&mut self, reference: &'ast syn::TypeReference) {
            self.0.get_or_insert(reference);
        }
        // A fn pointer's parameters are not data the output holds.
        fn visit_type_bare_fn(&mut self, _: &'ast syn::TypeBareFn) {}
    }
    let mut finder = Finder(None);
    syn::visit::Visit::visit_type(&mut finder, ty);
    finder.0
}

/// The fn's type parameter that `ty` is (or borrows), when that parameter has no bound at
/// all: then it can be serde in no instance, and the bound to add is certain.
fn unbounded_generic<'a>(ty: &Type, handler: &'a Handler) -> Option<&'a Ident> {
    let ty = match ungrouped(ty) {
        Type::Reference(reference) => ungrouped(&reference.elem),
        other => other,
    };
    let Type::Path(path) = ty else {
        return None;
    };
    let ident = path.path.get_ident()?;
    let generics = &handler.item.sig.generics;
    let param = generics.type_params().find(|param| param.ident == *ident)?;
    let bounded_in_where = generics.where_clause.iter().flat_map(|clause| &clause.predicates).any(|predicate| {
        matches!(predicate, syn::WherePredicate::Type(bound) if matches!(ungrouped(&bound.bounded_ty), Type::Path(bounded) if bounded.path.is_ident(ident)))
    });
    (param.bounds.is_empty() && !bounded_in_where).then_some(&param.ident)
}

/// The fn's own type parameters.
fn type_params(handler: &Handler) -> Vec<&Ident> {
    handler
        .item
        .sig
        .generics
        .type_params()
        .map(|param| &param.ident)
        .collect()
}

/// Whether `ty` mentions any of `idents` as a path segment.
fn mentions_any(ty: &Type, idents: &[&Ident]) -> bool {
    struct Finder<'i>(&'i [&'i Ident], bool);
    impl<'ast> syn::visit::Visit<'ast> for Finder<'_> {
        fn visit_path_segment(&mut self, segment: &'ast syn::PathSegment) {
            self.1 |= self.0.iter().any(|ident| segment.ident == **ident);
            syn::visit::visit_path_segment(self, segment);
        }
    }
    if idents.is_empty() {
        return false;
    }
    let mut finder = Finder(idents, false);
    syn::visit::Visit::visit_type(&mut finder, ty);
    finder.1
}

fn check_options(args: &Args, handler: &Handler, in_impl: bool, errors: &mut Errors) {
    if let (true, Some(error)) = (in_impl, &args.error) {
        errors.spanned(&error.value, "`error` declares a type alias, which cannot live inside an impl; declare it at module level instead: `pub type CreateError = idempotent_runtime::IdempotencyError<YourError>;`");
    }
    if let Some(error) = &args.error {
        if syn::parse_str::<Ident>(&error.value.value()).is_err() {
            errors.spanned(
                &error.value,
                "`error` takes a type name, such as error = \"CreateRouteTableError\"",
            );
        }
    }
    if let (Output::Plain(_), Some(flag)) = (&handler.output, &args.cache_errors) {
        errors.push(syn::Error::new(flag.span, "`cache_errors` needs a handler returning `Result<T, E>`; this one cannot fail, so remove it"));
    }
    if let Some(constness) = &handler.item.sig.constness {
        errors.spanned(
            constness,
            "#[idempotent] cannot wrap a `const fn`: it calls a store at run time; remove `const`",
        );
    }
    if let Some(abi) = &handler.item.sig.abi {
        errors.spanned(abi, "#[idempotent] cannot wrap an `extern` fn: its return type becomes a Rust `Result`, which a foreign caller cannot read; wrap a Rust fn and call it from the `extern` one");
    }
    check_fallible(args, handler, errors);
    if args.name.is_none() {
        for param in &handler.item.sig.generics.params {
            if let syn::GenericParam::Const(constant) = param {
                if crate::operation::const_kind(&constant.ty).is_none() {
                    errors.spanned(&constant.ty, format!("the default operation name holds const arguments of primitive types only; give the operation a name: name = \"{}\"", pascal_case(&handler.ident().to_string())));
                }
            }
        }
    }
}

fn check_fallible(args: &Args, handler: &Handler, errors: &mut Errors) {
    let Some(flag) = &args.fallible else {
        return;
    };
    match (&handler.item.sig.output, &handler.output) {
        (syn::ReturnType::Default, _) => errors.push(syn::Error::new(
            flag.span,
            "`fallible` marks a return type that is a `Result` under another name; this handler returns nothing, so remove it",
        )),
        (_, Output::Fallible { ok: Some(_), .. }) => errors.push(syn::Error::new(
            flag.span,
            "the return type is already spelled `Result`, so `fallible` is not needed; remove it",
        )),
        _ => {}
    }
}

fn resolve_token<'a>(args: &Args, handler: &'a Handler, errors: &mut Errors) -> Option<&'a Param> {
    match &args.token {
        Some(token) => resolve(&token.value, "token", handler, errors),
        None if args.refused.iter().any(|option| option == "token") => None,
        None => {
            errors.push(syn::Error::new(
                Span::call_site(),
                "#[idempotent] needs `token`: name the parameter holding the client token, as in #[idempotent(token = \"client_token\")]",
            ));
            None
        }
    }
}

/// The parameter `tx = "..."` names: beside a store, and not the token.
fn resolve_tx<'a>(args: &'a Args, handler: &'a Handler, errors: &mut Errors) -> Option<&'a Param> {
    let set = args.tx.as_ref()?;
    let tx = resolve(&set.value, "tx", handler, errors)?;
    let example = if handler.is_async() {
        "`tx: &tokio_postgres::Transaction<'_>` with a `PostgresStore`"
    } else {
        "`tx: &rusqlite::Transaction<'_>` with a `SqliteStore`"
    };
    if args.store.is_none() {
        errors.spanned(&set.value, format!("`tx` needs `store = ...`: the store whose database the transaction is on, as in {example}"));
    } else if args
        .token
        .as_ref()
        .is_some_and(|token| token.value.value() == set.value.value())
    {
        errors.spanned(&set.value, format!("`tx` and `token` name the same parameter; `tx` is the open transaction, such as {example}"));
    }
    Some(tx)
}

/// The parameter a `token = "..."` or `scope = "..."` option names.
fn resolve<'a>(
    name: &LitStr,
    option: &str,
    handler: &'a Handler,
    errors: &mut Errors,
) -> Option<&'a Param> {
    let wanted = name.value();
    if wanted == "self" {
        errors.spanned(
            name,
            format!(
                "`{option}` cannot be `self`; name a parameter of `{}`",
                handler.ident()
            ),
        );
        return None;
    }
    let found = handler.param(&wanted);
    if found.is_none() {
        errors.spanned(
            name,
            format!(
                "`{option}` names no parameter of `{}`: {}",
                handler.ident(),
                known_params(handler)
            ),
        );
    }
    found
}

fn resolve_skips<'a>(args: &'a Args, handler: &Handler, errors: &mut Errors) -> Vec<&'a Ident> {
    let Some(skip) = &args.skip else {
        return Vec::new();
    };
    let keyed = [&args.token, &args.scope];
    let mut skipped: Vec<&Ident> = Vec::new();
    for ident in &skip.value {
        if ident == "self" {
            errors.spanned(
                ident,
                "`self` is never fingerprinted; remove it from skip(..)",
            );
        } else if keyed.iter().any(|option| {
            option
                .as_ref()
                .is_some_and(|set| *ident == set.value.value())
        }) {
            errors.spanned(ident, format!("`{ident}` is part of the key (token or scope), which is never fingerprinted; remove it from skip(..)"));
        } else if handler.param(&ident.to_string()).is_none() {
            errors.spanned(
                ident,
                format!(
                    "skip(..) names no parameter of `{}`: {}",
                    handler.ident(),
                    known_params(handler)
                ),
            );
        } else if skipped.contains(&ident) {
            errors.spanned(ident, format!("`{ident}` is skipped twice; list it once"));
        } else {
            skipped.push(ident);
        }
    }
    skipped
}

fn known_params(handler: &Handler) -> String {
    if handler.params.is_empty() {
        return "it has no named parameters".to_owned();
    }
    let names: Vec<String> = handler
        .params
        .iter()
        .map(|param| format!("`{}`", param.ident))
        .collect();
    format!("the parameters are {}", names.join(", "))
}

/// `error = "Name"`, else `{FnNameInPascalCase}Error`; a fn whose name makes no identifier
/// that way (`_0id` gives `0idError`) must name its alias.
pub(crate) fn alias_name(args: &Args, handler: &Handler, errors: &mut Errors) -> Option<Ident> {
    let span = handler.ident().span();
    let given = args
        .error
        .as_ref()
        .and_then(|error| syn::parse_str::<Ident>(&error.value.value()).ok());
    if let Some(ident) = given {
        return Some(Ident::new(&ident.to_string(), span));
    }
    let name = format!("{}Error", pascal_case(&handler.ident().to_string()));
    if syn::parse_str::<Ident>(&name).is_ok() {
        return Some(Ident::new(&name, span));
    }
    errors.spanned(
        handler.ident(),
        format!("the error alias cannot be named after this fn (`{name}` is not an identifier); name it: error = \"CreateError\""),
    );
    None
}

/// `create_route_table` -> `CreateRouteTable`.
pub(crate) fn pascal_case(snake: &str) -> String {
    snake
        .trim_start_matches("r#")
        .split('_')
        .filter(|word| !word.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn check(
        args: proc_macro2::TokenStream,
        item: syn::ItemFn,
    ) -> Result<Vec<String>, Vec<String>> {
        let mut errors = Errors::default();
        let args = Args::parse(args, &mut errors);
        let handler = Handler::analyse(item, args.fallible.is_some(), &mut errors);
        let plan = plan(&args, &handler, &mut errors);
        match errors.finish() {
            Err(err) => Err(err.into_iter().map(|e| e.to_string()).collect()),
            Ok(()) => Ok(plan
                .map(|plan| {
                    plan.fingerprinted
                        .iter()
                        .map(|p| p.ident.to_string())
                        .collect()
                })
                .unwrap_or_default()),
        }
    }

    #[test]
    fn pascal_case_joins_words() {
        assert_eq!(pascal_case("create_route_table"), "CreateRouteTable");
        assert_eq!(pascal_case("r#type"), "Type");
        assert_eq!(pascal_case("_private__thing"), "PrivateThing");
    }

    #[test]
    fn fingerprinted_params_exclude_key_and_skips_and_are_sorted() {
        let fingerprinted = check(
            quote::quote!(token = "t", scope = "account", skip(pool)),
            parse_quote!(
                fn f(zone: u8, t: String, account: String, pool: u8, az: u8) {}
            ),
        );
        assert_eq!(
            fingerprinted,
            Ok(vec!["az".to_string(), "zone".to_string()])
        );
    }

    #[test]
    fn every_mistake_is_reported() {
        let err = check(
            quote::quote!(token = "nope", skip(self, ghost), colour = "red"),
            parse_quote!(
                fn f(&self, a: u8) {}
            ),
        )
        .unwrap_err();
        for expected in [
            "unknown option `colour`",
            "`token` names no parameter",
            "`self` is never fingerprinted",
            "skip(..) names no parameter",
        ] {
            assert!(
                err.iter().any(|e| e.contains(expected)),
                "{expected} missing from {err:?}"
            );
        }
    }
}
