//! A record as one DynamoDB item, and back.
//!
//! | attribute | type | holds |
//! |---|---|---|
//! | `pk` | B | the record's key (the table's partition key) |
//! | `fp` | B | the fingerprint's SHA-256 digest |
//! | `params` | B | the per-parameter digests ([`encode_params`]) |
//! | `fence` | N | the owner that acquired or completed it |
//! | `state` | S | `p` in progress, `c` completed |
//! | `deadline` | N | milliseconds since the Unix epoch: the lease's end (`p`) or the TTL's (`c`) |
//! | `expires` | N | seconds since the Unix epoch, for DynamoDB's own TTL to delete the item: the TTL's end, or for an abandoned record its lease's end plus [`ABANDONED_RETENTION`] |
//! | `output` | B | the recorded output (`c`) |
//!
//! A record is live while `deadline` is ahead; DynamoDB deletes expired items lazily (within
//! days), so every read checks `deadline` itself.

use std::collections::HashMap;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;

use crate::store::durable::{self, StoredRecord};
use crate::store::record::encode_params;
use crate::store::{Begin, Fence, ABANDONED_RETENTION};
use crate::{Fingerprint, Key, StoreError};

pub(super) const PK: &str = "pk";
pub(super) const EXPIRES: &str = "expires";

/// An item as the SDK holds it.
pub(super) type Item = HashMap<String, AttributeValue>;

/// The most a DynamoDB item holds: 400 KB, names and values together.
pub(super) const ITEM_LIMIT: usize = 400 * 1024;
/// Room kept for the attributes beside the output (names, numbers, the key, the digests).
pub(super) const ITEM_OVERHEAD: usize = 1024;

pub(super) fn key(key: &Key) -> AttributeValue {
    AttributeValue::B(Blob::new(key.as_bytes()))
}

pub(super) fn bytes(bytes: &[u8]) -> AttributeValue {
    AttributeValue::B(Blob::new(bytes))
}

pub(super) fn number(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(super) fn text(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

/// Seconds since the epoch at which DynamoDB's TTL may delete an item whose record ends at
/// `deadline_ms` (with `extra_ms` kept after it).
pub(super) fn expires(deadline_ms: i64, extra_ms: i64) -> AttributeValue {
    number(deadline_ms.saturating_add(extra_ms) / 1000 + 1)
}

/// The item `begin` writes: in progress under `fence` until `deadline_ms`.
pub(super) fn in_progress(
    record_key: &Key,
    fingerprint: &Fingerprint,
    fence: Fence,
    deadline_ms: i64,
) -> Item {
    let retention = durable::millis_i64(ABANDONED_RETENTION);
    HashMap::from([
        (PK.to_owned(), key(record_key)),
        ("fp".to_owned(), bytes(fingerprint.digest())),
        ("params".to_owned(), bytes(&encode_params(fingerprint))),
        ("fence".to_owned(), number(fence.0)),
        ("state".to_owned(), text("p")),
        ("deadline".to_owned(), number(deadline_ms)),
        (EXPIRES.to_owned(), expires(deadline_ms, retention)),
    ])
}

/// The [`Begin::Existing`] a live item answers.
pub(super) fn existing(item: &Item, now_ms: i64) -> Result<Begin, StoreError> {
    let completed = match state_of(item) {
        Some("c") => true,
        Some("p") => false,
        _ => return Err(foreign()),
    };
    durable::existing(StoredRecord {
        fingerprint: blob(item, "fp")?,
        params: blob(item, "params")?,
        completed,
        output: item
            .get("output")
            .and_then(|v| v.as_b().ok())
            .map(Blob::as_ref),
        owner: fence_of(item)?,
        lease_remaining_ms: deadline_of(item)?.saturating_sub(now_ms),
    })
}

/// Whether a stored item is in progress under `owner` with its lease running at `now_ms`.
pub(super) fn running_under(item: &Item, owner: Fence, now_ms: i64) -> bool {
    state_of(item) == Some("p")
        && fence_of(item).ok() == Some(owner.0)
        && deadline_of(item).is_ok_and(|deadline| deadline > now_ms)
}

/// Whether a stored item was completed by `fence` (a retried `complete` finds its own work).
pub(super) fn completed_by(item: &Item, fence: Fence) -> bool {
    state_of(item) == Some("c") && fence_of(item).ok() == Some(fence.0)
}

/// The item's `state`: `p` in progress, `c` completed (anything else is not ours).
pub(super) fn state_of(item: &Item) -> Option<&str> {
    item.get("state")
        .and_then(|state| state.as_s().ok())
        .map(String::as_str)
}

fn blob<'a>(item: &'a Item, name: &str) -> Result<&'a [u8], StoreError> {
    item.get(name)
        .and_then(|v| v.as_b().ok())
        .map(Blob::as_ref)
        .ok_or_else(foreign)
}

fn fence_of(item: &Item) -> Result<u64, StoreError> {
    item.get("fence")
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .ok_or_else(foreign)
}

fn deadline_of(item: &Item) -> Result<i64, StoreError> {
    item.get("deadline")
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .ok_or_else(foreign)
}

fn foreign() -> StoreError {
    StoreError::corrupt("the DynamoDB item is not a record this store wrote")
}
