//! The naive baseline, as a hurried engineer writes it: serde_json of the request, a hex
//! SHA-256, a `format!("{op}:{token}")` key, `Mutex<HashMap<String, String>>` holding a
//! serde_json record (in progress, then completed).

use std::collections::HashMap;
use std::sync::Mutex;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::{CreateRouteTable, RouteTable};

/// A record, as read back from its JSON.
#[derive(Deserialize)]
struct NaiveRecord {
    fingerprint: String,
    /// `None` while the request runs.
    output: Option<RouteTable>,
}

/// A store of JSON records by `"{op}:{token}"`.
#[derive(Default)]
pub struct Naive {
    records: Mutex<HashMap<String, String>>,
}

impl Naive {
    /// Runs `handler` once per token; errors are strings.
    pub fn call(
        &self,
        request: CreateRouteTable,
        token: &str,
        handler: impl FnOnce(CreateRouteTable) -> RouteTable,
    ) -> Result<RouteTable, String> {
        let key = format!("{}:{token}", "CreateRouteTable");
        let json = serde_json::to_string(&request).map_err(|e| e.to_string())?;
        let fingerprint = format!("{:x}", Sha256::digest(json.as_bytes()));
        {
            let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(record) = records.get(&key) {
                let record: NaiveRecord =
                    serde_json::from_str(record).map_err(|e| e.to_string())?;
                if record.fingerprint != fingerprint {
                    return Err(format!("Wrong arguments for request with token {token}"));
                }
                return record
                    .output
                    .ok_or_else(|| format!("a request with token {token} is in progress"));
            }
            let in_progress = serde_json::json!({ "fingerprint": fingerprint, "output": null });
            records.insert(key.clone(), in_progress.to_string());
        }
        let response = handler(request);
        let completed = serde_json::json!({ "fingerprint": fingerprint, "output": &response });
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, completed.to_string());
        Ok(response)
    }
}
