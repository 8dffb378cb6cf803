//! One shard of the memory store: a hash table of records behind a mutex, with the means to
//! wake the callers waiting on it.

use std::sync::PoisonError;
use std::time::{Duration, Instant};

use hashbrown::HashTable;

use super::sync::{Condvar, Mutex, MutexGuard, Notify};
use crate::fingerprint::ParamDigest;
#[cfg(any(doc, test))]
use crate::store::HELD;
use crate::store::{Fence, ABANDONED_RETENTION};
use crate::{Fingerprint, Key, StoreError, StoreErrorKind};

/// One shard, on its own cache lines so two cores never share one.
#[repr(align(128))]
pub(super) struct Shard {
    pub(super) state: Mutex<ShardState>,
    pub(super) changed: Condvar,
    pub(super) notify: Notify,
}

#[derive(Default)]
pub(super) struct ShardState {
    pub(super) records: HashTable<Entry>,
    pub(super) blocked_waiters: usize,
    /// Tasks waiting on [`Shard::notify`]: a change wakes them only if there are any.
    pub(super) async_waiters: usize,
    /// Records acquired in this shard so far: the source of its fences.
    pub(super) acquisitions: u64,
    pub(super) inserts_since_sweep: usize,
    /// How many records the last sweep left: the next sweep comes once as many more were
    /// inserted (so sweeping costs O(1) per insert, amortised, however the shard grows).
    pub(super) left_by_sweep: usize,
}

pub(super) struct Entry {
    pub(super) hash: u64,
    pub(super) key: Box<[u8]>,
    pub(super) fingerprint: StoredFingerprint,
    pub(super) state: State,
}

/// A fingerprint as a record keeps it: its parameters in a slice of their own length, not the
/// inline room a fingerprint being built has (a record is kept for hours; a request's
/// fingerprint lives for one call).
pub(super) struct StoredFingerprint {
    digest: [u8; 32],
    params: Box<[ParamDigest]>,
}

impl StoredFingerprint {
    pub(super) fn of(fingerprint: &Fingerprint) -> Self {
        Self {
            digest: *fingerprint.digest(),
            params: fingerprint.params().into(),
        }
    }

    /// The fingerprint again, for a caller that found the record.
    pub(super) fn fingerprint(&self) -> Fingerprint {
        Fingerprint::from_slice(self.digest, &self.params)
    }
}

pub(super) enum State {
    InProgress {
        owner: Fence,
        lease_until: Instant,
        /// [`ABANDONED_RETENTION`](crate::store::ABANDONED_RETENTION) after `lease_until`:
        /// until then a sweep keeps the record, so an owner running late can still complete
        /// if nobody took over.
        kept_until: Instant,
    },
    Completed {
        /// Who completed it: a retried `complete` of the same owner is answered `Done`.
        owner: Fence,
        /// Owned here, not shared: a replay gets a copy of its own, so threads replaying
        /// records near each other (or the same one) never write to this memory, as a
        /// shared reference count would have them do.
        output: Box<[u8]>,
        expires_at: Instant,
    },
}

impl State {
    /// In progress under `owner`, its lease ending `lease` from `now` ([`HELD`]: never).
    pub(super) fn in_progress(owner: Fence, now: Instant, lease: Duration) -> Self {
        let lease_until = later(now, lease);
        Self::InProgress {
            owner,
            lease_until,
            kept_until: later(lease_until, ABANDONED_RETENTION),
        }
    }
}

/// `at + by`; where that is past what `Instant` holds, an instant about a century ahead (or as
/// far as `Instant` holds): "never", in practice.
fn later(at: Instant, by: Duration) -> Instant {
    if let Some(later) = at.checked_add(by) {
        return later;
    }
    let mut step = Duration::from_secs(1 << 32);
    while !step.is_zero() {
        if let Some(later) = at.checked_add(step) {
            return later;
        }
        step /= 2;
    }
    at
}

impl Entry {
    pub(super) fn is_live(&self, now: Instant) -> bool {
        match self.state {
            State::InProgress { lease_until, .. } => lease_until > now,
            State::Completed { expires_at, .. } => expires_at > now,
        }
    }

    /// Whoever acquired the record last.
    pub(super) fn owner(&self) -> Fence {
        match self.state {
            State::InProgress { owner, .. } | State::Completed { owner, .. } => owner,
        }
    }

    /// Whether this is the record of `key`.
    pub(super) fn is_for(&self, key: &Key) -> bool {
        *self.key == *key.as_bytes()
    }

    /// Whether a sweep may drop the record: completed past its TTL, or abandoned in progress
    /// for a lease past its lease.
    pub(super) fn is_sweepable(&self, now: Instant) -> bool {
        match self.state {
            State::InProgress { kept_until, .. } => kept_until <= now,
            State::Completed { expires_at, .. } => expires_at <= now,
        }
    }

    /// In progress under `fence`, whether or not its lease has run out: nobody took over.
    pub(super) fn is_held_by(&self, fence: Fence) -> bool {
        matches!(self.state, State::InProgress { owner, .. } if owner == fence)
    }

    /// Completed under `fence`: a repeated `complete` of that owner has nothing left to do.
    pub(super) fn is_completed_by(&self, fence: Fence) -> bool {
        matches!(self.state, State::Completed { owner, .. } if owner == fence)
    }

    /// In progress under `fence` with its lease still running: worth waiting for.
    pub(super) fn is_running_under(&self, fence: Fence, now: Instant) -> bool {
        self.is_held_by(fence) && self.is_live(now)
    }
}

impl Shard {
    pub(super) fn new() -> Self {
        Self {
            state: Mutex::default(),
            changed: Condvar::new(),
            notify: Notify::new(),
        }
    }

    pub(super) fn wake(&self, state: &ShardState) {
        if state.blocked_waiters > 0 {
            self.changed.notify_all();
        }
        if state.async_waiters > 0 {
            self.notify.notify_waiters();
        }
    }
}

impl ShardState {
    pub(super) fn find(&self, hash: u64, key: &Key) -> Option<&Entry> {
        self.records.find(hash, |entry| entry.is_for(key))
    }

    pub(super) fn is_running_under(
        &self,
        hash: u64,
        key: &Key,
        owner: Fence,
        now: Instant,
    ) -> bool {
        self.find(hash, key)
            .is_some_and(|entry| entry.is_running_under(owner, now))
    }

    pub(super) fn sweep(&mut self, now: Instant) {
        self.records.retain(|entry| !entry.is_sweepable(now));
        self.inserts_since_sweep = 0;
        self.left_by_sweep = self.records.len();
    }

    /// Makes room for one more record, or says the shard is full of live records (abandoned
    /// in-progress records within their retention count as live: dropping one could let its
    /// handler's work be done twice, where failing closed only delays a new request).
    pub(super) fn make_room(&mut self, capacity: usize, now: Instant) -> Result<(), StoreError> {
        self.inserts_since_sweep += 1;
        if self.records.len() >= capacity
            || self.inserts_since_sweep >= self.left_by_sweep.max(1024)
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

pub(super) fn lock(shard: &Shard) -> MutexGuard<'_, ShardState> {
    // No code that can panic runs under this lock; recover rather than propagate a poison.
    shard.state.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The latest instant `Instant` can hold on this platform.
    fn end_of_time() -> Instant {
        let (mut late, mut step) = (Instant::now(), Duration::from_secs(1 << 62));
        while !step.is_zero() {
            match late.checked_add(step) {
                Some(later) => late = later,
                None => step /= 2,
            }
        }
        late
    }

    #[test]
    fn a_held_lease_is_far_ahead_even_near_the_end_of_time() {
        let now = Instant::now();
        assert!(later(now, HELD).duration_since(now) >= Duration::from_secs(1 << 32));
        let near_the_end = end_of_time() - Duration::from_secs(1 << 31);
        let held = later(near_the_end, HELD);
        assert!(
            held.duration_since(near_the_end) >= Duration::from_secs(1 << 30),
            "a held record would expire soon"
        );
        assert_eq!(
            later(now, Duration::from_secs(5)),
            now + Duration::from_secs(5)
        );
    }
}
