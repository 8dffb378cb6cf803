//! `MemoryStoreBuilder`: capacity, shard count and clock of a `MemoryStore`.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::Arc;

use super::shard::Shard;
use super::{Inner, MemoryStore, DEFAULT_CAPACITY};
use crate::store::ManualClock;

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

    /// The number of shards, rounded up to a power of two (default: 128 per core, 64 to 4,096;
    /// never more than the capacity). Many small shards keep two threads apart and a table's
    /// growth short; an empty shard costs a few hundred bytes.
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
            .unwrap_or_else(|| (cores * 128).clamp(64, 4096))
            .next_power_of_two()
            .min(self.capacity.next_power_of_two());
        MemoryStore {
            inner: Arc::new(Inner {
                shards: (0..shards).map(|_| Shard::new()).collect(),
                shard_capacity: self.capacity.div_ceil(shards),
                clock: self.clock,
                seed: RandomState::new().hash_one(0u8),
            }),
        }
    }
}
