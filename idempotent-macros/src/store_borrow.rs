//! Whether the store expression can be borrowed for the call, or must be cloned first.
//!
//! The generated code hands the runtime a reference to the store beside a `move` closure (or
//! `async move` block) holding the body. A reference into a variable the body moves or
//! borrows mutably would not compile, so such a store is cloned first. A clone is not free: a
//! store is a handle to shared state (an `Arc` inside), and every call of every thread writing
//! the one reference count makes the cores fight over its cache line. So the store is borrowed
//! whenever the expression names only `&self` and parameters of a shared reference type, which
//! the body can only copy; anything else is cloned, as before.

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::{Expr, FnArg, Pat, Signature, Type};

/// Whether `store`, evaluated before the body runs, may be borrowed across it.
pub(crate) fn can_borrow(sig: &Signature, store: &Expr) -> bool {
    let named = idents(store.to_token_stream());
    sig.inputs.iter().all(|input| match input {
        FnArg::Receiver(receiver) => {
            !named.iter().any(|ident| ident == "self")
                || (receiver.colon_token.is_none()
                    && receiver.reference.is_some()
                    && receiver.mutability.is_none())
        }
        FnArg::Typed(typed) => {
            let shared_reference = matches!(
                &*typed.ty,
                Type::Reference(reference) if reference.mutability.is_none()
            );
            shared_reference || !binds_any(&typed.pat, &named)
        }
    })
}

/// Every identifier in `tokens`, nested groups included.
fn idents(tokens: TokenStream) -> Vec<String> {
    let mut found = Vec::new();
    for tree in tokens {
        match tree {
            TokenTree::Ident(ident) => found.push(ident.to_string()),
            TokenTree::Group(group) => found.extend(idents(group.stream())),
            TokenTree::Punct(_) | TokenTree::Literal(_) => {}
        }
    }
    found
}

/// Whether the pattern binds any of `names` (read from its tokens: a pattern's paths and
/// field names may match too, which only errs towards a clone).
fn binds_any(pat: &Pat, names: &[String]) -> bool {
    idents(pat.to_token_stream())
        .iter()
        .any(|ident| names.contains(ident))
}
