//! TTL expiry, in-progress rejection, lease take-over and fencing, with a manual clock so no
//! test sleeps to let time pass.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use idempotent_runtime::{idempotent, IdempotencyError, ManualClock, MemoryStore};

#[test]
fn a_completed_record_replays_until_its_ttl_then_runs_again() {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    static CLOCK: LazyLock<ManualClock> = LazyLock::new(ManualClock::new);
    static STORE: LazyLock<MemoryStore> =
        LazyLock::new(|| MemoryStore::builder().clock(CLOCK.clone()).build());
    #[idempotent(token = "token", store = &*STORE, ttl = "1h")]
    fn create(size: u32, token: &str) -> usize {
        RUNS.fetch_add(1, SeqCst) + size as usize
    }
    assert_eq!(create(0, "ttl").unwrap(), 0);
    CLOCK.advance(Duration::from_secs(3599));
    assert_eq!(create(0, "ttl").unwrap(), 0, "replayed within the ttl");
    CLOCK.advance(Duration::from_secs(2));
    assert_eq!(create(0, "ttl").unwrap(), 1, "ran again after the ttl");
    assert_eq!(RUNS.load(SeqCst), 2);
}

/// Lets a test hold a handler inside its body: it reports that it started, then waits.
struct Gate {
    started: Mutex<Option<mpsc::Sender<()>>>,
    release: Mutex<Option<mpsc::Receiver<()>>>,
}

impl Gate {
    fn hold(&self) {
        let started = self.started.lock().unwrap().take();
        let release = self.release.lock().unwrap().take();
        if let (Some(started), Some(release)) = (started, release) {
            started.send(()).unwrap();
            release.recv().unwrap();
        }
    }
}

/// A gate the next handler run stops at, with its started signal and its release switch.
fn gate() -> (Gate, mpsc::Receiver<()>, mpsc::Sender<()>) {
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel();
    let gate = Gate {
        started: Mutex::new(Some(started_tx)),
        release: Mutex::new(Some(release_rx)),
    };
    (gate, started_rx, release_tx)
}

#[test]
fn a_duplicate_is_rejected_while_the_first_runs_and_a_mismatch_wins() {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    static GATE: LazyLock<Mutex<Option<Gate>>> = LazyLock::new(|| Mutex::new(None));
    #[idempotent(token = "token")]
    fn create(size: u32, token: String) -> u32 {
        RUNS.fetch_add(1, SeqCst);
        let gate = GATE.lock().unwrap().take();
        if let Some(gate) = gate {
            gate.hold();
        }
        size
    }
    let (held, started, release) = gate();
    *GATE.lock().unwrap() = Some(held);
    let first = std::thread::spawn(|| create(1, "busy".into()));
    started.recv().unwrap();

    let err = create(1, "busy".into()).unwrap_err();
    assert!(
        matches!(&err, IdempotencyError::RequestInProgress { token, .. } if token == "busy"),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert!(
        err.to_string().contains("retry later with the same token"),
        "{err}"
    );
    let err = create(2, "busy".into()).unwrap_err();
    assert!(
        matches!(err, IdempotencyError::IdempotentParameterMismatch { .. }),
        "{err:?}"
    );

    release.send(()).unwrap();
    assert_eq!(first.join().unwrap().unwrap(), 1);
    assert_eq!(create(1, "busy".into()).unwrap(), 1);
    assert_eq!(RUNS.load(SeqCst), 1);
}

#[test]
fn after_the_lease_one_retry_takes_over_and_the_old_owner_is_fenced_off() {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    static CLOCK: LazyLock<ManualClock> = LazyLock::new(ManualClock::new);
    static STORE: LazyLock<MemoryStore> =
        LazyLock::new(|| MemoryStore::builder().clock(CLOCK.clone()).build());
    static GATE: LazyLock<Mutex<Option<Gate>>> = LazyLock::new(|| Mutex::new(None));
    // A stuck worker: with the heartbeat off, its lease ends even though it is still running.
    #[idempotent(token = "token", store = &*STORE, lease = "30s", heartbeat = false)]
    fn create(size: u32, token: String) -> String {
        let run = RUNS.fetch_add(1, SeqCst);
        let gate = GATE.lock().unwrap().take();
        if let Some(gate) = gate {
            gate.hold();
        }
        format!("run-{run}")
    }
    let (held, started, release) = gate();
    *GATE.lock().unwrap() = Some(held);
    let stuck = std::thread::spawn(|| create(1, "lease".into()));
    started.recv().unwrap();

    assert!(matches!(
        create(1, "lease".into()),
        Err(IdempotencyError::RequestInProgress { .. })
    ));
    CLOCK.advance(Duration::from_secs(31));
    assert_eq!(
        create(1, "lease".into()).unwrap(),
        "run-1",
        "a retry after the lease takes over"
    );

    // The stuck worker finishes late: it still answers its own caller ...
    release.send(()).unwrap();
    assert_eq!(stuck.join().unwrap().unwrap(), "run-0");
    // ... but its completion was refused: the record is the new owner's.
    assert_eq!(create(1, "lease".into()).unwrap(), "run-1");
    assert_eq!(RUNS.load(SeqCst), 2);
}

/// On an in-process store the heartbeat needs no renewals: a running handler's record is held
/// until it returns, however long that takes.
#[test]
fn with_the_heartbeat_a_running_handler_on_an_in_process_store_keeps_its_token() {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    static CLOCK: LazyLock<ManualClock> = LazyLock::new(ManualClock::new);
    static STORE: LazyLock<MemoryStore> =
        LazyLock::new(|| MemoryStore::builder().clock(CLOCK.clone()).build());
    static GATE: LazyLock<Mutex<Option<Gate>>> = LazyLock::new(|| Mutex::new(None));
    #[idempotent(token = "token", store = &*STORE, lease = "30s")]
    fn create(size: u32, token: String) -> String {
        let run = RUNS.fetch_add(1, SeqCst);
        let gate = GATE.lock().unwrap().take();
        if let Some(gate) = gate {
            gate.hold();
        }
        format!("run-{run}")
    }
    let (held, started, release) = gate();
    *GATE.lock().unwrap() = Some(held);
    let slow = std::thread::spawn(|| create(1, "held".into()));
    started.recv().unwrap();
    CLOCK.advance(Duration::from_secs(31 * 10));
    assert!(
        matches!(
            create(1, "held".into()),
            Err(IdempotencyError::RequestInProgress { .. })
        ),
        "a live handler's record was taken over"
    );
    release.send(()).unwrap();
    assert_eq!(slow.join().unwrap().unwrap(), "run-0");
    assert_eq!(create(1, "held".into()).unwrap(), "run-0");
    assert_eq!(RUNS.load(SeqCst), 1);
}

/// A waiter whose owner outlives the lease gives up with `RequestInProgress` one lease after it
/// arrived, rather than waiting for ever (a hang fails this test after ten seconds).
#[test]
fn a_waiter_gives_up_one_lease_after_it_arrived() {
    static GATE: LazyLock<Mutex<Option<Gate>>> = LazyLock::new(|| Mutex::new(None));
    #[idempotent(token = "token", concurrent = "wait", lease = "200ms")]
    fn create(size: u32, token: String) -> u32 {
        let gate = GATE.lock().unwrap().take();
        if let Some(gate) = gate {
            gate.hold();
        }
        size
    }
    let (held, started, release) = gate();
    *GATE.lock().unwrap() = Some(held);
    let owner = std::thread::spawn(|| create(1, "gives-up".into()));
    started.recv().unwrap();
    let (answer, answered) = mpsc::channel();
    let arrived = std::time::Instant::now();
    std::thread::spawn(move || answer.send(create(1, "gives-up".into())));
    let waited = answered
        .recv_timeout(Duration::from_secs(10))
        .expect("the waiter never gave up");
    assert!(
        matches!(waited, Err(IdempotencyError::RequestInProgress { .. })),
        "{waited:?}"
    );
    assert!(
        arrived.elapsed() >= Duration::from_millis(200),
        "gave up early"
    );
    release.send(()).unwrap();
    assert_eq!(owner.join().unwrap().unwrap(), 1);
}
