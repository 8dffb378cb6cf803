//! The operation a handler's tokens belong to: `name = "..."`, or by default where the handler
//! is, so that no two handlers share one.
//!
//! The name is the module path, `Self` for methods and the fn's name, as in the first release,
//! so those keys are unchanged. Where that is not enough, the compiler says more: a marker type
//! declared in the fn that holds the call, spelled by `core::any::type_name`, names the impl
//! (with its trait) of a trait method and the enclosing fn of a nested fn (the runtime keeps
//! it only then), and the fn's own type and const arguments tell `scale::<3>` from
//! `scale::<4>`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::GenericParam;

use crate::input::Handler;

/// The `Operation` expression.
pub(crate) fn expression(
    handler: &Handler,
    named: Option<&syn::LitStr>,
    is_method: bool,
    holder: &syn::Ident,
    private: &TokenStream,
) -> TokenStream {
    if let Some(name) = named {
        return quote!(#private::Operation::Named(#name));
    }
    let function = unraw(&handler.ident().to_string());
    let marker = format_ident!("__IdempotentSite", span = Span::mixed_site());
    let suffix = format!("::{}::{marker}", unraw(&holder.to_string()));
    let self_ty = if is_method {
        quote!(::core::option::Option::Some(#private::type_name::<Self>()))
    } else {
        quote!(::core::option::Option::None)
    };
    let generics = generics(handler, private);
    // No `let`: a binding would clash with a user's constant of the same name.
    quote!({
        struct #marker;
        #private::Operation::Path {
            module: ::core::module_path!(),
            self_ty: #self_ty,
            function: #function,
            generics: #generics,
            site: #private::site(
                #private::type_name::<#marker>(),
                #suffix,
                ::core::module_path!(),
                #self_ty,
            ),
        }
    })
}

/// `Some(type_name::<fn(&T, consts::Usize<N>)>())` over the fn's own type and const
/// parameters.
fn generics(handler: &Handler, private: &TokenStream) -> TokenStream {
    let parts: Vec<TokenStream> = handler
        .item
        .sig
        .generics
        .params
        .iter()
        .filter_map(|param| match param {
            GenericParam::Type(ty) => {
                let ident = &ty.ident;
                Some(quote!(&#ident))
            }
            GenericParam::Const(constant) => {
                // A const argument shows in `type_name` as an argument of a type; the runtime
                // has one such type per primitive type a const may have.
                let (ident, kind) = (&constant.ident, const_kind(&constant.ty)?);
                Some(quote!(#private::consts::#kind<#ident>))
            }
            GenericParam::Lifetime(_) => None,
        })
        .collect();
    if parts.is_empty() {
        return quote!(::core::option::Option::None);
    }
    quote!(::core::option::Option::Some(#private::type_name::<fn(#(#parts),*)>()))
}

/// The runtime's `consts` type for a const parameter's type; `None` for a type spelled
/// otherwise (validation has refused it).
pub(crate) fn const_kind(ty: &syn::Type) -> Option<syn::Ident> {
    const KINDS: [(&str, &str); 14] = [
        ("u8", "U8"),
        ("u16", "U16"),
        ("u32", "U32"),
        ("u64", "U64"),
        ("u128", "U128"),
        ("usize", "Usize"),
        ("i8", "I8"),
        ("i16", "I16"),
        ("i32", "I32"),
        ("i64", "I64"),
        ("i128", "I128"),
        ("isize", "Isize"),
        ("bool", "Bool"),
        ("char", "Char"),
    ];
    let syn::Type::Path(path) = crate::input::ungrouped(ty) else {
        return None;
    };
    let ident = path.path.get_ident()?;
    KINDS
        .iter()
        .find(|(spelled, _)| ident == spelled)
        .map(|(_, kind)| format_ident!("{kind}"))
}

fn unraw(name: &str) -> String {
    name.trim_start_matches("r#").to_owned()
}
