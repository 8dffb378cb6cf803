//! What the stores that keep records outside the process share, in one place so a new store
//! does not copy it: where fences come from, durations and clocks in milliseconds, how a stored
//! record becomes a [`Begin::Existing`], and, for the network stores, steps that a cancelled
//! caller cannot cut short.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::record::decode_fingerprint;
use super::{Begin, Existing, ExistingState, Fence};
use crate::StoreError;

/// Fences for one store handle: a count hashed with a seed drawn per handle and the process
/// id, so two processes (or two handles) sharing a database never hand out the same fence.
pub(crate) struct FenceSource {
    count: AtomicU64,
    seed: RandomState,
}

impl FenceSource {
    pub(crate) fn new() -> Self {
        Self {
            count: AtomicU64::new(0),
            seed: RandomState::new(),
        }
    }

    /// A fence no other owner of any key has held.
    pub(crate) fn next(&self) -> Fence {
        let count = self.count.fetch_add(1, Ordering::Relaxed);
        Fence(self.seed.hash_one((count, std::process::id())))
    }
}

/// `duration` in whole milliseconds, saturating.
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// `duration` in whole milliseconds, saturating, for a database's signed integers.
#[cfg_attr(not(any(feature = "sqlite", feature = "dynamodb")), allow(dead_code))]
pub(crate) fn millis_i64(duration: Duration) -> i64 {
    i64::try_from(millis(duration)).unwrap_or(i64::MAX)
}

/// This machine's clock in milliseconds since the Unix epoch, for stores whose server keeps no
/// time of its own.
#[cfg_attr(not(any(feature = "sqlite", feature = "dynamodb")), allow(dead_code))]
pub(crate) fn unix_millis_now() -> i64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    millis_i64(since_epoch)
}

/// A live record as a store read it back, before it is checked.
pub(crate) struct StoredRecord<'a> {
    /// The fingerprint's SHA-256 digest and its encoded parameter digests.
    pub(crate) fingerprint: &'a [u8],
    pub(crate) params: &'a [u8],
    /// Whether it is completed (else in progress).
    pub(crate) completed: bool,
    /// A completed record's output.
    pub(crate) output: Option<&'a [u8]>,
    /// An in-progress record's owner, and what is left of its lease (negative: none).
    pub(crate) owner: u64,
    pub(crate) lease_remaining_ms: i64,
}

/// The [`Begin::Existing`] a stored record answers; a record that does not decode is
/// [`Corrupt`](crate::StoreErrorKind::Corrupt), never a wrong replay.
pub(crate) fn existing(record: StoredRecord<'_>) -> Result<Begin, StoreError> {
    let fingerprint = decode_fingerprint(record.fingerprint, record.params)?;
    let state = if record.completed {
        let output = record
            .output
            .ok_or_else(|| StoreError::corrupt("a completed record has no output"))?;
        ExistingState::Completed {
            output: output.into(),
        }
    } else {
        ExistingState::InProgress {
            owner: Fence(record.owner),
            lease_remaining: Duration::from_millis(
                u64::try_from(record.lease_remaining_ms).unwrap_or(0),
            ),
        }
    };
    Ok(Begin::Existing(Existing { fingerprint, state }))
}

/// Runs a step in a task of its own and awaits it, so dropping the caller (a cancelled request)
/// cannot stop the step half-way: a `complete` that was sent is finished.
#[cfg(any(feature = "redis", feature = "postgres", feature = "dynamodb"))]
pub(crate) async fn run_to_end<T: Send + 'static>(
    step: impl std::future::Future<Output = Result<T, StoreError>> + Send + 'static,
) -> Result<T, StoreError> {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => runtime.spawn(step).await.unwrap_or_else(|err| {
            Err(StoreError::new(
                crate::StoreErrorKind::Other,
                format!("store step failed: {err}"),
            ))
        }),
        Err(_) => step.await,
    }
}

/// What a network store's [`AsyncStore::release_detached`](super::AsyncStore::release_detached)
/// does: release on the current Tokio runtime in a task of its own; without a runtime, leave
/// the record to its lease.
#[cfg(any(feature = "redis", feature = "postgres", feature = "dynamodb"))]
pub(crate) fn spawn_release<S: super::AsyncStore + Clone + 'static>(
    store: &S,
    key: crate::Key,
    fence: Fence,
) {
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        let store = store.clone();
        runtime.spawn(async move {
            let _ = store.release(&key, fence).await;
        });
    }
}
