//! The error alias beside a free fn (`type CreateRouteTableError = IdempotencyError<E>`),
//! generic over the fn's own generic parameters that its error type mentions, so
//! `fn convert<E>(..) -> Result<u32, E>` gets `type ConvertError<E> = IdempotencyError<E>`.

use proc_macro2::{TokenStream, TokenTree};
use quote::quote;
use syn::{GenericParam, Ident, Visibility};

use crate::input::Handler;

/// The alias declaration, and the type the fn returns as its error (the alias, applied to the
/// generic parameters it needs).
pub(crate) fn declare(
    handler: &Handler,
    name: &Ident,
    vis: &Visibility,
    error: &TokenStream,
) -> (TokenStream, TokenStream) {
    let mentioned = idents(error);
    let params: Vec<&GenericParam> = handler
        .item
        .sig
        .generics
        .params
        .iter()
        .filter(|param| mentioned.contains(param_ident(param)))
        .collect();
    let declared = params.iter().map(|param| bare(param));
    let applied = params.iter().map(|param| applied(param));
    let doc = format!(
        "The error `{}` returns: `IdempotencyError` over the handler's own error.",
        handler.ident()
    );
    let (declared, applied) = if params.is_empty() {
        (TokenStream::new(), TokenStream::new())
    } else {
        (quote!(<#(#declared),*>), quote!(<#(#applied),*>))
    };
    (
        quote!(#[doc = #doc] #vis type #name #declared = #error;),
        quote!(#name #applied),
    )
}

fn param_ident(param: &GenericParam) -> &Ident {
    match param {
        GenericParam::Lifetime(lifetime) => &lifetime.lifetime.ident,
        GenericParam::Type(ty) => &ty.ident,
        GenericParam::Const(constant) => &constant.ident,
    }
}

/// The parameter as a type alias declares it: no bounds (an alias does not enforce them).
fn bare(param: &GenericParam) -> TokenStream {
    match param {
        GenericParam::Const(constant) => {
            let (ident, ty) = (&constant.ident, &constant.ty);
            quote!(const #ident: #ty)
        }
        other => applied(other),
    }
}

/// The parameter as an argument.
fn applied(param: &GenericParam) -> TokenStream {
    match param {
        GenericParam::Lifetime(lifetime) => {
            let lifetime = &lifetime.lifetime;
            quote!(#lifetime)
        }
        other => {
            let ident = param_ident(other);
            quote!(#ident)
        }
    }
}

/// Every identifier in `tokens`, lifetimes' included.
fn idents(tokens: &TokenStream) -> Vec<Ident> {
    let mut found = Vec::new();
    for tree in tokens.clone() {
        match tree {
            TokenTree::Ident(ident) => found.push(ident),
            TokenTree::Group(group) => found.extend(idents(&group.stream())),
            TokenTree::Punct(_) | TokenTree::Literal(_) => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::Errors;
    use syn::parse_quote;

    fn declared(item: syn::ItemFn, error: TokenStream) -> (String, String) {
        let handler = Handler::analyse(item, false, &mut Errors::default());
        let name: Ident = parse_quote!(LoadError);
        let (alias, returned) = declare(&handler, &name, &parse_quote!(pub), &error);
        (alias.to_string(), returned.to_string())
    }

    #[test]
    fn an_alias_takes_only_the_generics_its_error_mentions() {
        let (alias, returned) = declared(
            parse_quote!(
                fn load<'a, T: Clone, E: From<u8>, const N: usize>(t: &'a T) -> Result<T, E> {}
            ),
            quote!(IdempotencyError<E>),
        );
        assert!(
            alias.contains("pub type LoadError < E > = IdempotencyError < E > ;"),
            "{alias}"
        );
        assert_eq!(returned, "LoadError < E >");
    }

    #[test]
    fn a_concrete_error_makes_a_plain_alias() {
        let (alias, returned) = declared(
            parse_quote!(
                fn load<T>(t: T) -> Result<T, ApiError> {}
            ),
            quote!(IdempotencyError<ApiError>),
        );
        assert!(alias.contains("pub type LoadError = "), "{alias}");
        assert_eq!(returned, "LoadError");
    }
}
