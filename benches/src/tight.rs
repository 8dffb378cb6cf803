//! The tight hand-written baseline: postcard into a stack buffer, one SHA-256, one map insert
//! (fingerprint and postcard output together), postcard decode on replay.

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::{handler, CreateRouteTable, RouteTable};

/// A record: the request's fingerprint and the encoded output.
type Record = ([u8; 32], Vec<u8>);

/// A store of records by token.
#[derive(Default)]
pub struct Tight {
    records: Mutex<HashMap<String, Record>>,
}

/// What the tight baseline answers besides the result.
#[derive(Debug, PartialEq, Eq)]
pub enum TightError {
    /// The token was used with other parameters.
    Mismatch,
    /// An encoding failed.
    Codec,
}

impl Tight {
    /// Runs [`handler`] once per token.
    pub fn call(&self, request: CreateRouteTable, token: &str) -> Result<RouteTable, TightError> {
        let mut staged = [0u8; 512];
        let encoded = postcard::to_slice(&request, &mut staged).map_err(|_| TightError::Codec)?;
        let fingerprint: [u8; 32] = Sha256::digest(&*encoded).into();
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((seen, output)) = records.get(token) {
            if *seen != fingerprint {
                return Err(TightError::Mismatch);
            }
            return postcard::from_bytes(output).map_err(|_| TightError::Codec);
        }
        let response = handler(request);
        let output = postcard::to_allocvec(&response).map_err(|_| TightError::Codec)?;
        records.insert(token.to_owned(), (fingerprint, output));
        Ok(response)
    }
}
