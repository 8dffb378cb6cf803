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

/// Proof that `T` can be stored and replayed: its encode and decode functions.
///
/// Made only where `T: Serialize + DeserializeOwned` holds, at a call the macro spans on the
/// user's own type, so a missing derive is reported once, there; the engine then needs no
/// serde bounds of its own.
pub struct Serde<T> {
    encode: fn(&T, &mut Vec<u8>) -> Result<(), rmp_serde::encode::Error>,
    decode: fn(&[u8]) -> Result<T, rmp_serde::decode::Error>,
}

impl<T: Serialize + DeserializeOwned> Serde<T> {
    /// The functions for `T`.
    pub fn new() -> Self {
        Self {
            encode: |value, bytes| rmp_serde::encode::write_named(bytes, value),
            decode: |bytes| rmp_serde::from_slice(bytes),
        }
    }
}

impl<T: Serialize + DeserializeOwned> Default for Serde<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Which results are recorded, and how they are encoded and decoded.
pub struct Codec<T, E> {
    ok: Serde<T>,
    /// `Some` with `cache_errors`: `Err` values are recorded and replayed too.
    err: Option<Serde<E>>,
}

impl<T, E> Codec<T, E> {
    /// The default: `Ok` values are recorded; an `Err` releases the token.
    pub fn ok_only(ok: Serde<T>) -> Self {
        Self { ok, err: None }
    }

    /// `cache_errors`: `Err` values are recorded and replayed too.
    pub fn with_errors(ok: Serde<T>, err: Serde<E>) -> Self {
        Self { ok, err: Some(err) }
    }

    /// The bytes to store, or `None` to release the record instead (an uncached `Err`).
    pub(crate) fn encode(&self, result: &Result<T, E>) -> Option<Result<Vec<u8>, StoreError>> {
        match (result, &self.err) {
            (Ok(value), _) => Some(encode(TAG_OK, value, self.ok.encode)),
            (Err(err), Some(serde)) => Some(encode(TAG_ERR, err, serde.encode)),
            (Err(_), None) => None,
        }
    }

    /// The result a record replays.
    pub(crate) fn decode(&self, bytes: &[u8]) -> Result<Result<T, E>, StoreError> {
        match (split(bytes)?, &self.err) {
            ((TAG_OK, body), _) => decode(body, self.ok.decode).map(Ok),
            ((_, body), Some(serde)) => decode(body, serde.decode).map(Err),
            (_, None) => Err(StoreError::corrupt(
                "the record holds an error result, but this handler does not cache errors",
            )),
        }
    }
}

fn encode<V>(
    tag: u8,
    value: &V,
    write: fn(&V, &mut Vec<u8>) -> Result<(), rmp_serde::encode::Error>,
) -> Result<Vec<u8>, StoreError> {
    // Room for a typical response, so encoding rarely reallocates.
    let mut bytes = Vec::with_capacity(512);
    bytes.extend_from_slice(&[FORMAT_MSGPACK, tag]);
    write(value, &mut bytes).map_err(|err| {
        StoreError::new(
            StoreErrorKind::Codec,
            "the handler's result could not be encoded",
        )
        .with_source(err)
    })?;
    Ok(bytes)
}

fn decode<V>(
    body: &[u8],
    read: fn(&[u8]) -> Result<V, rmp_serde::decode::Error>,
) -> Result<V, StoreError> {
    read(body).map_err(|err| {
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

    fn ok_only<T: Serialize + DeserializeOwned, E>() -> Codec<T, E> {
        Codec::ok_only(Serde::new())
    }

    fn with_errors<T, E>() -> Codec<T, E>
    where
        T: Serialize + DeserializeOwned,
        E: Serialize + DeserializeOwned,
    {
        Codec::with_errors(Serde::new(), Serde::new())
    }

    fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: T) {
        let codec = ok_only::<T, ()>();
        let bytes = codec
            .encode(&Ok(value_clone(&value)))
            .expect("Ok is recorded")
            .expect("encodes");
        assert_eq!(codec.decode(&bytes).expect("decodes"), Ok(value));
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
        assert!(ok_only::<u32, String>().encode(&Err("no".into())).is_none());
    }

    #[test]
    fn cached_errors_replay_as_errors() {
        let codec = with_errors::<u32, String>();
        let bytes = codec
            .encode(&Err("no".into()))
            .expect("recorded")
            .expect("encodes");
        assert_eq!(
            codec.decode(&bytes).expect("decodes"),
            Err("no".to_string())
        );
        assert!(ok_only::<u32, String>().decode(&bytes).is_err());
    }

    #[test]
    fn garbage_is_a_corrupt_record_error() {
        for garbage in [&b""[..], b"\x01", b"\x02O", b"\x01O\xc1", b"\x01O\xa3ab"] {
            let err = ok_only::<String, ()>()
                .decode(garbage)
                .expect_err("garbage");
            assert_eq!(err.kind(), StoreErrorKind::Corrupt);
        }
    }
}
