//! `SqliteStore` beyond the conformance suite: records survive a restart, separate
//! connections to one file (as separate processes have) still acquire a key once, and
//! `#[idempotent(store = ...)]` works for sync and async handlers.
#![cfg(feature = "sqlite")]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use idempotent_runtime::fingerprint::Fingerprinter;
use idempotent_runtime::store::Begin;
use idempotent_runtime::store::{Key, Operation};
use idempotent_runtime::{idempotent, IdempotencyError, SqliteStore, Store};

/// A database file of its own, removed (with its WAL files) when the test ends.
struct TempDb(PathBuf);

impl TempDb {
    fn new(name: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("idempotent-{name}-{}.db", std::process::id()));
        let db = Self(path);
        db.remove();
        db
    }

    fn open(&self) -> SqliteStore {
        SqliteStore::open(&self.0).expect("opens")
    }

    fn remove(&self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        self.remove();
    }
}

static RUNS: AtomicUsize = AtomicUsize::new(0);

struct Volumes {
    store: SqliteStore,
}

impl Volumes {
    #[idempotent(token = "token", store = self.store, name = "CreateVolume")]
    fn create(&self, size: u32, token: &str) -> String {
        format!("vol-{size}-{}", RUNS.fetch_add(1, SeqCst))
    }

    #[idempotent(token = "token", store = self.store, name = "AttachVolume")]
    async fn attach(&self, volume: String, token: String) -> Result<String, String> {
        Ok(format!("{volume}-attached-{}", RUNS.fetch_add(1, SeqCst)))
    }
}

#[test]
fn a_completed_record_survives_a_restart() {
    let db = TempDb::new("restart");
    let first = Volumes { store: db.open() }.create(8, "restart").unwrap();
    // A new store on the same file, as after a process restart.
    let after_restart = Volumes { store: db.open() }.create(8, "restart").unwrap();
    assert_eq!(first, after_restart);
    let err = Volumes { store: db.open() }
        .create(9, "restart")
        .unwrap_err();
    assert!(err
        .to_string()
        .starts_with("Wrong arguments for request with token restart"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_async_handler_replays_from_sqlite() {
    let db = TempDb::new("async");
    let volumes = Volumes { store: db.open() };
    let first = volumes
        .attach("vol-1".into(), "attach".into())
        .await
        .unwrap();
    assert_eq!(
        volumes
            .attach("vol-1".into(), "attach".into())
            .await
            .unwrap(),
        first
    );
}

#[test]
fn separate_connections_to_one_file_acquire_a_key_once() {
    let db = TempDb::new("connections");
    let stores: Vec<SqliteStore> = (0..8).map(|_| db.open()).collect();
    for round in 0..20 {
        let key = Key::new(Operation::Named("race"), None, &format!("round-{round}")).unwrap();
        let barrier = Arc::new(Barrier::new(32));
        let acquired = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for caller in 0..32 {
                let (store, key, barrier, acquired) =
                    (&stores[caller % 8], &key, &barrier, &acquired);
                scope.spawn(move || {
                    let mut fp = Fingerprinter::new();
                    fp.param("size", &1u32);
                    let fp = fp.finish().unwrap();
                    barrier.wait();
                    if let Begin::Acquired { .. } =
                        Store::begin(store, key, &fp, Duration::from_secs(60)).unwrap()
                    {
                        acquired.fetch_add(1, SeqCst);
                    }
                });
            }
        });
        assert_eq!(acquired.load(SeqCst), 1, "round {round}");
    }
}

#[test]
fn purge_removes_only_dead_records() {
    let db = TempDb::new("purge");
    let store = db.open();
    let key = |t: &str| Key::new(Operation::Named("purge"), None, t).unwrap();
    let mut fp = Fingerprinter::new();
    fp.param("size", &1u32);
    let fp = fp.finish().unwrap();
    let Begin::Acquired { fence, .. } =
        Store::begin(&store, &key("short"), &fp, Duration::from_secs(60)).unwrap()
    else {
        panic!("fresh key");
    };
    Store::complete(&store, &key("short"), fence, b"x", Duration::from_millis(1)).unwrap();
    Store::begin(&store, &key("live"), &fp, Duration::from_secs(60)).unwrap();
    Store::begin(&store, &key("abandoned"), &fp, Duration::from_millis(1)).unwrap();
    std::thread::sleep(Duration::from_millis(5));
    assert_eq!(
        store.purge_expired().unwrap(),
        1,
        "only the completed record past its TTL goes"
    );
    assert!(matches!(
        Store::begin(&store, &key("live"), &fp, Duration::from_secs(60)).unwrap(),
        Begin::Existing(_)
    ));
    // Abandoned an instant ago: kept (its owner may still complete), so this is a take-over.
    assert!(matches!(
        Store::begin(&store, &key("abandoned"), &fp, Duration::from_secs(60)).unwrap(),
        Begin::Acquired {
            took_over: true,
            ..
        }
    ));
}

struct Slow {
    store: SqliteStore,
    runs: Arc<AtomicUsize>,
}

impl Slow {
    /// Runs for five 600 ms leases; a thread beside it renews the lease.
    #[idempotent(token = "token", store = self.store, name = "SlowSync", lease = "600ms")]
    fn slow(&self, token: &str) -> usize {
        let run = self.runs.fetch_add(1, SeqCst);
        std::thread::sleep(Duration::from_millis(3_000));
        run
    }
}

#[test]
fn a_long_sync_handler_keeps_its_lease_from_a_heartbeat_thread() {
    let db = TempDb::new("heartbeat");
    let runs = Arc::new(AtomicUsize::new(0));
    // Two stores on one file, as two processes would have.
    let (first, second) = (
        Slow {
            store: db.open(),
            runs: runs.clone(),
        },
        Slow {
            store: db.open(),
            runs: runs.clone(),
        },
    );
    std::thread::scope(|scope| {
        let running = scope.spawn(|| first.slow("long"));
        while runs.load(SeqCst) == 0 {
            assert!(!running.is_finished(), "the call ended before its body ran");
            std::thread::sleep(Duration::from_millis(5));
        }
        let mut duplicates = 0;
        while !running.is_finished() {
            match second.slow("long") {
                Err(IdempotencyError::RequestInProgress { .. }) => duplicates += 1,
                Ok(run) if running.is_finished() => assert_eq!(run, 0),
                other => panic!("a duplicate got {other:?} while the first still ran"),
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        assert!(duplicates >= 6, "only {duplicates} duplicates were tried");
        assert_eq!(running.join().unwrap().unwrap(), 0);
    });
    assert_eq!(second.slow("long").unwrap(), 0);
    assert_eq!(runs.load(SeqCst), 1, "the handler ran twice");
}

struct Attached {
    store: SqliteStore,
}

impl Attached {
    /// Pending once, so the heartbeat is armed.
    #[idempotent(token = "token", store = self.store, name = "Yields")]
    async fn yields(&self, size: u32, token: String) -> u32 {
        tokio::task::yield_now().await;
        size
    }
}

/// Review finding: on a Tokio runtime built without timers, arming the heartbeat panicked the
/// handler's task. Now the handler runs without one, and says so.
#[test]
fn a_runtime_without_timers_runs_the_handler_without_a_heartbeat() {
    let db = TempDb::new("no-timers");
    let attached = Attached { store: db.open() };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let captured = idempotent_tests::captured::Captured::default();
    let _events = tracing::subscriber::set_default(captured.subscriber());
    let first = runtime.block_on(attached.yields(3, "no-timers".into()));
    assert_eq!(first.unwrap(), 3);
    assert_eq!(
        runtime
            .block_on(attached.yields(3, "no-timers".into()))
            .unwrap(),
        3
    );
    assert!(!captured.outcomes("heartbeat_failed").is_empty());
}
