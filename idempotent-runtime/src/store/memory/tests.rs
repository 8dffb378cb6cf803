//! The store's steps against the module contract: atomic acquire, fencing, take-over,
//! expiry, capacity and waking waiters.

use std::time::{Duration, Instant};

use super::*;
use crate::store::ABANDONED_RETENTION;
use crate::{Fingerprinter, Operation, StoreErrorKind};

const LEASE: Duration = Duration::from_secs(30);
const TTL: Duration = Duration::from_secs(3600);

fn key(token: &str) -> Key {
    Key::new(Operation::Named("op"), None, token).expect("valid token")
}

fn fingerprint(size: u32) -> Fingerprint {
    let mut fp = Fingerprinter::new();
    fp.param("size", &size);
    fp.finish().expect("fingerprints")
}

fn acquire(store: &MemoryStore, key: &Key) -> (Fence, bool) {
    match Store::begin(store, key, &fingerprint(1), LEASE) {
        Ok(Begin::Acquired { fence, took_over }) => (fence, took_over),
        other => panic!("expected to acquire, got {other:?}"),
    }
}

fn existing(store: &MemoryStore, key: &Key) -> Existing {
    match Store::begin(store, key, &fingerprint(1), LEASE) {
        Ok(Begin::Existing(existing)) => existing,
        other => panic!("expected a live record, got {other:?}"),
    }
}

fn manual() -> (MemoryStore, ManualClock) {
    let clock = ManualClock::new();
    (MemoryStore::builder().clock(clock.clone()).build(), clock)
}

#[test]
fn the_first_begin_acquires_and_the_next_sees_it_in_progress() {
    let store = MemoryStore::new();
    let (fence, took_over) = acquire(&store, &key("a"));
    assert!(!took_over);
    match existing(&store, &key("a")).state {
        ExistingState::InProgress {
            owner,
            lease_remaining,
        } => {
            assert_eq!(owner, fence);
            assert!(lease_remaining <= LEASE);
        }
        other => panic!("expected in progress, got {other:?}"),
    }
}

#[test]
fn only_the_owner_completes_and_the_output_replays() {
    let store = MemoryStore::new();
    let (fence, _) = acquire(&store, &key("b"));
    let stale = Fence(fence.0 + 1000);
    assert_eq!(
        Store::complete(&store, &key("b"), stale, b"x", TTL).ok(),
        Some(Finish::NotOwner)
    );
    assert_eq!(
        Store::release(&store, &key("b"), stale).ok(),
        Some(Finish::NotOwner)
    );
    assert_eq!(
        Store::complete(&store, &key("b"), fence, b"out", TTL).ok(),
        Some(Finish::Done)
    );
    match existing(&store, &key("b")).state {
        ExistingState::Completed { output } => assert_eq!(&*output, b"out"),
        other => panic!("expected completed, got {other:?}"),
    }
    // A completed record is no longer owned: a late release cannot delete it.
    assert_eq!(
        Store::release(&store, &key("b"), fence).ok(),
        Some(Finish::NotOwner)
    );
}

#[test]
fn release_frees_the_key() {
    let store = MemoryStore::new();
    let (fence, _) = acquire(&store, &key("c"));
    assert_eq!(
        Store::release(&store, &key("c"), fence).ok(),
        Some(Finish::Done)
    );
    let (again, took_over) = acquire(&store, &key("c"));
    assert!(!took_over);
    assert_ne!(again, fence);
}

#[test]
fn after_the_lease_a_new_owner_takes_over_and_the_old_fence_is_refused() {
    let (store, clock) = manual();
    let (old, _) = acquire(&store, &key("d"));
    clock.advance(LEASE);
    let (new, took_over) = acquire(&store, &key("d"));
    assert!(took_over);
    assert_ne!(old, new);
    assert_eq!(
        Store::complete(&store, &key("d"), old, b"late", TTL).ok(),
        Some(Finish::NotOwner)
    );
    assert_eq!(
        Store::release(&store, &key("d"), old).ok(),
        Some(Finish::NotOwner)
    );
    assert_eq!(
        Store::complete(&store, &key("d"), new, b"mine", TTL).ok(),
        Some(Finish::Done)
    );
}

#[test]
fn an_owner_past_its_lease_still_completes_if_nobody_took_over() {
    let (store, clock) = manual();
    let (fence, _) = acquire(&store, &key("late"));
    clock.advance(LEASE * 2);
    assert_eq!(
        Store::complete(&store, &key("late"), fence, b"late", TTL).ok(),
        Some(Finish::Done)
    );
    match existing(&store, &key("late")).state {
        ExistingState::Completed { output } => assert_eq!(&*output, b"late"),
        other => panic!("expected the late result, got {other:?}"),
    }
}

#[test]
fn a_sweep_keeps_a_late_owners_record_through_its_retention() {
    let clock = ManualClock::new();
    let store = MemoryStore::builder()
        .capacity(2)
        .shards(1)
        .clock(clock.clone())
        .build();
    let (late, _) = acquire(&store, &key("slow"));
    acquire(&store, &key("other"));
    clock.advance(LEASE + ABANDONED_RETENTION - Duration::from_secs(1));
    // The shard is full; the sweep this begin triggers must not drop the late owner's record.
    let err = Store::begin(&store, &key("third"), &fingerprint(1), LEASE).expect_err("still full");
    assert_eq!(err.kind(), StoreErrorKind::Capacity);
    assert_eq!(
        Store::complete(&store, &key("slow"), late, b"late", TTL).ok(),
        Some(Finish::Done)
    );
    // Once the retention ends, abandoned records go.
    clock.advance(Duration::from_secs(1));
    acquire(&store, &key("third"));
}

#[test]
fn a_completed_record_expires_after_its_ttl() {
    let (store, clock) = manual();
    let (fence, _) = acquire(&store, &key("e"));
    let _ = Store::complete(&store, &key("e"), fence, b"out", TTL);
    clock.advance(TTL - Duration::from_millis(1));
    let _ = existing(&store, &key("e"));
    clock.advance(Duration::from_millis(1));
    let (_, took_over) = acquire(&store, &key("e"));
    assert!(!took_over, "an expired completed record is not a take-over");
}

#[test]
fn a_full_shard_fails_closed_and_never_evicts_a_live_record() {
    let clock = ManualClock::new();
    let store = MemoryStore::builder()
        .capacity(3)
        .shards(1)
        .clock(clock.clone())
        .build();
    for token in ["f1", "f2", "f3"] {
        acquire(&store, &key(token));
    }
    let err = Store::begin(&store, &key("f4"), &fingerprint(1), LEASE).expect_err("full");
    assert_eq!(err.kind(), StoreErrorKind::Capacity);
    assert!(err.is_transient());
    for token in ["f1", "f2", "f3"] {
        let _ = existing(&store, &key(token));
    }
    // Abandoned in-progress records are dropped once their retention ends.
    clock.advance(LEASE + ABANDONED_RETENTION);
    acquire(&store, &key("f4"));
}

#[test]
fn many_keys_spread_over_shards_and_stay_apart() {
    let store = MemoryStore::builder().capacity(20_000).build();
    let tokens: Vec<String> = (0..10_000).map(|i| format!("k{i}")).collect();
    let fences: Vec<Fence> = tokens
        .iter()
        .map(|token| acquire(&store, &key(token)).0)
        .collect();
    for (token, fence) in tokens.iter().zip(&fences) {
        let output = token.as_bytes();
        assert_eq!(
            Store::complete(&store, &key(token), *fence, output, TTL).ok(),
            Some(Finish::Done)
        );
    }
    for token in &tokens {
        match existing(&store, &key(token)).state {
            ExistingState::Completed { output } => assert_eq!(&*output, token.as_bytes()),
            other => panic!("{token}: {other:?}"),
        }
    }
}

/// How many threads are blocked waiting on the shard of `key`.
fn blocked_waiters(store: &MemoryStore, key: &Key) -> usize {
    lock(store.shard(store.hash(key))).blocked_waiters
}

#[test]
fn a_blocked_waiter_is_woken_by_completion_not_by_its_timeout() {
    let store = MemoryStore::new();
    let (fence, _) = acquire(&store, &key("w"));
    let timeout = Duration::from_secs(10);
    let waiter = {
        let store = store.clone();
        std::thread::spawn(move || {
            let start = Instant::now();
            Store::wait(&store, &key("w"), fence, timeout).expect("waits");
            start.elapsed()
        })
    };
    while blocked_waiters(&store, &key("w")) == 0 {
        assert!(
            !waiter.is_finished(),
            "the waiter returned without blocking, though the record is in progress"
        );
        std::thread::yield_now();
    }
    let _ = Store::complete(&store, &key("w"), fence, b"done", TTL);
    let waited = waiter.join().expect("waiter");
    assert!(
        waited < timeout,
        "the waiter slept out its whole timeout: no notification"
    );
}

#[test]
fn an_async_waiter_is_woken_by_release() {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let _context = runtime.enter();
    let store = MemoryStore::new();
    let (fence, _) = acquire(&store, &key("aw"));
    let key = key("aw");
    let mut wait = std::pin::pin!(AsyncStore::wait(
        &store,
        &key,
        fence,
        Duration::from_secs(10)
    ));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(
        wait.as_mut().poll(&mut cx).is_pending(),
        "the record is in progress: wait"
    );
    let _ = Store::release(&store, &key, fence);
    // No time passes: only the notification can make it ready.
    assert!(matches!(wait.as_mut().poll(&mut cx), Poll::Ready(Ok(()))));
}

/// Dead records are swept now and then as new ones arrive, not only when the store is full.
#[test]
fn expired_records_are_swept_without_pressure() {
    let clock = ManualClock::new();
    let store = MemoryStore::builder()
        .shards(1)
        .capacity(1_000_000)
        .clock(clock.clone())
        .build();
    let complete = |token: &str| {
        let (fence, _) = acquire(&store, &key(token));
        Store::complete(&store, &key(token), fence, b"out", Duration::from_secs(1))
            .expect("completes");
    };
    (0..1_100).for_each(|i| complete(&format!("old-{i}")));
    clock.advance(Duration::from_secs(2));
    (0..1_100).for_each(|i| complete(&format!("new-{i}")));
    assert_eq!(
        store.len(),
        1_100,
        "the expired records were never swept (or live ones were)"
    );
}

#[test]
fn len_counts_the_records_held() {
    let store = MemoryStore::new();
    assert!(store.is_empty());
    assert_eq!(store.len(), 0);
    for token in ["a", "b", "c"] {
        acquire(&store, &key(token));
    }
    assert_eq!(store.len(), 3);
    assert!(!store.is_empty());
}

/// Tasks waiting in the store, as its shards count them.
fn async_waiters(store: &MemoryStore) -> usize {
    store
        .inner
        .shards
        .iter()
        .map(|shard| lock(shard).async_waiters)
        .sum()
}

/// A change wakes tasks only when the shard counts some: a waiter dropped mid-wait is
/// uncounted, and the next one is still woken by the completion (well before its timeout).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_async_waiter_is_uncounted_and_the_next_is_woken() {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};

    let store = MemoryStore::new();
    let k = key("waited");
    let (fence, _) = acquire(&store, &k);
    {
        let mut cancelled = std::pin::pin!(AsyncStore::wait(
            &store,
            &k,
            fence,
            Duration::from_secs(600)
        ));
        let polled = cancelled
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()));
        assert!(matches!(polled, Poll::Pending), "the owner still runs");
        assert_eq!(async_waiters(&store), 1);
    }
    assert_eq!(async_waiters(&store), 0, "a dropped wait is uncounted");
    let waiter = tokio::spawn({
        let (store, k) = (store.clone(), k.clone());
        async move { AsyncStore::wait(&store, &k, fence, Duration::from_secs(600)).await }
    });
    while async_waiters(&store) == 0 {
        tokio::task::yield_now().await;
    }
    assert_eq!(
        Store::complete(&store, &k, fence, b"done", TTL).ok(),
        Some(Finish::Done)
    );
    tokio::time::timeout(Duration::from_secs(10), waiter)
        .await
        .expect("the completion woke the waiter")
        .expect("the waiter's task")
        .expect("the wait");
    assert_eq!(async_waiters(&store), 0);
}
