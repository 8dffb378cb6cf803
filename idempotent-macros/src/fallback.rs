//! What the attribute emits when it reports a mistake: the handler with the signature it would
//! have had (and its error alias), and a body that is never run, as thiserror does. rustc stops
//! at the attribute's errors; tools that read on (rust-analyzer) then check callers against
//! the real signature, not against the unwrapped one, and show no cascade where it is called.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};

use crate::alias;
use crate::args::Args;
use crate::crate_path::runtime_path;
use crate::errors::{with_item, Errors};
use crate::expand::{error_type, ok_type, wrapped_output};
use crate::input::{mentions_impl_trait, Handler};
use crate::validate::{alias_name, in_impl};

/// The errors, after the handler as it would have been.
pub(crate) fn emit(error: syn::Error, args: &Args, handler: &Handler) -> TokenStream {
    let item = &handler.item;
    // An `impl Trait` output cannot be named by a body that never returns; keep the fn as
    // written then.
    if mentions_impl_trait(handler.output.written()) {
        return with_item(error, item.to_token_stream());
    }
    let krate = runtime_path(args.krate.as_ref().map(|set| &set.value));
    let ok = ok_type(handler, &krate);
    let error_ty = error_type(handler, &krate);
    let in_impl = in_impl(args, handler);
    // Its mistakes, if any, are among those already reported.
    let alias = (!in_impl)
        .then(|| alias_name(args, handler, &mut Errors::default()))
        .flatten();
    let (alias, error_ty) = match alias {
        Some(name) => alias::declare(handler, &name, &item.vis, &error_ty),
        None => (TokenStream::new(), error_ty),
    };
    let mut sig = item.sig.clone();
    sig.output = wrapped_output(handler, &ok, &error_ty);
    let (attrs, vis) = (&item.attrs, &item.vis);
    let errors = error.to_compile_error();
    // The parameters go unused in a body that is never run; that is no news to the user.
    quote! {
        #alias
        #(#attrs)*
        #[allow(unused_variables)]
        #vis #sig {
            ::core::unreachable!("#[idempotent] reported an error for this handler")
        }
        #errors
    }
}
