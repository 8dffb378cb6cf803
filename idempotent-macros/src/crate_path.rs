//! Finds the runtime crate's path as the user's manifest names it (renamed dependencies
//! included), unless `crate = "path"` says where it is.

use proc_macro2::{Span, TokenStream};
use proc_macro_crate::{crate_name, FoundCrate};
use quote::quote;
use syn::{Ident, Path};

/// The path generated code uses to reach `idempotent-runtime`.
pub(crate) fn runtime_path(explicit: Option<&Path>) -> TokenStream {
    if let Some(path) = explicit {
        return quote!(#path);
    }
    match crate_name("idempotent-runtime") {
        Ok(FoundCrate::Name(name)) => {
            let ident = Ident::new(&name, Span::call_site());
            quote!(::#ident)
        }
        // `Itself` is the runtime's own doctests and examples, which see it under its name;
        // if no manifest can be read, the usual name is the best guess.
        Ok(FoundCrate::Itself) | Err(_) => quote!(::idempotent_runtime),
    }
}
