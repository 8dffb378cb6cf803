//! A handler in a crate that depends on `idempotent-runtime` under the name `idem`.

use idem::idempotent;

/// Doubles `size`, once per token.
#[idempotent(token = "token")]
pub fn double(size: u32, token: &str) -> u32 {
    size * 2
}
