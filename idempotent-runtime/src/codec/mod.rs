//! How a handler's result is stored for replay.
//!
//! Stored bytes are a format byte (`0x02`), a tag (`O` for `Ok`, `E` for a cached `Err`), then
//! the value in the compact self-describing encoding of [`format`]. Records of the first
//! release, format byte `0x01` with the value in MessagePack (named struct fields), are still
//! read, so a record written before an upgrade replays after it (as it was written: that format
//! wrote `Some(None)` as `None`). Anything else under a key is reported as a corrupt record,
//! never decoded by guesswork.

mod de;
pub(crate) mod format;
mod ser;

use std::fmt;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{StoreError, StoreErrorKind};

const FORMAT: u8 = 0x02;
/// The first release's format, MessagePack: read, never written.
const FORMAT_MSGPACK: u8 = 0x01;
const TAG_OK: u8 = b'O';
const TAG_ERR: u8 = b'E';

/// A value could not be encoded (its `Serialize` failed) or decoded (the bytes are not one).
#[derive(Debug)]
pub(crate) struct CodecError(String);

impl CodecError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CodecError {}

impl serde::ser::Error for CodecError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self(msg.to_string())
    }
}

impl serde::de::Error for CodecError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self(msg.to_string())
    }
}

/// Proof that `T` can be stored and replayed: its encode and decode functions.
///
/// Made only where `T: Serialize + DeserializeOwned` holds, at a call the macro spans on the
/// user's own type, so a missing derive is reported once, there; the engine then needs no
/// serde bounds of its own.
pub struct Serde<T> {
    encode: fn(&mut Vec<u8>, &T) -> Result<(), CodecError>,
    decode: fn(&[u8]) -> Result<T, CodecError>,
    decode_msgpack: fn(&[u8]) -> Result<T, CodecError>,
}

impl<T: Serialize + DeserializeOwned> Serde<T> {
    /// The functions for `T`.
    pub fn new() -> Self {
        Self {
            encode: |bytes, value| ser::write(bytes, value),
            decode: de::read,
            decode_msgpack: read_msgpack,
        }
    }
}

/// Encodes `value` in the current format's value encoding.
#[cfg_attr(not(feature = "axum"), allow(dead_code))]
pub(crate) fn write<T: Serialize + ?Sized>(
    bytes: &mut Vec<u8>,
    value: &T,
) -> Result<(), CodecError> {
    ser::write(bytes, value)
}

/// Decodes a value of the current format.
#[cfg_attr(not(feature = "axum"), allow(dead_code))]
pub(crate) fn read<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    de::read(bytes)
}

/// Decodes a value of the first release's format (MessagePack).
pub(crate) fn read_msgpack<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    rmp_serde::from_slice(bytes).map_err(|err| CodecError::new(err.to_string()))
}

impl<T> Serde<T> {
    /// The functions for a type recorded as another (axum's `Json<T>` as `T`).
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    pub(crate) fn from_fns(
        encode: fn(&mut Vec<u8>, &T) -> Result<(), CodecError>,
        decode: fn(&[u8]) -> Result<T, CodecError>,
        decode_msgpack: fn(&[u8]) -> Result<T, CodecError>,
    ) -> Self {
        Self {
            encode,
            decode,
            decode_msgpack,
        }
    }
}

impl<T> Serde<T> {
    /// The decoder for a record's format byte.
    fn reader(&self, format: u8) -> fn(&[u8]) -> Result<T, CodecError> {
        if format == FORMAT_MSGPACK {
            self.decode_msgpack
        } else {
            self.decode
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
            ((format, TAG_OK, body), _) => decode(body, self.ok.reader(format)).map(Ok),
            ((format, _, body), Some(serde)) => decode(body, serde.reader(format)).map(Err),
            (_, None) => Err(StoreError::corrupt(
                "the record holds an error result, but this handler does not cache errors",
            )),
        }
    }
}

fn encode<V>(
    tag: u8,
    value: &V,
    write: fn(&mut Vec<u8>, &V) -> Result<(), CodecError>,
) -> Result<Vec<u8>, StoreError> {
    // Room for a typical response, so encoding rarely reallocates.
    let mut bytes = Vec::with_capacity(512);
    bytes.extend_from_slice(&[FORMAT, tag]);
    write(&mut bytes, value).map_err(|err| {
        StoreError::new(
            StoreErrorKind::Codec,
            format!("the handler's result could not be encoded (an output): {err}"),
        )
        .with_source(err)
    })?;
    Ok(bytes)
}

fn decode<V>(body: &[u8], read: fn(&[u8]) -> Result<V, CodecError>) -> Result<V, StoreError> {
    read(body).map_err(|err| {
        StoreError::corrupt(format!(
            "the stored result does not decode as the handler's output type: {err}"
        ))
        .with_source(err)
    })
}

/// The format byte, the tag and the value's bytes.
fn split(bytes: &[u8]) -> Result<(u8, u8, &[u8]), StoreError> {
    match bytes {
        [format @ (FORMAT | FORMAT_MSGPACK), tag @ (TAG_OK | TAG_ERR), body @ ..] => {
            Ok((*format, *tag, body))
        }
        _ => Err(StoreError::corrupt(
            "the stored result has an unknown format; was it written by another program?",
        )),
    }
}

#[cfg(test)]
mod tests;
