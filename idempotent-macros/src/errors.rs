//! Collects every mistake in one attribute so the user sees them all at once.

use proc_macro2::TokenStream;
use std::fmt::Display;

/// An error collector in the manner of serde_derive's `Ctxt`.
#[derive(Default)]
pub(crate) struct Errors {
    errors: Vec<syn::Error>,
}

impl Errors {
    /// Records an error spanned on `tokens`.
    pub(crate) fn spanned(&mut self, tokens: impl quote::ToTokens, message: impl Display) {
        self.errors.push(syn::Error::new_spanned(tokens, message));
    }

    /// Records an error already built.
    pub(crate) fn push(&mut self, error: syn::Error) {
        self.errors.push(error);
    }

    /// `Ok(())` if nothing was recorded, else every error combined into one.
    pub(crate) fn finish(self) -> syn::Result<()> {
        let mut errors = self.errors.into_iter();
        let Some(mut first) = errors.next() else {
            return Ok(());
        };
        errors.for_each(|error| first.combine(error));
        Err(first)
    }
}

/// The user's item unchanged, followed by the errors, so one mistake shows as one error
/// and the IDE still knows the function.
pub(crate) fn with_item(error: syn::Error, item: TokenStream) -> TokenStream {
    let errors = error.to_compile_error();
    // Parameters the failed expansion would have used must not warn as unused.
    quote::quote! { #[allow(unused_variables)] #item #errors }
}
