//! The attribute's expansion over arbitrary token streams: it reports mistakes, never panics.

use std::str::FromStr;

use proc_macro2::TokenStream;

/// Splits the input at its first NUL into the attribute's arguments and the item, lexes both,
/// and expands.
pub fn attribute(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (args, item) = text.split_once('\0').unwrap_or(("token = \"token\"", text));
    let (Ok(args), Ok(item)) = (TokenStream::from_str(args), TokenStream::from_str(item)) else {
        return;
    };
    let _ = crate::expand::idempotent(args, item);
}
