//! The conformance cases. Each takes a [`Harness`], gets a fresh store and panics with a
//! message naming the broken rule.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::Harness;
use crate::store::{Begin, Existing, ExistingState, Fence, Finish};
use crate::{AsyncStore, Fingerprint, Fingerprinter, Key, Operation, StoreErrorKind};

/// A lease short enough to outlive in a test.
const LEASE: Duration = Duration::from_millis(300);
/// Longer than [`LEASE`]: time enough for it to end.
const PAST_LEASE: Duration = Duration::from_millis(450);
const TTL: Duration = Duration::from_secs(60);

/// A key no other case or run uses.
fn key(case: &str) -> Key {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let run = RandomState::new().hash_one(COUNTER.fetch_add(1, Ordering::Relaxed));
    let token = format!("{case}-{run:016x}");
    match Key::new(Operation::Named("conformance"), None, &token) {
        Ok(key) => key,
        Err(reason) => panic!("test token {token:?} is invalid: {reason}"),
    }
}

fn fingerprint(size: u32) -> Fingerprint {
    let mut fp = Fingerprinter::new();
    fp.param("size", &size);
    fp.param("zone", "eu-west-1a");
    match fp.finish() {
        Ok(fp) => fp,
        Err(err) => panic!("fingerprinting failed: {err}"),
    }
}

async fn begin<S: AsyncStore>(store: &S, key: &Key, size: u32, lease: Duration) -> Begin {
    match store.begin(key, &fingerprint(size), lease).await {
        Ok(begin) => begin,
        Err(err) => panic!("begin failed: {err}"),
    }
}

async fn acquire<S: AsyncStore>(store: &S, key: &Key, lease: Duration) -> (Fence, bool) {
    match begin(store, key, 1, lease).await {
        Begin::Acquired { fence, took_over } => (fence, took_over),
        Begin::Existing(existing) => panic!("expected to acquire a fresh key, found {existing:?}"),
    }
}

async fn existing<S: AsyncStore>(store: &S, key: &Key) -> Existing {
    match begin(store, key, 1, LEASE).await {
        Begin::Existing(existing) => existing,
        Begin::Acquired { .. } => panic!("expected a live record, but begin acquired the key"),
    }
}

async fn complete<S: AsyncStore>(
    store: &S,
    key: &Key,
    fence: Fence,
    output: &[u8],
    ttl: Duration,
) -> Finish {
    match store.complete(key, fence, output, ttl).await {
        Ok(finish) => finish,
        Err(err) => panic!("complete failed: {err}"),
    }
}

async fn release<S: AsyncStore>(store: &S, key: &Key, fence: Fence) -> Finish {
    match store.release(key, fence).await {
        Ok(finish) => finish,
        Err(err) => panic!("release failed: {err}"),
    }
}

fn stale(fence: Fence) -> Fence {
    Fence(fence.0 ^ 0x5555_5555_5555_5555)
}

/// The first `begin` acquires; the next sees the record in progress under the same fence.
pub async fn acquires_then_reports_in_progress<H: Harness>(harness: &H) {
    let store = harness.store().await;
    let key = key("acquire");
    let (fence, took_over) = acquire(&store, &key, LEASE).await;
    assert!(!took_over, "a fresh key is not a take-over");
    match existing(&store, &key).await.state {
        ExistingState::InProgress {
            owner,
            lease_remaining,
        } => {
            assert_eq!(owner, fence, "the record names its owner's fence");
            assert!(
                lease_remaining <= LEASE,
                "lease_remaining {lease_remaining:?} exceeds the lease"
            );
        }
        other => panic!("expected in progress, got {other:?}"),
    }
}

/// Only the current fence completes or releases; the completed output replays as written.
pub async fn only_the_owner_completes_and_the_output_replays<H: Harness>(harness: &H) {
    let store = harness.store().await;
    let key = key("owner");
    let (fence, _) = acquire(&store, &key, LEASE).await;
    assert_eq!(
        complete(&store, &key, stale(fence), b"x", TTL).await,
        Finish::NotOwner,
        "a stale fence completed"
    );
    assert_eq!(
        release(&store, &key, stale(fence)).await,
        Finish::NotOwner,
        "a stale fence released"
    );
    let output = b"\x01O\x00 arbitrary \xff bytes";
    assert_eq!(
        complete(&store, &key, fence, output, TTL).await,
        Finish::Done
    );
    match existing(&store, &key).await.state {
        ExistingState::Completed { output: stored } => assert_eq!(&*stored, &output[..]),
        other => panic!("expected completed, got {other:?}"),
    }
    assert_eq!(
        release(&store, &key, fence).await,
        Finish::NotOwner,
        "a completed record was released"
    );
}

/// A `complete` its owner repeats (the first answer was lost on the way back) is `Done` and
/// leaves the first output in place; another fence is still refused.
pub async fn a_repeated_complete_of_the_owner_is_done_and_changes_nothing<H: Harness>(harness: &H) {
    let store = harness.store().await;
    let key = key("repeat");
    let (fence, _) = acquire(&store, &key, LEASE).await;
    assert_eq!(
        complete(&store, &key, fence, b"first", TTL).await,
        Finish::Done
    );
    assert_eq!(
        complete(&store, &key, fence, b"second", TTL).await,
        Finish::Done,
        "a repeated complete of the owner was refused"
    );
    assert_eq!(
        complete(&store, &key, stale(fence), b"other", TTL).await,
        Finish::NotOwner,
        "another fence completed a completed record"
    );
    match existing(&store, &key).await.state {
        ExistingState::Completed { output } => assert_eq!(&*output, b"first"),
        other => panic!("expected the first output, got {other:?}"),
    }
}

/// Releasing frees the key for the next caller, under a new fence.
pub async fn release_frees_the_key<H: Harness>(harness: &H) {
    let store = harness.store().await;
    let key = key("release");
    let (fence, _) = acquire(&store, &key, LEASE).await;
    assert_eq!(release(&store, &key, fence).await, Finish::Done);
    let (again, took_over) = acquire(&store, &key, LEASE).await;
    assert!(!took_over, "a released key is not a take-over");
    assert_ne!(again, fence, "a new owner must get a new fence");
}

/// Another request sees the first request's fingerprint, per-parameter digests included.
pub async fn a_mismatch_sees_the_stored_fingerprint<H: Harness>(harness: &H) {
    let store = harness.store().await;
    let key = key("mismatch");
    let (fence, _) = acquire(&store, &key, LEASE).await;
    complete(&store, &key, fence, b"out", TTL).await;
    let Begin::Existing(existing) = begin(&store, &key, 2, LEASE).await else {
        panic!("a completed record must not be acquired by another request");
    };
    assert_eq!(
        existing.fingerprint,
        fingerprint(1),
        "the stored fingerprint changed"
    );
    assert_eq!(
        existing.fingerprint.params(),
        fingerprint(1).params(),
        "the parameter digests changed"
    );
    assert_eq!(fingerprint(2).mismatched(&existing.fingerprint), ["size"]);
}

/// After the lease, one caller takes over under a new fence; the old fence is refused.
pub async fn after_the_lease_one_caller_takes_over_and_the_old_fence_is_refused<H: Harness>(
    harness: &H,
) {
    let store = harness.store().await;
    let key = key("takeover");
    let (old, _) = acquire(&store, &key, LEASE).await;
    tokio::time::sleep(PAST_LEASE).await;
    let (new, took_over) = acquire(&store, &key, LEASE).await;
    assert!(
        took_over,
        "replacing an in-progress record whose lease ended is a take-over"
    );
    assert_ne!(old, new);
    assert_eq!(
        complete(&store, &key, old, b"late", TTL).await,
        Finish::NotOwner,
        "the old owner completed"
    );
    assert_eq!(
        release(&store, &key, old).await,
        Finish::NotOwner,
        "the old owner released"
    );
    assert_eq!(
        complete(&store, &key, new, b"mine", TTL).await,
        Finish::Done
    );
}

/// An owner that outlived its lease several times over but was not replaced still records
/// its result: the store keeps an abandoned record for its retention, not a lease or two.
pub async fn a_late_owner_nobody_replaced_still_completes<H: Harness>(harness: &H) {
    let store = harness.store().await;
    let key = key("late");
    let (fence, _) = acquire(&store, &key, LEASE).await;
    tokio::time::sleep(LEASE * 4).await;
    assert_eq!(
        complete(&store, &key, fence, b"late", TTL).await,
        Finish::Done
    );
    match existing(&store, &key).await.state {
        ExistingState::Completed { output } => assert_eq!(&*output, b"late"),
        other => panic!("expected the late result, got {other:?}"),
    }
}

/// Renewing moves the lease's end: past the first lease, the owner's record is still running
/// and nobody takes over. Only the owner renews, and only while the record is in progress.
pub async fn renewing_keeps_the_lease_and_only_the_owner_renews<H: Harness>(harness: &H) {
    let store = harness.store().await;
    let key = key("renew");
    let (fence, _) = acquire(&store, &key, LEASE).await;
    for _ in 0..4 {
        tokio::time::sleep(LEASE / 2).await;
        assert_eq!(renew(&store, &key, fence).await, Finish::Done, "renew");
    }
    match existing(&store, &key).await.state {
        ExistingState::InProgress {
            owner,
            lease_remaining,
        } => {
            assert_eq!(owner, fence, "the renewed record changed owner");
            assert!(
                lease_remaining <= LEASE,
                "{lease_remaining:?} exceeds the lease"
            );
        }
        other => panic!("expected the renewed record in progress, got {other:?}"),
    }
    assert_eq!(
        renew(&store, &key, stale(fence)).await,
        Finish::NotOwner,
        "a stale fence renewed"
    );
    // A lease that ran out does not refuse a renewal by itself: only a take-over does.
    tokio::time::sleep(PAST_LEASE).await;
    assert_eq!(
        renew(&store, &key, fence).await,
        Finish::Done,
        "a late renew"
    );
    complete(&store, &key, fence, b"out", TTL).await;
    assert_eq!(
        renew(&store, &key, fence).await,
        Finish::NotOwner,
        "a completed record was renewed"
    );
}

async fn renew<S: AsyncStore>(store: &S, key: &Key, fence: Fence) -> Finish {
    match store.renew(key, fence, LEASE).await {
        Ok(finish) => finish,
        Err(err) => panic!("renew failed: {err}"),
    }
}

/// A completed record replays until its TTL, then the key is free again.
pub async fn a_completed_record_expires_after_its_ttl<H: Harness>(harness: &H) {
    let store = harness.store().await;
    let key = key("ttl");
    let (fence, _) = acquire(&store, &key, LEASE).await;
    complete(&store, &key, fence, b"out", LEASE).await;
    let _ = existing(&store, &key).await;
    tokio::time::sleep(PAST_LEASE).await;
    let (_, took_over) = acquire(&store, &key, LEASE).await;
    assert!(!took_over, "an expired completed record is not a take-over");
}

/// Of 64 concurrent first calls with one key, exactly one acquires; over 20 keys.
pub async fn sixty_four_concurrent_begins_acquire_once<H: Harness>(harness: &H) {
    let store = harness.store().await;
    for _ in 0..20 {
        let key = key("race");
        let acquired = concurrent_acquisitions(&store, &key, 64).await;
        assert_eq!(
            acquired.len(),
            1,
            "{} callers acquired one key (took over: {acquired:?})",
            acquired.len()
        );
    }
}

/// Random interleavings of four workers' `begin`, `complete`, `release` and `renew` on one key
/// follow the reference model of the store contract: 64 sequences of 40 steps, each under a key
/// of its own. (Leases and TTLs are long here: a real server's clock cannot be moved; time is
/// modelled on `MemoryStore`'s manual clock, in the crate's own tests.)
pub async fn random_operations_follow_the_model<H: Harness>(harness: &H) {
    let store = harness.store().await;
    for seed in 0..64 {
        let key = key("model");
        let ops = super::model::sequence(seed, 4, 40);
        let timing = (60_000, 600_000);
        if let Err(divergence) = super::model::play(&store, &key, timing, 4, &ops, |_| {}).await {
            panic!("sequence {seed} left the model at {divergence}\nthe sequence: {ops:?}");
        }
    }
}

/// After the lease, exactly one of 16 concurrent takers takes over.
pub async fn concurrent_takers_after_the_lease_take_over_once<H: Harness>(harness: &H) {
    let store = harness.store().await;
    let key = key("takers");
    acquire(&store, &key, LEASE).await;
    tokio::time::sleep(PAST_LEASE).await;
    let acquired = concurrent_acquisitions(&store, &key, 16).await;
    assert_eq!(
        acquired,
        [true],
        "expected exactly one take-over, got {acquired:?}"
    );
}

/// Runs `callers` concurrent begins; returns `took_over` of each caller that acquired. The
/// winner's lease is long, so however slow a loaded machine runs the race, nobody may take
/// over from it during the race.
async fn concurrent_acquisitions<S: AsyncStore + Clone + 'static>(
    store: &S,
    key: &Key,
    callers: usize,
) -> Vec<bool> {
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let (store, key) = (store.clone(), key.clone());
            tokio::spawn(async move { store.begin(&key, &fingerprint(1), TTL).await })
        })
        .collect();
    let mut acquired = Vec::new();
    for task in tasks {
        match task.await {
            Ok(Ok(Begin::Acquired { took_over, .. })) => acquired.push(took_over),
            Ok(Ok(Begin::Existing(_))) => {}
            Ok(Err(err)) => panic!("begin failed: {err}"),
            Err(err) => panic!("a caller task failed: {err}"),
        }
    }
    acquired
}

/// A waiter returns once the record it waits on completes, well before its timeout.
pub async fn a_waiter_returns_when_the_record_completes<H: Harness>(harness: &H) {
    let store = harness.store().await;
    let key = key("wait");
    let (fence, _) = acquire(&store, &key, TTL).await;
    let timeout = Duration::from_secs(10);
    let waiter = {
        let (store, key) = (store.clone(), key.clone());
        tokio::spawn(async move {
            let start = Instant::now();
            let waited = store.wait(&key, fence, timeout).await;
            (waited.is_ok(), start.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    complete(&store, &key, fence, b"done", TTL).await;
    match waiter.await {
        Ok((ok, waited)) => {
            assert!(ok, "wait failed");
            assert!(
                waited < timeout,
                "the waiter was not told of the completion"
            );
        }
        Err(err) => panic!("the waiter task failed: {err}"),
    }
}

/// A `complete` whose caller is dropped after the first poll (a cancelled request) still
/// takes effect: the result is recorded, not lost to the lease.
pub async fn a_complete_dropped_after_its_first_poll_still_lands<H: Harness>(harness: &H) {
    use std::future::Future;
    use std::task::{Context, Waker};

    let store = harness.store().await;
    let key = key("dropped");
    let (fence, _) = acquire(&store, &key, TTL).await;
    {
        let mut completing = std::pin::pin!(store.complete(&key, fence, b"kept", TTL));
        let _ = completing
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()));
    }
    for _ in 0..200 {
        match begin(&store, &key, 1, TTL).await {
            Begin::Existing(Existing {
                state: ExistingState::Completed { output },
                ..
            }) => {
                assert_eq!(&*output, b"kept");
                return;
            }
            Begin::Existing(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            Begin::Acquired { .. } => panic!("the record vanished"),
        }
    }
    panic!("a complete dropped after its first poll never landed");
}

/// Garbage written under a key through the raw client is a `Corrupt` error, not a panic.
pub async fn a_corrupt_record_is_an_error<H: Harness>(harness: &H) {
    let store = harness.store().await;
    let key = key("corrupt");
    let (fence, _) = acquire(&store, &key, LEASE).await;
    complete(&store, &key, fence, b"out", TTL).await;
    if !harness.corrupt(&store, &key).await {
        return;
    }
    match store.begin(&key, &fingerprint(1), LEASE).await {
        Err(err) => assert_eq!(err.kind(), StoreErrorKind::Corrupt, "{err}"),
        Ok(begin) => panic!("a corrupt record was read as {begin:?}"),
    }
}

/// A store whose server is down fails every step with a transient error.
pub async fn an_unreachable_store_fails_with_a_transient_error<H: Harness>(harness: &H) {
    let Some(store) = harness.unreachable().await else {
        return;
    };
    let key = key("down");
    match store.begin(&key, &fingerprint(1), LEASE).await {
        Err(err) => assert!(err.is_transient(), "{err} should be transient"),
        Ok(begin) => panic!("an unreachable store answered {begin:?}"),
    }
    assert!(store.complete(&key, Fence(1), b"x", TTL).await.is_err());
    assert!(store.release(&key, Fence(1)).await.is_err());
    assert!(store.renew(&key, Fence(1), LEASE).await.is_err());
}
