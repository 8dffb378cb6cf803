//! The conformance suite on `MemoryStore`, through its async and its blocking interface, and
//! through a `FaultyStore` that injects nothing.

use idempotent_runtime::testing::{Blocking, FaultyStore, Harness};
use idempotent_runtime::MemoryStore;

struct Memory;

impl Harness for Memory {
    type Store = MemoryStore;
    async fn store(&self) -> MemoryStore {
        MemoryStore::new()
    }
}

struct MemoryBlocking;

impl Harness for MemoryBlocking {
    type Store = Blocking<MemoryStore>;
    async fn store(&self) -> Blocking<MemoryStore> {
        Blocking(MemoryStore::new())
    }
}

idempotent_runtime::store_conformance!(memory_async, Memory);
idempotent_runtime::store_conformance!(memory_blocking, MemoryBlocking);

/// `FaultyStore` with no fault planned is the store it wraps.
struct FaultlessMemory;

impl Harness for FaultlessMemory {
    type Store = FaultyStore<MemoryStore>;
    async fn store(&self) -> FaultyStore<MemoryStore> {
        FaultyStore::new(MemoryStore::new())
    }
}

idempotent_runtime::store_conformance!(faultless_memory, FaultlessMemory);
