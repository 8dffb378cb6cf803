//! The tight hand-written baseline, as a careful engineer writes it: postcard into a 512-byte
//! stack buffer and one SHA-256 over it; the key an inline fixed-size array (an operation id
//! byte and the token's bytes, no heap); one `Mutex<HashMap<InlineKey, Record, foldhash>>`; an
//! in-progress record inserted before the handler and replaced by the completed one after;
//! postcard output in a `Vec`.

use std::collections::HashMap;
use std::sync::Mutex;

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

/// A record: the request's fingerprint and, once completed, the encoded output.
enum Record {
    InProgress([u8; 32]),
    Completed([u8; 32], Vec<u8>),
}

/// A store of records by key.
#[derive(Default)]
pub struct Tight {
    records: Mutex<HashMap<InlineKey, Record, foldhash::fast::RandomState>>,
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

impl Tight {
    /// Runs `handler` once per token: a retry with the same request replays its output.
    pub fn call(
        &self,
        request: CreateRouteTable,
        token: &str,
        handler: impl FnOnce(CreateRouteTable) -> RouteTable,
    ) -> Result<RouteTable, TightError> {
        let key = InlineKey::new(OPERATION, token).ok_or(TightError::InvalidToken)?;
        let mut staged = [0u8; 512];
        let encoded = postcard::to_slice(&request, &mut staged).map_err(|_| TightError::Codec)?;
        let fingerprint: [u8; 32] = Sha256::digest(&*encoded).into();
        {
            let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
            match records.get(&key) {
                Some(Record::Completed(seen, output)) if *seen == fingerprint => {
                    return postcard::from_bytes(output).map_err(|_| TightError::Codec);
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
        let response = handler(request);
        let output = postcard::to_allocvec(&response).map_err(|_| TightError::Codec);
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        match output {
            Ok(output) => {
                records.insert(key, Record::Completed(fingerprint, output));
                Ok(response)
            }
            Err(err) => {
                records.remove(&key);
                Err(err)
            }
        }
    }
}
