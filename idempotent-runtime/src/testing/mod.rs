//! The conformance suite: the record semantics every store must keep, written once and run
//! against `MemoryStore`, `SqliteStore`, `RedisStore` and `PostgresStore`, and against your own
//! store. Enable the `testing` feature.
//!
//! Implement [`Harness`] for your store (a fresh, isolated store per call; optionally a way to
//! corrupt a record and a store pointing at a closed port), then instantiate every case as a
//! `#[test]` with [`store_conformance!`](crate::store_conformance):
//!
//! ```
//! # #[cfg(feature = "testing")] mod demo {
//! use idempotent_runtime::testing::Harness;
//! use idempotent_runtime::MemoryStore;
//!
//! pub struct Memory;
//!
//! impl Harness for Memory {
//!     type Store = MemoryStore;
//!     async fn store(&self) -> MemoryStore {
//!         MemoryStore::new()
//!     }
//! }
//!
//! idempotent_runtime::store_conformance!(memory, Memory);
//! # }
//! ```
//!
//! A store with only a blocking interface is tested through [`Blocking`], which runs each of
//! its steps in place; the cases are the same.
//!
//! [`FaultyStore`] wraps any store and fails the calls you choose, to test what a caller sees
//! when a store misbehaves.
//!
//! The cases use real time for leases and TTLs (a few hundred milliseconds), because a real
//! server keeps its own clock. Each uses tokens of its own, so the cases may share a server.

mod blocking;
mod cases;
mod faulty;
mod model;
#[cfg(test)]
mod tests;

use std::future::Future;

use crate::{AsyncStore, Key};

pub use blocking::Blocking;
pub use cases::*;
pub use faulty::{Fault, FaultyStore, Step};

/// Makes stores for the conformance cases.
pub trait Harness: Send + Sync + 'static {
    /// The store under test.
    type Store: AsyncStore + Clone + Send + Sync + 'static;

    /// A fresh store, isolated from other tests (its own key prefix, schema or file).
    fn store(&self) -> impl Future<Output = Self::Store> + Send;

    /// Overwrites the record under `key` with garbage, through the store's raw client.
    /// Returns `false` if the store cannot be corrupted from outside (the corrupt-record case
    /// is then skipped).
    fn corrupt(&self, store: &Self::Store, key: &Key) -> impl Future<Output = bool> + Send {
        let _ = (store, key);
        async { false }
    }

    /// A store whose server cannot be reached (a closed port), or `None` for an in-process store.
    fn unreachable(&self) -> impl Future<Output = Option<Self::Store>> + Send {
        async { None }
    }
}

/// How long one conformance case may take before it counts as hung.
pub const CASE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// Runs a case on a multi-threaded Tokio runtime: what `store_conformance!` tests call. A case
/// that takes longer than [`CASE_TIMEOUT`] fails (a store that hangs fails fast, rather than
/// stalling the test run).
pub fn run<F: Future<Output = ()>>(case: F) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build();
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(err) => panic!("could not start a Tokio runtime for the conformance case: {err}"),
    };
    // The timer is made inside the runtime, which it needs.
    if runtime
        .block_on(async { tokio::time::timeout(CASE_TIMEOUT, case).await })
        .is_err()
    {
        panic!("the conformance case did not finish within {CASE_TIMEOUT:?}: the store hangs");
    }
}

/// Instantiates every conformance case as a `#[test]` in a module named `$name`, for the
/// [`Harness`] value `$harness`.
#[macro_export]
macro_rules! store_conformance {
    ($name:ident, $harness:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $crate::store_conformance!(@cases $harness;
                acquires_then_reports_in_progress,
                only_the_owner_completes_and_the_output_replays,
                a_repeated_complete_of_the_owner_is_done_and_changes_nothing,
                release_frees_the_key,
                a_mismatch_sees_the_stored_fingerprint,
                after_the_lease_one_caller_takes_over_and_the_old_fence_is_refused,
                a_late_owner_nobody_replaced_still_completes,
                renewing_keeps_the_lease_and_only_the_owner_renews,
                a_completed_record_expires_after_its_ttl,
                sixty_four_concurrent_begins_acquire_once,
                random_operations_follow_the_model,
                concurrent_takers_after_the_lease_take_over_once,
                a_waiter_returns_when_the_record_completes,
                a_complete_dropped_after_its_first_poll_still_lands,
                a_corrupt_record_is_an_error,
                an_unreachable_store_fails_with_a_transient_error,
            );
        }
    };
    (@cases $harness:expr; $($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                $crate::testing::run($crate::testing::$case(&$harness));
            }
        )*
    };
}
