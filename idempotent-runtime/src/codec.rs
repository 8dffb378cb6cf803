//! How a handler's result is stored for replay.
//!
//! Stored bytes are a format byte (`0x01`: MessagePack), a tag (`O` for `Ok`, `E` for a cached
//! `Err`), then the value in MessagePack with named struct fields, a compact self-describing
//! encoding that keeps `skip_serializing_if`, `flatten` and untagged enums working.
//! Anything else under a key is reported as a corrupt record, never decoded by guesswork.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{StoreError, StoreErrorKind};

const FORMAT_MSGPACK: u8 = 0x01;
const TAG_OK: u8 = b'O';
const TAG_ERR: u8 = b'E';

/// Which results are recorded, and how they are encoded and decoded.
pub(crate) trait Codec<T, E> {
    /// The bytes to store, or `None` to release the record instead (an uncached `Err`).
    fn encode(result: &Result<T, E>) -> Option<Result<Vec<u8>, StoreError>>;
    /// The result a record replays.
    fn decode(bytes: &[u8]) -> Result<Result<T, E>, StoreError>;
}

/// The default: `Ok` values are recorded; an `Err` releases the token.
pub(crate) struct OkOnly;

/// `cache_errors`: `Err` values are recorded and replayed too.
pub(crate) struct OkAndErr;

impl<T: Serialize + DeserializeOwned, E> Codec<T, E> for OkOnly {
    fn encode(result: &Result<T, E>) -> Option<Result<Vec<u8>, StoreError>> {
        let value = result.as_ref().ok()?;
        Some(encode(TAG_OK, value))
    }

    fn decode(bytes: &[u8]) -> Result<Result<T, E>, StoreError> {
        match split(bytes)? {
            (TAG_OK, body) => decode(body).map(Ok),
            _ => Err(StoreError::corrupt(
                "the record holds an error result, but this handler does not cache errors",
            )),
        }
    }
}

impl<T, E> Codec<T, E> for OkAndErr
where
    T: Serialize + DeserializeOwned,
    E: Serialize + DeserializeOwned,
{
    fn encode(result: &Result<T, E>) -> Option<Result<Vec<u8>, StoreError>> {
        Some(match result {
            Ok(value) => encode(TAG_OK, value),
            Err(err) => encode(TAG_ERR, err),
        })
    }

    fn decode(bytes: &[u8]) -> Result<Result<T, E>, StoreError> {
        match split(bytes)? {
            (TAG_OK, body) => decode(body).map(Ok),
            (_, body) => decode(body).map(Err),
        }
    }
}

fn encode<V: Serialize>(tag: u8, value: &V) -> Result<Vec<u8>, StoreError> {
    let mut bytes = Vec::with_capacity(128);
    bytes.extend_from_slice(&[FORMAT_MSGPACK, tag]);
    rmp_serde::encode::write_named(&mut bytes, value).map_err(|err| {
        StoreError::new(
            StoreErrorKind::Codec,
            "the handler's result could not be encoded",
        )
        .with_source(err)
    })?;
    Ok(bytes)
}

fn decode<V: DeserializeOwned>(body: &[u8]) -> Result<V, StoreError> {
    rmp_serde::from_slice(body).map_err(|err| {
        StoreError::corrupt("the stored result does not decode as the handler's output type")
            .with_source(err)
    })
}

fn split(bytes: &[u8]) -> Result<(u8, &[u8]), StoreError> {
    match bytes {
        [FORMAT_MSGPACK, tag @ (TAG_OK | TAG_ERR), body @ ..] => Ok((*tag, body)),
        _ => Err(StoreError::corrupt(
            "the stored result has an unknown format; was it written by another program?",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: T) {
        let bytes = <OkOnly as Codec<T, ()>>::encode(&Ok(value_clone(&value)))
            .expect("Ok is recorded")
            .expect("encodes");
        let back = <OkOnly as Codec<T, ()>>::decode(&bytes).expect("decodes");
        assert_eq!(back, Ok(value));
    }

    fn value_clone<T: Serialize + DeserializeOwned>(value: &T) -> T {
        rmp_serde::from_slice(&rmp_serde::to_vec_named(value).expect("encodes")).expect("decodes")
    }

    #[test]
    fn empty_and_zero_values_replay_faithfully() {
        round_trip(());
        round_trip(None::<u32>);
        round_trip(Some(0u32));
        round_trip(0i64);
        round_trip(false);
        round_trip(String::new());
        round_trip(Vec::<u8>::new());
        round_trip(BTreeMap::<String, u32>::new());
        round_trip((0u8, String::new(), None::<bool>));
    }

    #[test]
    fn an_uncached_error_is_not_recorded() {
        assert!(<OkOnly as Codec<u32, String>>::encode(&Err("no".into())).is_none());
    }

    #[test]
    fn cached_errors_replay_as_errors() {
        let bytes = <OkAndErr as Codec<u32, String>>::encode(&Err("no".into()))
            .expect("recorded")
            .expect("encodes");
        assert_eq!(
            <OkAndErr as Codec<u32, String>>::decode(&bytes).expect("decodes"),
            Err("no".to_string())
        );
        assert!(<OkOnly as Codec<u32, String>>::decode(&bytes).is_err());
    }

    #[test]
    fn garbage_is_a_corrupt_record_error() {
        for garbage in [&b""[..], b"\x01", b"\x02O", b"\x01O\xc1", b"\x01O\xa3ab"] {
            let err = <OkOnly as Codec<String, ()>>::decode(garbage).expect_err("garbage");
            assert_eq!(err.kind(), StoreErrorKind::Corrupt);
        }
    }
}
