//! What a caller sees when its store fails at each step, through `testing::FaultyStore`:
//!
//! - `begin` fails: the handler does not run; the caller gets a retryable `Store` error.
//! - `complete` fails once (unreachable, or its answer lost): it is retried and the result is
//!   recorded. It keeps failing: the caller still gets its result, an `error` event is
//!   emitted, and the record stays in progress until its lease ends.
//! - `release` fails: an `error` event; the lease frees the key.
//! - `renew` (the heartbeat) fails: a `warn` event per failed beat; if the lease ends and
//!   another caller takes over, the old owner's completion is refused (`lease_lost`).

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use idempotent_runtime::testing::{Fault, FaultyStore, Step};
use idempotent_runtime::{idempotent, IdempotencyError, ManualClock, MemoryStore};
use idempotent_tests::captured::Captured;

struct Service {
    store: FaultyStore<MemoryStore>,
    clock: ManualClock,
    runs: AtomicUsize,
}

impl Service {
    fn new() -> Self {
        let clock = ManualClock::new();
        Self {
            store: FaultyStore::new(MemoryStore::builder().clock(clock.clone()).build()),
            clock,
            runs: AtomicUsize::new(0),
        }
    }

    #[idempotent(token = "token", store = self.store, name = "Create", lease = "30s")]
    fn create(&self, fail: bool, token: &str) -> Result<usize, String> {
        let run = self.runs.fetch_add(1, SeqCst);
        if fail {
            return Err("the handler failed".into());
        }
        Ok(run)
    }
}

#[test]
fn when_begin_fails_the_handler_does_not_run() {
    let service = Service::new();
    service.store.fail(Step::Begin, Fault::Unreachable, 1);
    let err = service.create(false, "begin").unwrap_err();
    assert!(matches!(err, IdempotencyError::Store(_)), "{err:?}");
    assert!(err.is_retryable());
    assert_eq!(service.runs.load(SeqCst), 0);
    assert_eq!(service.create(false, "begin").unwrap(), 0);
}

#[test]
fn a_complete_that_fails_once_is_retried_and_recorded() {
    for fault in [Fault::Unreachable, Fault::AnswerLost] {
        let service = Service::new();
        let captured = Captured::default();
        service.store.fail(Step::Complete, fault, 1);
        let first = tracing::subscriber::with_default(captured.subscriber(), || {
            service.create(false, "complete-once").unwrap()
        });
        assert_eq!(service.store.calls(Step::Complete), 2, "{fault:?}");
        assert_eq!(service.create(false, "complete-once").unwrap(), first);
        assert_eq!(service.runs.load(SeqCst), 1, "{fault:?}: the replay ran");
        assert_eq!(captured.outcomes("finish_retried").len(), 1, "{fault:?}");
        assert_eq!(
            captured.outcomes("executed").len(),
            1,
            "{fault:?}: {}",
            captured.text()
        );
        assert!(captured.outcomes("lease_lost").is_empty(), "{fault:?}");
        assert!(
            captured.outcomes("released").is_empty(),
            "{fault:?}: released after success"
        );
    }
}

#[test]
fn a_complete_that_keeps_failing_returns_the_result_and_leaves_the_record_to_its_lease() {
    let service = Service::new();
    let captured = Captured::default();
    service
        .store
        .fail_always(Step::Complete, Fault::Unreachable);
    let first = tracing::subscriber::with_default(captured.subscriber(), || {
        service.create(false, "complete-never")
    });
    assert_eq!(first.unwrap(), 0, "the caller gets its result");
    assert_eq!(service.store.calls(Step::Complete), 3, "three attempts");
    let errors = captured.outcomes("store_error");
    assert_eq!(errors.len(), 1, "{}", captured.text());
    assert!(errors[0].contains("ERROR"), "{}", errors[0]);
    service.store.heal();
    assert!(
        matches!(
            service.create(false, "complete-never"),
            Err(IdempotencyError::RequestInProgress { .. })
        ),
        "the record stays in progress"
    );
    service.clock.advance(Duration::from_secs(31));
    assert_eq!(
        service.create(false, "complete-never").unwrap(),
        1,
        "after the lease a retry runs"
    );
}

#[test]
fn a_release_that_fails_leaves_the_key_to_its_lease() {
    let service = Service::new();
    let captured = Captured::default();
    service.store.fail_always(Step::Release, Fault::Unreachable);
    let err = tracing::subscriber::with_default(captured.subscriber(), || {
        service.create(true, "release").unwrap_err()
    });
    assert!(matches!(err, IdempotencyError::Handler(_)), "{err:?}");
    assert_eq!(captured.outcomes("store_error").len(), 1);
    service.store.heal();
    assert!(matches!(
        service.create(true, "release"),
        Err(IdempotencyError::RequestInProgress { .. })
    ));
    service.clock.advance(Duration::from_secs(31));
    assert!(matches!(
        service.create(true, "release"),
        Err(IdempotencyError::Handler(_))
    ));
    assert_eq!(service.runs.load(SeqCst), 2, "after the lease a retry ran");
}

#[test]
fn a_release_whose_answer_was_lost_is_reported_released() {
    let service = Service::new();
    let captured = Captured::default();
    service.store.fail(Step::Release, Fault::AnswerLost, 1);
    tracing::subscriber::with_default(captured.subscriber(), || {
        service.create(true, "release-lost").unwrap_err()
    });
    assert_eq!(
        captured.outcomes("released").len(),
        1,
        "{}",
        captured.text()
    );
    assert_eq!(
        service.create(false, "release-lost").unwrap(),
        1,
        "the key was free at once"
    );
}

/// A handler on a remote-looking store, renewing a 200 ms lease while it runs for 800 ms.
struct Remote {
    store: FaultyStore<MemoryStore>,
    runs: AtomicUsize,
}

impl Remote {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            store: FaultyStore::new(MemoryStore::new()).as_remote(),
            runs: AtomicUsize::new(0),
        })
    }

    #[idempotent(token = "token", store = self.store, name = "Slow", lease = "200ms")]
    async fn slow(&self, token: String) -> usize {
        let run = self.runs.fetch_add(1, SeqCst);
        tokio::time::sleep(Duration::from_millis(800)).await;
        run
    }
}

#[tokio::test]
async fn a_failing_heartbeat_lets_the_lease_end_and_the_old_owner_cannot_complete() {
    let captured = Captured::default();
    let _events = tracing::subscriber::set_default(captured.subscriber());
    let remote = Remote::new();
    remote.store.fail_always(Step::Renew, Fault::Unreachable);
    let first = tokio::spawn({
        let remote = remote.clone();
        async move { remote.slow("beat".into()).await }
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    // The lease ended unrenewed: this caller takes over and runs.
    let second = remote.slow("beat".into()).await.unwrap();
    assert_eq!(second, 1);
    assert_eq!(
        first.await.unwrap().unwrap(),
        0,
        "the old owner answers its own caller"
    );
    assert!(!captured.outcomes("heartbeat_failed").is_empty());
    let lost = captured.outcomes("lease_lost");
    assert_eq!(lost.len(), 1, "{}", captured.text());
    assert!(lost[0].contains("WARN"), "{}", lost[0]);
    assert_eq!(captured.outcomes("taken_over").len(), 1);
    assert_eq!(
        remote.slow("beat".into()).await.unwrap(),
        1,
        "the record is the new owner's"
    );
}

#[tokio::test]
async fn a_heartbeat_that_fails_once_keeps_the_lease() {
    let remote = Remote::new();
    remote.store.fail(Step::Renew, Fault::Unreachable, 1);
    let first = tokio::spawn({
        let remote = remote.clone();
        async move { remote.slow("beat-once".into()).await }
    });
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(matches!(
            remote.slow("beat-once".into()).await,
            Err(IdempotencyError::RequestInProgress { .. })
        ));
    }
    assert_eq!(first.await.unwrap().unwrap(), 0);
    // 800 ms at a beat every 66 ms: about twelve renewals, not a busy loop.
    let renewals = remote.store.calls(Step::Renew);
    assert!(
        remote.store.faults(Step::Renew) == 1 && (3..=20).contains(&renewals),
        "{renewals}"
    );
    assert_eq!(remote.runs.load(SeqCst), 1);
}

impl Service {
    #[idempotent(token = "token", store = self.store, name = "Panics", lease = "30s")]
    fn panics(&self, token: &str) -> usize {
        let run = self.runs.fetch_add(1, SeqCst);
        if run == 0 {
            panic!("the first run panics");
        }
        run
    }
}

/// Review finding: a held record (in-process store) whose release failed after a panic stayed
/// held for ever; now it gets a lease, and after it a retry runs.
#[test]
fn a_held_record_whose_release_fails_gets_a_lease() {
    let service = Service::new();
    service.store.fail_always(Step::Release, Fault::Unreachable);
    assert!(std::panic::catch_unwind(|| service.panics("unheld")).is_err());
    service.store.heal();
    assert!(matches!(
        service.panics("unheld"),
        Err(IdempotencyError::RequestInProgress { .. })
    ));
    service.clock.advance(Duration::from_secs(31));
    assert_eq!(service.panics("unheld").unwrap(), 1);
}

/// A store whose `renew` panics (a bug of its own): the heartbeat thread dies, the call does not.
#[derive(Clone)]
struct PanickyRenew(MemoryStore);

impl idempotent_runtime::Store for PanickyRenew {
    fn begin(
        &self,
        key: &idempotent_runtime::store::Key,
        fingerprint: &idempotent_runtime::fingerprint::Fingerprint,
        lease: Duration,
    ) -> Result<idempotent_runtime::store::Begin, idempotent_runtime::StoreError> {
        idempotent_runtime::Store::begin(&self.0, key, fingerprint, lease)
    }
    fn complete(
        &self,
        key: &idempotent_runtime::store::Key,
        fence: idempotent_runtime::store::Fence,
        output: &[u8],
        ttl: Duration,
    ) -> Result<idempotent_runtime::store::Finish, idempotent_runtime::StoreError> {
        idempotent_runtime::Store::complete(&self.0, key, fence, output, ttl)
    }
    fn release(
        &self,
        key: &idempotent_runtime::store::Key,
        fence: idempotent_runtime::store::Fence,
    ) -> Result<idempotent_runtime::store::Finish, idempotent_runtime::StoreError> {
        idempotent_runtime::Store::release(&self.0, key, fence)
    }
    fn renew(
        &self,
        _: &idempotent_runtime::store::Key,
        _: idempotent_runtime::store::Fence,
        _: Duration,
    ) -> Result<idempotent_runtime::store::Finish, idempotent_runtime::StoreError> {
        panic!("renew has a bug")
    }
}

struct Beating {
    store: PanickyRenew,
}

impl Beating {
    #[idempotent(token = "token", store = self.store, name = "Beating", lease = "30ms")]
    fn slow(&self, token: &str) -> u32 {
        std::thread::sleep(Duration::from_millis(60));
        7
    }
}

#[test]
fn a_heartbeat_thread_that_panics_costs_a_report_not_the_result() {
    let beating = Beating {
        store: PanickyRenew(MemoryStore::new()),
    };
    let captured = Captured::default();
    let answer = tracing::subscriber::with_default(captured.subscriber(), || beating.slow("beat"));
    assert_eq!(answer.unwrap(), 7);
    assert!(
        captured
            .outcomes("heartbeat_failed")
            .iter()
            .any(|line| line.contains("panicked")),
        "{}",
        captured.text()
    );
    assert_eq!(captured.outcomes("executed").len(), 1);
}

#[test]
fn a_refused_complete_is_not_retried() {
    let service = Service::new();
    let captured = Captured::default();
    service.store.fail(Step::Complete, Fault::Refused, 1);
    let first = tracing::subscriber::with_default(captured.subscriber(), || {
        service.create(false, "refused")
    });
    assert_eq!(first.unwrap(), 0, "the caller gets its result");
    assert_eq!(service.store.calls(Step::Complete), 1, "a refusal is final");
    assert!(captured.outcomes("finish_retried").is_empty());
    assert_eq!(captured.outcomes("store_error").len(), 1);
}

/// A handler on an in-process store whose `complete` keeps failing.
struct Held {
    store: FaultyStore<MemoryStore>,
    runs: AtomicUsize,
}

impl Held {
    #[idempotent(token = "token", store = self.store, name = "Held")]
    async fn create(&self, token: String) -> usize {
        self.runs.fetch_add(1, SeqCst)
    }
}

/// A call cancelled while it retries its `complete` does not leave its record held for ever
/// (the retry pauses sum to 125 ms; the call is dropped 60 ms in).
#[tokio::test]
async fn a_call_cancelled_while_retrying_its_complete_leaves_no_held_record() {
    let held = Held {
        store: FaultyStore::new(MemoryStore::new()),
        runs: AtomicUsize::new(0),
    };
    held.store.fail_always(Step::Complete, Fault::Unreachable);
    let cancelled =
        tokio::time::timeout(Duration::from_millis(60), held.create("cancelled".into())).await;
    assert!(cancelled.is_err(), "the call was still retrying");
    held.store.heal();
    assert_eq!(
        held.create("cancelled".into()).await.unwrap(),
        1,
        "the key was free: the retry ran"
    );
}

/// A sync handler on a store that is not in-process: a scoped thread renews its lease.
struct SyncRemote {
    store: FaultyStore<MemoryStore>,
    runs: AtomicUsize,
}

impl SyncRemote {
    #[idempotent(token = "token", store = self.store, name = "SyncRemote", lease = "150ms")]
    fn slow(&self, token: &str) -> usize {
        let run = self.runs.fetch_add(1, SeqCst);
        std::thread::sleep(Duration::from_millis(600));
        run
    }
}

/// The sync heartbeat renews every lease/3 while the body runs, stops when it returns, and a
/// duplicate meanwhile is refused, never run (a heartbeat that never stops hangs this test).
#[test]
fn a_sync_heartbeat_renews_while_the_body_runs_and_stops_after() {
    let remote = SyncRemote {
        store: FaultyStore::new(MemoryStore::new()).as_remote(),
        runs: AtomicUsize::new(0),
    };
    std::thread::scope(|scope| {
        let running = scope.spawn(|| remote.slow("sync-beat"));
        while remote.runs.load(SeqCst) == 0 {
            assert!(!running.is_finished(), "the call ended before its body ran");
            std::thread::sleep(Duration::from_millis(5));
        }
        while !running.is_finished() {
            match remote.slow("sync-beat") {
                Err(IdempotencyError::RequestInProgress { .. }) => {}
                Ok(0) if running.is_finished() => {}
                other => panic!("a duplicate got {other:?} while the first ran"),
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(running.join().unwrap().unwrap(), 0);
    });
    let renewals = remote.store.calls(Step::Renew);
    // 600 ms at a beat every 50 ms: about twelve renewals.
    assert!((3..=20).contains(&renewals), "{renewals} renewals");
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        remote.store.calls(Step::Renew),
        renewals,
        "the heartbeat outlived its call"
    );
    assert_eq!(remote.slow("sync-beat").unwrap(), 0);
    assert_eq!(remote.runs.load(SeqCst), 1);
}
