//! `MemoryStore`: the default store, for one process.
//!
//! Records live in a fixed number of shards, each a hash table behind its own mutex, so
//! threads working on different tokens rarely meet. A key is hashed once (XXH3 with a seed
//! drawn per store, so clients cannot aim tokens at one bucket) and the hash picks both the
//! shard and the bucket. A record past its TTL (or an in-progress record past
//! its lease) is dead: it is replaced on the next `begin` of its key and swept from its shard
//! now and then (amortised O(1) per insert). The store is bounded: when a shard is full it drops
//! dead records, and if none is dead it fails closed with a transient `Capacity` error; it
//! never evicts a live record. Waiters (`concurrent = "wait"`) are woken by notification, a
//! condition variable for threads and a Tokio `Notify` for tasks, not by polling.

use std::collections::hash_map::RandomState;
use std::future::{ready, Future};
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use hashbrown::HashTable;
use tokio::sync::Notify;

use super::{AsyncStore, Begin, Existing, ExistingState, Fence, Finish, Store};
use crate::{Fingerprint, Key, StoreError, StoreErrorKind};

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
    fences: AtomicU64,
    seed: u64,
}

/// One shard, on its own cache lines so two cores never share one.
#[repr(align(128))]
struct Shard {
    state: Mutex<ShardState>,
    changed: Condvar,
    notify: Notify,
}

#[derive(Default)]
struct ShardState {
    records: HashTable<Entry>,
    blocked_waiters: usize,
    inserts_since_sweep: usize,
}

struct Entry {
    hash: u64,
    key: Box<[u8]>,
    fingerprint: Arc<Fingerprint>,
    state: State,
}

enum State {
    InProgress {
        owner: Fence,
        lease_until: Instant,
    },
    Completed {
        output: Arc<[u8]>,
        expires_at: Instant,
    },
}

impl Entry {
    fn is_live(&self, now: Instant) -> bool {
        match self.state {
            State::InProgress { lease_until, .. } => lease_until > now,
            State::Completed { expires_at, .. } => expires_at > now,
        }
    }

    fn is_owned_by(&self, fence: Fence, now: Instant) -> bool {
        matches!(self.state, State::InProgress { owner, lease_until } if owner == fence && lease_until > now)
    }
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
        &self.inner.shards[((hash >> 32) as usize) & (self.inner.shards.len() - 1)]
    }

    fn next_fence(&self) -> Fence {
        Fence(self.inner.fences.fetch_add(1, Ordering::Relaxed) + 1)
    }

    /// Steps 2 and 3 share this: apply `finish` if `fence` still owns the record.
    fn finish(&self, key: &Key, fence: Fence, finish: impl FnOnce(&mut ShardState, u64)) -> Finish {
        let now = self.now();
        let hash = self.hash(key);
        let shard = self.shard(hash);
        let mut state = lock(shard);
        let owned = state
            .find(hash, key)
            .is_some_and(|entry| entry.is_owned_by(fence, now));
        if !owned {
            return Finish::NotOwner;
        }
        finish(&mut state, hash);
        shard.wake(&state);
        Finish::Done
    }

    fn wait_blocking(&self, key: &Key, owner: Fence, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let hash = self.hash(key);
        let shard = self.shard(hash);
        let mut state = lock(shard);
        while state.is_owned_by(hash, key, owner, self.now()) {
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
            let state = lock(shard);
            if !state.is_owned_by(hash, key, owner, self.now()) {
                return;
            }
            // Registered under the lock: a change made after it cannot be missed.
            notified.as_mut().enable();
        }
        let _ = tokio::time::timeout(timeout, notified).await;
    }
}

impl Shard {
    fn new() -> Self {
        Self {
            state: Mutex::default(),
            changed: Condvar::new(),
            notify: Notify::new(),
        }
    }

    fn wake(&self, state: &ShardState) {
        if state.blocked_waiters > 0 {
            self.changed.notify_all();
        }
        self.notify.notify_waiters();
    }
}

impl ShardState {
    fn find(&self, hash: u64, key: &Key) -> Option<&Entry> {
        self.records
            .find(hash, |entry| *entry.key == *key.as_bytes())
    }

    fn find_mut(&mut self, hash: u64, key: &Key) -> Option<&mut Entry> {
        self.records
            .find_mut(hash, |entry| *entry.key == *key.as_bytes())
    }

    fn is_owned_by(&self, hash: u64, key: &Key, owner: Fence, now: Instant) -> bool {
        self.find(hash, key)
            .is_some_and(|entry| entry.is_owned_by(owner, now))
    }

    fn sweep(&mut self, now: Instant) {
        self.records.retain(|entry| entry.is_live(now));
        self.inserts_since_sweep = 0;
    }

    /// Makes room for one more record, or says the shard is full of live records.
    fn make_room(&mut self, capacity: usize, now: Instant) -> Result<(), StoreError> {
        self.inserts_since_sweep += 1;
        if self.records.len() >= capacity
            || self.inserts_since_sweep >= self.records.len().max(1024)
        {
            self.sweep(now);
        }
        if self.records.len() >= capacity {
            return Err(StoreError::new(
                StoreErrorKind::Capacity,
                format!("the memory store holds {capacity} live records in this shard; raise its capacity or lower the ttl"),
            ));
        }
        Ok(())
    }
}

fn lock(shard: &Shard) -> MutexGuard<'_, ShardState> {
    // No code that can panic runs under this lock; recover rather than propagate a poison.
    shard.state.lock().unwrap_or_else(PoisonError::into_inner)
}

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
        let fresh = |fence| Entry {
            hash,
            key: key.as_bytes().into(),
            fingerprint: Arc::new(fingerprint.clone()),
            state: State::InProgress {
                owner: fence,
                lease_until: now + lease,
            },
        };
        if let Some(entry) = state.find_mut(hash, key) {
            if entry.is_live(now) {
                return Ok(Begin::Existing(existing(entry, now)));
            }
            let took_over = matches!(entry.state, State::InProgress { .. });
            let fence = self.next_fence();
            entry.fingerprint = Arc::new(fingerprint.clone());
            entry.state = State::InProgress {
                owner: fence,
                lease_until: now + lease,
            };
            if took_over {
                shard.wake(&state);
            }
            return Ok(Begin::Acquired { fence, took_over });
        }
        state.make_room(self.inner.shard_capacity, now)?;
        let fence = self.next_fence();
        state
            .records
            .insert_unique(hash, fresh(fence), |entry| entry.hash);
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
        Ok(self.finish(key, fence, |state, hash| {
            if let Some(entry) = state.find_mut(hash, key) {
                entry.state = State::Completed {
                    output: output.into(),
                    expires_at,
                };
            }
        }))
    }

    fn release(&self, key: &Key, fence: Fence) -> Result<Finish, StoreError> {
        Ok(self.finish(key, fence, |state, hash| {
            if let Ok(entry) = state
                .records
                .find_entry(hash, |entry| *entry.key == *key.as_bytes())
            {
                entry.remove();
            }
        }))
    }

    fn wait(&self, key: &Key, owner: Fence, timeout: Duration) -> Result<(), StoreError> {
        self.wait_blocking(key, owner, timeout);
        Ok(())
    }
}

fn existing(entry: &Entry, now: Instant) -> Existing {
    let state = match &entry.state {
        State::InProgress { owner, lease_until } => ExistingState::InProgress {
            owner: *owner,
            lease_remaining: lease_until.saturating_duration_since(now),
        },
        State::Completed { output, .. } => ExistingState::Completed {
            output: Arc::clone(output),
        },
    };
    Existing {
        fingerprint: Arc::clone(&entry.fingerprint),
        state,
    }
}

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

    async fn wait(&self, key: &Key, owner: Fence, timeout: Duration) -> Result<(), StoreError> {
        self.wait_async(key, owner, timeout).await;
        Ok(())
    }

    fn release_detached(&self, key: Key, fence: Fence) {
        let _ = Store::release(self, &key, fence);
    }
}

/// Configures a [`MemoryStore`].
#[derive(Debug, Clone)]
pub struct MemoryStoreBuilder {
    capacity: usize,
    shards: Option<usize>,
    clock: Option<ManualClock>,
}

impl Default for MemoryStoreBuilder {
    fn default() -> Self {
        Self {
            capacity: DEFAULT_CAPACITY,
            shards: None,
            clock: None,
        }
    }
}

impl MemoryStoreBuilder {
    /// The most records the store holds (live or awaiting a sweep); at least 1.
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// The number of shards, rounded up to a power of two (default: 4 per core, 8 to 256).
    pub fn shards(mut self, shards: usize) -> Self {
        self.shards = Some(shards.clamp(1, 1 << 16));
        self
    }

    /// Reads time from a [`ManualClock`] instead of the system, so tests can expire leases
    /// and TTLs without sleeping.
    pub fn clock(mut self, clock: ManualClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Builds the store.
    pub fn build(self) -> MemoryStore {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let shards = self
            .shards
            .unwrap_or_else(|| (cores * 4).clamp(8, 256))
            .next_power_of_two()
            .min(self.capacity.next_power_of_two());
        MemoryStore {
            inner: Arc::new(Inner {
                shards: (0..shards).map(|_| Shard::new()).collect(),
                shard_capacity: self.capacity.div_ceil(shards),
                clock: self.clock,
                fences: AtomicU64::new(0),
                seed: RandomState::new().hash_one(0u8),
            }),
        }
    }
}

/// A clock that moves only when told to; for tests of TTLs and leases.
///
/// ```
/// use std::time::Duration;
/// use idempotent_runtime::{ManualClock, MemoryStore};
/// let clock = ManualClock::new();
/// let store = MemoryStore::builder().clock(clock.clone()).build();
/// clock.advance(Duration::from_secs(61)); // every 60 s lease has now ended
/// # let _ = store;
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    inner: Arc<(Instant, AtomicU64)>,
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl ManualClock {
    /// A clock starting at the current instant.
    pub fn new() -> Self {
        Self {
            inner: Arc::new((Instant::now(), AtomicU64::new(0))),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.inner.1.fetch_add(nanos, Ordering::SeqCst);
    }

    /// The clock's current instant.
    pub fn now(&self) -> Instant {
        self.inner.0 + Duration::from_nanos(self.inner.1.load(Ordering::SeqCst))
    }
}
