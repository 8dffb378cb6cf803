//! The `{fn}_with_outcome` companion: the same handler, answering `Outcome<T>` so a caller
//! can tell a replay (Stripe's `Idempotent-Replayed`) without the handler's signature changing.
//!
//! The companion holds the generated logic and the handler delegates to it. It is emitted for
//! free fns, and for methods with an explicit visibility: a trait-impl method can never have
//! one, so a visibility qualifier proves the method is inherent and a new method may stand
//! beside it. (Write `pub(self)` on a private method to get its companion.)

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Attribute, FnArg, GenericParam, Ident, Pat, Signature, Visibility};

use crate::input::Handler;

/// Whether a companion can be emitted beside this handler.
/// `in_impl`: the plan's answer (a receiver, `in_impl` or `Self` named).
pub(crate) fn wanted(handler: &Handler, in_impl: bool) -> bool {
    !in_impl || !matches!(handler.item.vis, Visibility::Inherited)
}

/// The companion's name: `{fn}_with_outcome`.
pub(crate) fn name(handler: &Handler) -> Ident {
    let base = handler.ident().to_string();
    format_ident!(
        "{}_with_outcome",
        base.trim_start_matches("r#"),
        span = handler.ident().span()
    )
}

/// The companion's signature: the handler's, renamed, answering `Outcome<T>`.
pub(crate) fn signature(handler: &Handler, output: TokenStream) -> Signature {
    let mut sig = handler.item.sig.clone();
    sig.ident = name(handler);
    sig.output = syn::parse_quote!(-> #output);
    sig
}

/// Its doc line, linking back to the handler.
pub(crate) fn doc(handler: &Handler, in_impl: bool) -> String {
    let target = if in_impl {
        format!("Self::{}", handler.ident())
    } else {
        handler.ident().to_string()
    };
    format!(
        "Like [`{}`]({target}), and also tells whether the result was replayed from an earlier call \
         (see `idempotent_runtime::Outcome`).",
        handler.ident()
    )
}

/// The handler's body: call the companion with every argument and drop the outcome flag.
pub(crate) fn delegate(handler: &Handler, in_impl: bool, private: &TokenStream) -> TokenStream {
    let companion = name(handler);
    let args = handler.params.iter().map(|param| {
        let (cfgs, ident) = (&param.cfgs, &param.ident);
        match &param.wrapper {
            Some(wrapper) => quote!(#(#cfgs)* #wrapper(#ident)),
            None => quote!(#(#cfgs)* #ident),
        }
    });
    // Type and const parameters by name; lifetimes are left to inference.
    let generics: Vec<&Ident> = handler
        .item
        .sig
        .generics
        .params
        .iter()
        .filter_map(|param| match param {
            GenericParam::Type(ty) => Some(&ty.ident),
            GenericParam::Const(constant) => Some(&constant.ident),
            GenericParam::Lifetime(_) => None,
        })
        .collect();
    let turbofish = (!generics.is_empty()).then(|| quote!(::<#(#generics),*>));
    let callee = if handler.has_receiver {
        quote!(self.#companion #turbofish)
    } else if in_impl {
        quote!(Self::#companion #turbofish)
    } else {
        quote!(#companion #turbofish)
    };
    let call = quote!(#callee(#(#args),*));
    let call = if handler.is_async() {
        quote!(#call.await)
    } else {
        call
    };
    quote!(::core::result::Result::map(#call, #private::Outcome::into_inner))
}

/// The handler's lint attributes (`allow`, `expect`, `warn`, `deny`, `forbid`), which must
/// keep covering the body, and the body is in the companion.
pub(crate) fn lints(handler: &Handler) -> Vec<&Attribute> {
    const LINTS: [&str; 5] = ["allow", "expect", "warn", "deny", "forbid"];
    handler
        .item
        .attrs
        .iter()
        .filter(|attr| LINTS.iter().any(|lint| attr.path().is_ident(lint)))
        .collect()
}

/// Drops `mut` and `ref` from the parameter patterns of a fn that only passes its arguments
/// on (they would warn there, and `ref` would pass a reference).
pub(crate) fn plain_patterns(sig: &mut Signature) {
    for input in &mut sig.inputs {
        match input {
            // `mut self`, not `&mut self`.
            FnArg::Receiver(receiver) if receiver.reference.is_none() => {
                receiver.mutability = None;
            }
            FnArg::Typed(typed) => {
                let pat = match &mut *typed.pat {
                    Pat::TupleStruct(tuple) => tuple.elems.first_mut(),
                    other => Some(other),
                };
                if let Some(Pat::Ident(pat)) = pat {
                    pat.by_ref = None;
                    pat.mutability = None;
                }
            }
            FnArg::Receiver(_) => {}
        }
    }
}
