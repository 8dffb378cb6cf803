//! Checks the options against the handler and resolves them into a plan for the expansion.

use proc_macro2::Span;
use syn::{Ident, LitStr};

use crate::args::Args;
use crate::errors::Errors;
use crate::input::{is_option, mentions_impl_trait, Handler, Output, Param};

/// What the expansion needs, every name resolved to its parameter.
pub(crate) struct Plan<'a> {
    pub(crate) token: &'a Param,
    pub(crate) token_is_option: bool,
    pub(crate) scope: Option<&'a Param>,
    /// Parameters to fingerprint, sorted by name.
    pub(crate) fingerprinted: Vec<&'a Param>,
    /// The error alias to declare beside a free fn; `None` for methods.
    pub(crate) alias: Option<Ident>,
}

/// Validates `args` against `handler`, recording every mistake.
pub(crate) fn plan<'a>(args: &Args, handler: &'a Handler, errors: &mut Errors) -> Option<Plan<'a>> {
    let in_impl = handler.has_receiver || args.in_impl.is_some();
    check_options(args, handler, in_impl, errors);
    let token = resolve_token(args, handler, errors);
    let scope = args
        .scope
        .as_ref()
        .and_then(|scope| resolve(&scope.value, "scope", handler, errors));
    let skipped = resolve_skips(args, handler, errors);
    let keyed: Vec<&Ident> = token
        .iter()
        .chain(&scope)
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
        .filter(|param| !keyed.contains(&&param.ident) && !skipped.contains(&&param.ident))
        .collect();
    fingerprinted.sort_by_key(|param| param.ident.to_string());
    for param in &fingerprinted {
        if mentions_impl_trait(&param.ty) {
            errors.spanned(&param.ty, format!("`{}` has an `impl Trait` type, which cannot be fingerprinted; give it a concrete type, or leave it out with skip({})", param.ident, param.ident));
        }
    }
    let alias = if in_impl {
        None
    } else {
        alias_name(args, handler, errors)
    };
    let token = token?;
    Some(Plan {
        token,
        token_is_option: is_option(&token.ty),
        scope,
        fingerprinted,
        alias,
    })
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
        None => {
            errors.push(syn::Error::new(
                Span::call_site(),
                "#[idempotent] needs `token`: name the parameter holding the client token, as in #[idempotent(token = \"client_token\")]",
            ));
            None
        }
    }
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
fn alias_name(args: &Args, handler: &Handler, errors: &mut Errors) -> Option<Ident> {
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
