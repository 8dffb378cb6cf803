//! The tight hand-written baseline, as a careful engineer writes it: postcard into a 512-byte
//! stack buffer and one SHA-256 over it; the key an inline fixed-size array (an operation id
//! byte and the token's bytes, no heap); one `Mutex<HashMap<InlineKey, Record, foldhash>>`; an
//! in-progress record inserted before the handler and replaced by the completed one after;
//! postcard output in a `Vec`.
//!
//! The same store also runs with the attribute's own encodings ([`SameEncodings`]): its
//! fingerprint (named fields, sorted maps) and its recorded output (self-describing, so
//! `skip_serializing_if` and `flatten` replay faithfully). The gap between the two is what those
//! guarantees cost; the gap from there to the attribute is the attribute's own machinery.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Mutex;

use idempotent_runtime::__private::{record_output, replay_output};
use idempotent_runtime::fingerprint::Fingerprinter;
use sha2::{Digest, Sha256};

use crate::{CreateRouteTable, RouteTable};

/// The longest token (EC2's rule), so a key fits inline.
const MAX_TOKEN: usize = 64;

/// An operation id byte and up to 64 token bytes, inline.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct InlineKey {
    len: u8,
    bytes: [u8; 1 + MAX_TOKEN],
}

impl InlineKey {
    fn new(operation: u8, token: &str) -> Option<Self> {
        let token = token.as_bytes();
        if token.is_empty() || token.len() > MAX_TOKEN {
            return None;
        }
        let mut bytes = [0u8; 1 + MAX_TOKEN];
        bytes[0] = operation;
        bytes[1..=token.len()].copy_from_slice(token);
        Some(Self {
            len: token.len() as u8,
            bytes,
        })
    }
}

/// How a baseline fingerprints the request and records the response.
pub trait Encodings {
    /// The request's fingerprint.
    fn fingerprint(request: &CreateRouteTable) -> Option<[u8; 32]>;
    /// The response as recorded, and the response back.
    fn record(response: RouteTable) -> Option<(Vec<u8>, RouteTable)>;
    /// The response a record replays.
    fn replay(recorded: &[u8]) -> Option<RouteTable>;
}

/// postcard on a 512-byte stack buffer and one SHA-256; postcard output.
pub struct Postcard;

impl Encodings for Postcard {
    fn fingerprint(request: &CreateRouteTable) -> Option<[u8; 32]> {
        let mut staged = [0u8; 512];
        let encoded = postcard::to_slice(request, &mut staged).ok()?;
        Some(Sha256::digest(&*encoded).into())
    }

    fn record(response: RouteTable) -> Option<(Vec<u8>, RouteTable)> {
        Some((postcard::to_allocvec(&response).ok()?, response))
    }

    fn replay(recorded: &[u8]) -> Option<RouteTable> {
        postcard::from_bytes(recorded).ok()
    }
}

/// The attribute's fingerprint and output encoding.
pub struct SameEncodings;

impl Encodings for SameEncodings {
    fn fingerprint(request: &CreateRouteTable) -> Option<[u8; 32]> {
        let mut fingerprinter = Fingerprinter::new();
        fingerprinter.param("request", request);
        Some(*fingerprinter.finish().ok()?.digest())
    }

    fn record(response: RouteTable) -> Option<(Vec<u8>, RouteTable)> {
        record_output(response)
    }

    fn replay(recorded: &[u8]) -> Option<RouteTable> {
        replay_output(recorded)
    }
}

/// A record: the request's fingerprint and, once completed, the encoded output.
enum Record {
    InProgress([u8; 32]),
    Completed([u8; 32], Vec<u8>),
}

/// A store of records by key, with postcard encodings unless told otherwise.
pub struct Tight<E: Encodings = Postcard> {
    records: Mutex<HashMap<InlineKey, Record, foldhash::fast::RandomState>>,
    encodings: PhantomData<E>,
}

impl<E: Encodings> Default for Tight<E> {
    fn default() -> Self {
        Self {
            records: Mutex::default(),
            encodings: PhantomData,
        }
    }
}

/// What the tight baseline answers besides the result.
#[derive(Debug, PartialEq, Eq)]
pub enum TightError {
    /// The token was used with other parameters.
    Mismatch,
    /// A request with the token is still running.
    InProgress,
    /// The token breaks the token rule.
    InvalidToken,
    /// An encoding failed.
    Codec,
}

/// The operation id of `CreateRouteTable`.
const OPERATION: u8 = 1;

impl<E: Encodings> Tight<E> {
    /// Runs `handler` once per token: a retry with the same request replays its output.
    pub fn call(
        &self,
        request: CreateRouteTable,
        token: &str,
        handler: impl FnOnce(CreateRouteTable) -> RouteTable,
    ) -> Result<RouteTable, TightError> {
        let key = InlineKey::new(OPERATION, token).ok_or(TightError::InvalidToken)?;
        let fingerprint = E::fingerprint(&request).ok_or(TightError::Codec)?;
        {
            let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
            match records.get(&key) {
                Some(Record::Completed(seen, output)) if *seen == fingerprint => {
                    return E::replay(output).ok_or(TightError::Codec);
                }
                Some(Record::Completed(..)) => return Err(TightError::Mismatch),
                Some(Record::InProgress(seen)) if *seen == fingerprint => {
                    return Err(TightError::InProgress)
                }
                Some(Record::InProgress(_)) => return Err(TightError::Mismatch),
                None => {
                    records.insert(key, Record::InProgress(fingerprint));
                }
            }
        }
        let recorded = E::record(handler(request));
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        match recorded {
            Some((output, response)) => {
                records.insert(key, Record::Completed(fingerprint, output));
                Ok(response)
            }
            None => {
                records.remove(&key);
                Err(TightError::Codec)
            }
        }
    }
}
