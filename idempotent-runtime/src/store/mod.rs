//! The store interface: the four atomic steps every backend implements.
//!
//! The state machine lives in the engine and is written once; a store only keeps records and
//! makes each step atomic:
//!
//! 1. [`begin`](Store::begin): if no live record exists under the key, write an in-progress
//!    record with a fresh [`Fence`] and a lease, and answer [`Begin::Acquired`]. A completed
//!    record past its TTL, or an in-progress record past its lease (a crashed or stuck worker),
//!    counts as absent: exactly one concurrent caller replaces it (`took_over` says which
//!    case). Otherwise answer [`Begin::Existing`] with the stored fingerprint and state.
//! 2. [`complete`](Store::complete): if the record is still in progress under this fence,
//!    store the output with its TTL; if this fence already completed it (a retry of a
//!    `complete` whose answer was lost), answer [`Finish::Done`] and change nothing; else
//!    refuse with [`Finish::NotOwner`]. A lease that ran out does not by itself refuse: only a
//!    take-over (a new fence) does.
//! 3. [`release`](Store::release): if the record is still in progress under this fence, delete
//!    it; else refuse with [`Finish::NotOwner`].
//! 4. [`renew`](Store::renew), the heartbeat: if the record is still in progress under this
//!    fence, its lease now ends `lease` from now (its retention moves with it); else refuse with
//!    [`Finish::NotOwner`]. As for `complete`, only a take-over refuses, not a lease that ran out.
//!
//! While a handler runs, the engine renews its lease every lease/3 (unless the handler opts
//! out with `heartbeat = false`), so only a crashed or hung worker loses its token. A store
//! whose records live in the process itself ([`in_process`](Store::in_process)) needs no
//! renewals: the engine passes [`HELD`] as the lease, and the record is held until its handler
//! completes or releases it.
//!
//! An in-progress record whose lease ended and that nobody took over is *abandoned*. `begin`
//! treats it as absent, but the store keeps it at least [`ABANDONED_RETENTION`] past its
//! lease's end (a sweep or purge may drop it after that), so an owner that outlived its lease
//! (a slow handler whose heartbeat was off or failed) can still complete.
//!
//! An async `complete` or `release` whose caller is dropped after the first poll must still
//! take effect (the built-in network stores run them in a task of their own).
//!
//! Sync handlers need [`Store`], async handlers [`AsyncStore`].

mod clock;
#[cfg(any(
    feature = "redis",
    feature = "postgres",
    feature = "sqlite",
    feature = "dynamodb"
))]
mod durable;
#[cfg(feature = "dynamodb")]
#[cfg_attr(docsrs, doc(cfg(feature = "dynamodb")))]
pub mod dynamodb;
#[cfg(any(feature = "redis", feature = "postgres"))]
mod feed;
mod forward;
pub mod memory;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub mod postgres;
pub mod record;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub mod redis;
#[cfg(feature = "sqlite")]
mod sqlite;
mod transaction;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::{Fingerprint, StoreError};

#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use self::redis::RedisStore;
/// A record's key and the operation it names; a store needs them only as bytes
/// ([`Key::as_bytes`]).
pub use crate::key::{Key, Operation};
pub use clock::ManualClock;
#[cfg(feature = "dynamodb")]
#[cfg_attr(docsrs, doc(cfg(feature = "dynamodb")))]
pub use dynamodb::DynamoDbStore;
pub use memory::{MemoryStore, MemoryStoreBuilder};
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use postgres::PostgresStore;
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use sqlite::SqliteStore;
pub use transaction::{AsyncInTransaction, InTransaction, TxBegin};

/// The lease `begin` is given on an [`in_process`](Store::in_process) store when the heartbeat
/// is on: the record is held until its handler completes or releases it (a handler in this
/// process cannot vanish without doing one or the other, short of hanging).
pub const HELD: Duration = Duration::MAX;

/// How long past its lease's end a store keeps an abandoned in-progress record, so that its
/// owner, running late, can still complete it: one hour.
pub const ABANDONED_RETENTION: Duration = Duration::from_secs(60 * 60);

/// Proof of owning an in-progress record: only its holder may complete or release it.
///
/// Stores hand out a new value on every acquisition, so a worker whose lease was taken over
/// holds a stale fence and its late `complete` is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fence(pub u64);

/// The answer to [`Store::begin`].
#[derive(Debug)]
pub enum Begin {
    /// The caller now owns the record and runs the handler.
    Acquired {
        /// The owner's fence.
        fence: Fence,
        /// Whether an in-progress record whose lease had ended was replaced.
        took_over: bool,
    },
    /// A live record exists; the caller must not run the handler.
    Existing(Existing),
}

/// A live record found by [`Store::begin`].
#[derive(Debug)]
pub struct Existing {
    /// The fingerprint of the request that created the record.
    pub fingerprint: Fingerprint,
    /// Where that request is.
    pub state: ExistingState,
}

/// The state of a live record.
#[derive(Debug)]
pub enum ExistingState {
    /// Its handler is still running (or crashed and the lease has not ended yet).
    InProgress {
        /// The owner's fence, to wait for this very run to end.
        owner: Fence,
        /// How long until the lease ends and a caller may take over.
        lease_remaining: Duration,
    },
    /// Its handler finished; this is the encoded output to replay.
    Completed {
        /// The encoded output, as given to [`Store::complete`].
        output: Arc<[u8]>,
    },
}

/// The answer to [`Store::complete`], [`Store::release`] and [`Store::renew`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// The record was completed, released or renewed.
    Done,
    /// The record is no longer owned under this fence: another caller took it over after its
    /// lease ended (or it is gone); nothing changed. A lease that ran out while nobody took
    /// over does not refuse.
    NotOwner,
}

/// A store with a blocking interface, for sync handlers.
///
/// Implementations are cheap `Clone` handles shared between threads; see the
/// [module docs](self) for the contract of each step.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot serve a sync handler: it does not implement `idempotent_runtime::Store`",
    label = "this store has no blocking interface",
    note = "make the handler `async`, or pick a store with a blocking interface (`MemoryStore`, `SqliteStore`)"
)]
pub trait Store: Send + Sync {
    /// Step 1: acquire the key, or report the live record under it.
    fn begin(
        &self,
        key: &Key,
        fingerprint: &Fingerprint,
        lease: Duration,
    ) -> Result<Begin, StoreError>;

    /// Step 2: store `output` for `ttl`, if `fence` still owns the record.
    fn complete(
        &self,
        key: &Key,
        fence: Fence,
        output: &[u8],
        ttl: Duration,
    ) -> Result<Finish, StoreError>;

    /// Step 3: delete the record, if `fence` still owns it.
    fn release(&self, key: &Key, fence: Fence) -> Result<Finish, StoreError>;

    /// Step 4, the heartbeat: end the lease `lease` from now, if `fence` still owns the record.
    fn renew(&self, key: &Key, fence: Fence, lease: Duration) -> Result<Finish, StoreError>;

    /// Whether the records live in this process and die with it (so a running handler's record
    /// is [`HELD`] rather than renewed). Default: `false`.
    ///
    /// Answer `true` only if every step's answer is the truth (no answer is ever lost on the
    /// way back) and a release cannot fail: a held record has no lease to end it otherwise.
    fn in_process(&self) -> bool {
        false
    }

    /// The store itself: generated code reaches the store through this, so a type that is not
    /// one is reported once, on the user's expression, naming this trait.
    #[doc(hidden)]
    fn __checked(&self) -> &Self
    where
        Self: Sized,
    {
        self
    }

    /// Blocks until the in-progress record owned by `owner` is completed, released or
    /// replaced, or until `timeout`, whichever comes first. Spurious returns are allowed.
    ///
    /// The default sleeps for a short while (polling); stores that can be notified override it.
    fn wait(&self, key: &Key, owner: Fence, timeout: Duration) -> Result<(), StoreError> {
        let _ = (key, owner);
        std::thread::sleep(timeout.min(Duration::from_millis(20)));
        Ok(())
    }
}

/// A store with an async interface, for async handlers.
///
/// Same contract as [`Store`]; every step returns a `Send` future.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot serve an async handler: it does not implement `idempotent_runtime::AsyncStore`",
    label = "this store has no async interface",
    note = "make the handler sync, or pick a store with an async interface"
)]
pub trait AsyncStore: Send + Sync {
    /// Step 1: acquire the key, or report the live record under it.
    fn begin(
        &self,
        key: &Key,
        fingerprint: &Fingerprint,
        lease: Duration,
    ) -> impl Future<Output = Result<Begin, StoreError>> + Send;

    /// Step 2: store `output` for `ttl`, if `fence` still owns the record.
    fn complete(
        &self,
        key: &Key,
        fence: Fence,
        output: &[u8],
        ttl: Duration,
    ) -> impl Future<Output = Result<Finish, StoreError>> + Send;

    /// Step 3: delete the record, if `fence` still owns it.
    fn release(
        &self,
        key: &Key,
        fence: Fence,
    ) -> impl Future<Output = Result<Finish, StoreError>> + Send;

    /// Step 4, the heartbeat: end the lease `lease` from now, if `fence` still owns the record.
    fn renew(
        &self,
        key: &Key,
        fence: Fence,
        lease: Duration,
    ) -> impl Future<Output = Result<Finish, StoreError>> + Send;

    /// Whether the records live in this process and die with it (so a running handler's record
    /// is [`HELD`] rather than renewed). Default: `false`.
    ///
    /// Answer `true` only if every step's answer is the truth (no answer is ever lost on the
    /// way back) and [`release_detached`](Self::release_detached) releases at once: a held
    /// record has no lease to end it otherwise.
    fn in_process(&self) -> bool {
        false
    }

    /// The store itself: generated code reaches the store through this, so a type that is not
    /// one is reported once, on the user's expression, naming this trait.
    #[doc(hidden)]
    fn __checked(&self) -> &Self
    where
        Self: Sized,
    {
        self
    }

    /// Waits until the in-progress record owned by `owner` changes, or until `timeout`.
    /// Spurious returns are allowed. The default sleeps briefly (polling; needs a Tokio timer).
    fn wait(
        &self,
        key: &Key,
        owner: Fence,
        timeout: Duration,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let _ = (key, owner);
        async move {
            tokio::time::sleep(timeout.min(Duration::from_millis(20))).await;
            Ok(())
        }
    }

    /// Releases from a synchronous context: called when an async handler's future is dropped
    /// (cancelled) while it owns the record. Best effort: a network store spawns the release
    /// on the current runtime; if that fails, the lease ends the record.
    fn release_detached(&self, key: Key, fence: Fence);
}
