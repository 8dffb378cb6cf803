//! `MemoryStore`: the default store, for one process.
//!
//! Records live in a fixed number of shards, each a hash table behind its own mutex, so
//! threads working on different tokens rarely meet. A key is hashed once (XXH3 with a seed
//! drawn per store, so clients cannot aim tokens at one bucket) and the hash picks both the
//! shard and the bucket. A record past its TTL (or an in-progress record past
//! its lease) is dead: it is replaced on the next `begin` of its key and swept from its shard
//! now and then (amortised O(1) per insert); an abandoned in-progress record is swept only
//! once [`ABANDONED_RETENTION`](super::ABANDONED_RETENTION) past its lease has passed, so its
//! owner can still complete. While a handler with a heartbeat runs, its record is
//! [`HELD`](super::HELD): a handler in this process cannot vanish without completing or
//! releasing it.
//!
//! The store is bounded: when a shard is full it drops dead records, and if none is dead it
//! fails closed with a transient `Capacity` error; it never evicts a live record (nor an
//! abandoned one within its retention). Waiters (`concurrent = "wait"`) are woken by
//! notification, a condition variable for threads and a Tokio `Notify` for tasks, not by
//! polling.

mod builder;
mod shard;
mod sync;

use std::future::{ready, Future};
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use hashbrown::hash_table::OccupiedEntry;

use super::{AsyncStore, Begin, Existing, ExistingState, Fence, Finish, ManualClock, Store};
use crate::{Fingerprint, Key, StoreError};
use shard::{lock, Entry, Shard, ShardState, State, StoredFingerprint};

pub use builder::MemoryStoreBuilder;

/// Records the default store holds at most.
pub const DEFAULT_CAPACITY: usize = 1_000_000;

/// An in-process store, sharded, expiring and bounded; the default store.
///
/// A `MemoryStore` is a cheap handle (an `Arc` inside): clone it into every handler that
/// shares its records.
///
/// ```
/// use idempotent_runtime::{idempotent, MemoryStore};
///
/// struct Service { store: MemoryStore }
///
/// impl Service {
///     #[idempotent(token = "token", store = self.store)]
///     fn create(&self, size: u32, token: &str) -> u32 {
///         size * 2
///     }
/// }
///
/// let service = Service { store: MemoryStore::new() };
/// assert_eq!(service.create(21, "t-1").unwrap(), 42);
/// ```
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

struct Inner {
    shards: Box<[Shard]>,
    shard_capacity: usize,
    clock: Option<ManualClock>,
    seed: u64,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// A store with the default capacity ([`DEFAULT_CAPACITY`]) and shard count.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder to set capacity, shards or a manual clock.
    ///
    /// ```
    /// use idempotent_runtime::MemoryStore;
    /// let store = MemoryStore::builder().capacity(10_000).shards(8).build();
    /// # let _ = store;
    /// ```
    pub fn builder() -> MemoryStoreBuilder {
        MemoryStoreBuilder::default()
    }

    /// How many records the store holds: live ones, and dead ones a sweep has not dropped yet.
    ///
    /// ```
    /// use idempotent_runtime::{idempotent, MemoryStore};
    /// # use std::sync::LazyLock;
    /// static STORE: LazyLock<MemoryStore> = LazyLock::new(MemoryStore::new);
    ///
    /// #[idempotent(token = "token", store = &*STORE)]
    /// fn create(size: u32, token: &str) -> u32 { size }
    ///
    /// assert!(STORE.is_empty());
    /// create(1, "t-1").unwrap();
    /// assert_eq!(STORE.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.inner
            .shards
            .iter()
            .map(|shard| lock(shard).records.len())
            .sum()
    }

    /// Whether the store holds no record at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn now(&self) -> Instant {
        match &self.inner.clock {
            Some(clock) => clock.now(),
            None => Instant::now(),
        }
    }

    fn hash(&self, key: &Key) -> u64 {
        xxhash_rust::xxh3::xxh3_64_with_seed(key.as_bytes(), self.inner.seed)
    }

    /// The shard of a key's hash. The table's buckets use the hash's low bits, so the shard
    /// takes bits from the middle (the shard count is a power of two).
    fn shard(&self, hash: u64) -> &Shard {
        &self.inner.shards[self.shard_index(hash)]
    }

    fn shard_index(&self, hash: u64) -> usize {
        ((hash >> 32) as usize) & (self.inner.shards.len() - 1)
    }

    /// A fence no owner of this shard's records had: the shard's own count of acquisitions
    /// (kept under its lock, so threads on other shards never share a counter's cache line)
    /// above the shard's index (at most 16 bits).
    fn next_fence(&self, acquisitions: &mut u64, hash: u64) -> Fence {
        *acquisitions += 1;
        Fence(*acquisitions << 16 | self.shard_index(hash) as u64)
    }

    /// Steps 2 and 3 share this: if `fence` still holds the record, `finish` changes it (one
    /// lookup) and waiters are woken. `repeated` says whether a record in that state is what
    /// this step already did (a completion by the same owner, asked again).
    fn finish(
        &self,
        key: &Key,
        fence: Fence,
        repeated: fn(&Entry, Fence) -> bool,
        finish: impl FnOnce(OccupiedEntry<'_, Entry>),
    ) -> Finish {
        let hash = self.hash(key);
        let shard = self.shard(hash);
        let mut state = lock(shard);
        // A fence is never handed out twice in a shard, so the entry under this hash that
        // holds it is this key's: found without reading the key's bytes (one cache miss
        // fewer on a large store).
        match state
            .records
            .find_entry(hash, |entry| entry.owner() == fence)
        {
            Ok(entry) if entry.get().is_held_by(fence) => finish(entry),
            Ok(entry) if repeated(entry.get(), fence) => return Finish::Done,
            _ => return Finish::NotOwner,
        }
        shard.wake(&state);
        Finish::Done
    }

    fn wait_blocking(&self, key: &Key, owner: Fence, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let hash = self.hash(key);
        let shard = self.shard(hash);
        let mut state = lock(shard);
        while state.is_running_under(hash, key, owner, self.now()) {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return;
            }
            state.blocked_waiters += 1;
            state = shard
                .changed
                .wait_timeout(state, remaining)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            state.blocked_waiters -= 1;
        }
    }

    async fn wait_async(&self, key: &Key, owner: Fence, timeout: Duration) {
        let hash = self.hash(key);
        let shard = self.shard(hash);
        let mut notified = std::pin::pin!(shard.notify.notified());
        {
            let mut state = lock(shard);
            if !state.is_running_under(hash, key, owner, self.now()) {
                return;
            }
            // Registered and counted under the lock: a change made after it cannot be missed.
            notified.as_mut().enable();
            state.async_waiters += 1;
        }
        // Uncounted however the wait ends, a cancelled task included.
        let _counted = AsyncWaiter(shard);
        let _ = tokio::time::timeout(timeout, notified).await;
    }
}

/// A task counted in its shard's `async_waiters` while it waits.
struct AsyncWaiter<'s>(&'s Shard);

impl Drop for AsyncWaiter<'_> {
    fn drop(&mut self) {
        lock(self.0).async_waiters -= 1;
    }
}

#[diagnostic::do_not_recommend]
impl Store for MemoryStore {
    fn begin(
        &self,
        key: &Key,
        fingerprint: &Fingerprint,
        lease: Duration,
    ) -> Result<Begin, StoreError> {
        let now = self.now();
        let hash = self.hash(key);
        let shard = self.shard(hash);
        let mut state = lock(shard);
        let in_progress = |owner| State::in_progress(owner, now, lease);
        let ShardState {
            records,
            acquisitions,
            ..
        } = &mut *state;
        if let Some(entry) = records.find_mut(hash, |entry| entry.is_for(key)) {
            if entry.is_live(now) {
                return Ok(Begin::Existing(existing(entry, now)));
            }
            let took_over = matches!(entry.state, State::InProgress { .. });
            let fence = self.next_fence(acquisitions, hash);
            entry.fingerprint = StoredFingerprint::of(fingerprint);
            entry.state = in_progress(fence);
            if took_over {
                shard.wake(&state);
            }
            return Ok(Begin::Acquired { fence, took_over });
        }
        state.make_room(self.inner.shard_capacity, now)?;
        let fence = self.next_fence(&mut state.acquisitions, hash);
        let entry = Entry {
            hash,
            key: key.as_bytes().into(),
            fingerprint: StoredFingerprint::of(fingerprint),
            state: in_progress(fence),
        };
        state.records.insert_unique(hash, entry, |entry| entry.hash);
        Ok(Begin::Acquired {
            fence,
            took_over: false,
        })
    }

    fn complete(
        &self,
        key: &Key,
        fence: Fence,
        output: &[u8],
        ttl: Duration,
    ) -> Result<Finish, StoreError> {
        let expires_at = self.now() + ttl;
        Ok(
            self.finish(key, fence, Entry::is_completed_by, |mut entry| {
                entry.get_mut().state = State::Completed {
                    owner: fence,
                    output: output.into(),
                    expires_at,
                };
            }),
        )
    }

    fn release(&self, key: &Key, fence: Fence) -> Result<Finish, StoreError> {
        Ok(self.finish(
            key,
            fence,
            |_, _| false,
            |entry| {
                entry.remove();
            },
        ))
    }

    fn renew(&self, key: &Key, fence: Fence, lease: Duration) -> Result<Finish, StoreError> {
        let now = self.now();
        let hash = self.hash(key);
        let mut state = lock(self.shard(hash));
        // Found by its fence, as in `finish`.
        Ok(
            match state.records.find_mut(hash, |entry| entry.owner() == fence) {
                Some(entry) if entry.is_held_by(fence) => {
                    entry.state = State::in_progress(fence, now, lease);
                    Finish::Done
                }
                _ => Finish::NotOwner,
            },
        )
    }

    /// Records live in this process: a running handler's record is held, not renewed.
    fn in_process(&self) -> bool {
        true
    }

    fn wait(&self, key: &Key, owner: Fence, timeout: Duration) -> Result<(), StoreError> {
        self.wait_blocking(key, owner, timeout);
        Ok(())
    }
}

fn existing(entry: &Entry, now: Instant) -> Existing {
    let state = match &entry.state {
        State::InProgress {
            owner, lease_until, ..
        } => ExistingState::InProgress {
            owner: *owner,
            lease_remaining: lease_until.saturating_duration_since(now),
        },
        State::Completed { output, .. } => ExistingState::Completed {
            output: Arc::from(&**output),
        },
    };
    Existing {
        fingerprint: entry.fingerprint.fingerprint(),
        state,
    }
}

#[diagnostic::do_not_recommend]
impl AsyncStore for MemoryStore {
    fn begin(
        &self,
        key: &Key,
        fingerprint: &Fingerprint,
        lease: Duration,
    ) -> impl Future<Output = Result<Begin, StoreError>> + Send {
        ready(Store::begin(self, key, fingerprint, lease))
    }

    fn complete(
        &self,
        key: &Key,
        fence: Fence,
        output: &[u8],
        ttl: Duration,
    ) -> impl Future<Output = Result<Finish, StoreError>> + Send {
        ready(Store::complete(self, key, fence, output, ttl))
    }

    fn release(
        &self,
        key: &Key,
        fence: Fence,
    ) -> impl Future<Output = Result<Finish, StoreError>> + Send {
        ready(Store::release(self, key, fence))
    }

    fn renew(
        &self,
        key: &Key,
        fence: Fence,
        lease: Duration,
    ) -> impl Future<Output = Result<Finish, StoreError>> + Send {
        ready(Store::renew(self, key, fence, lease))
    }

    fn in_process(&self) -> bool {
        true
    }

    async fn wait(&self, key: &Key, owner: Fence, timeout: Duration) -> Result<(), StoreError> {
        self.wait_async(key, owner, timeout).await;
        Ok(())
    }

    fn release_detached(&self, key: Key, fence: Fence) {
        let _ = Store::release(self, &key, fence);
    }
}

#[cfg(all(test, idempotent_loom))]
mod loom_tests;
#[cfg(all(test, not(idempotent_loom)))]
mod tests;
