//! `ManualClock`: time that moves only when a test says so.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
