//! Entry points for the fuzz targets in `fuzz/` (built with `--cfg fuzzing`, as cargo-fuzz
//! does): the private decoders a store's bytes go through, reachable from outside the crate.
//! Not an API.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::codec::{Codec, Serde};
use crate::{StoreError, StoreErrorKind};

/// Encodes `value` as a recorded `Ok` result, framing included.
pub fn encode_output<T: Serialize + DeserializeOwned>(value: T) -> Result<Vec<u8>, StoreError> {
    Codec::<T, ()>::ok_only(Serde::new())
        .encode(&Ok(value))
        .unwrap_or_else(|| Err(StoreError::new(StoreErrorKind::Other, "not recorded")))
}

/// Decodes a recorded result as a handler returning `T` would replay it.
pub fn decode_output<T: Serialize + DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    match Codec::<T, ()>::ok_only(Serde::new()).decode(bytes)? {
        Ok(value) => Ok(value),
        Err(()) => Err(StoreError::corrupt("an error result")),
    }
}
