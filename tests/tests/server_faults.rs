//! Real faults on the real servers: Redis killed and restarted, PostgreSQL backends terminated
//! under the store, an SQLite file locked by another writer. The service recovers by itself
//! once the server is back, and no completed record is lost on PostgreSQL or SQLite.
#![cfg(all(feature = "sqlite", feature = "redis", feature = "postgres"))]

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use idempotent_runtime::{idempotent, AsyncStore, IdempotencyError};

struct Service<S> {
    store: S,
    runs: AtomicUsize,
    /// Runs inside the handler's body, after it started: the fault, if any.
    fault: Box<dyn Fn() + Send + Sync>,
}

impl<S: AsyncStore + Clone> Service<S> {
    fn new(store: S, fault: impl Fn() + Send + Sync + 'static) -> Self {
        Self {
            store,
            runs: AtomicUsize::new(0),
            fault: Box::new(fault),
        }
    }

    #[idempotent(token = "token", store = self.store, name = "Create")]
    async fn create(&self, size: u32, token: String) -> usize {
        let run = self.runs.fetch_add(1, SeqCst);
        (self.fault)();
        run + size as usize
    }

    /// Calls until the store answers (a transient error is retried for up to five seconds).
    async fn create_eventually(&self, size: u32, token: &str) -> usize {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match self.create(size, token.into()).await {
                Ok(value) => return value,
                Err(err) if err.is_retryable() && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await
                }
                Err(err) => panic!("the service did not recover: {err}"),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_redis_fails_closed_and_the_service_recovers_when_it_is_back() {
    use idempotent_runtime::RedisStore;
    use idempotent_tests::redis_server::PrivateRedis;

    let mut server = PrivateRedis::start();
    let service = Service::new(RedisStore::new(&server.url()).unwrap(), || {});
    assert_eq!(service.create(1, "before".into()).await.unwrap(), 1);

    server.kill();
    let err = service.create(2, "while-down".into()).await.unwrap_err();
    assert!(
        matches!(err, IdempotencyError::Store(ref e) if e.is_transient()),
        "{err:?}"
    );
    assert_eq!(
        service.runs.load(SeqCst),
        1,
        "the handler ran with Redis down"
    );

    server.restart();
    // The same store, no reconnect by hand.
    let after = service.create_eventually(3, "after").await;
    assert_eq!(service.create(3, "after".into()).await.unwrap(), after);
    assert_eq!(service.runs.load(SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarted_while_a_handler_runs_still_answers_its_caller() {
    use std::sync::{Arc, Mutex};

    use idempotent_runtime::RedisStore;
    use idempotent_tests::redis_server::PrivateRedis;

    let server = Arc::new(Mutex::new(PrivateRedis::start()));
    let url = server.lock().unwrap().url();
    let restart = {
        let server = server.clone();
        move || server.lock().unwrap().restart()
    };
    let service = Service::new(RedisStore::new(&url).unwrap(), restart);
    // The restart empties Redis (it keeps nothing on disk): the completion finds no record,
    // and the caller still gets the handler's result.
    assert_eq!(service.create(5, "restarted".into()).await.unwrap(), 5);
    assert_eq!(service.create_eventually(6, "next").await, 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminated_postgres_backends_lose_no_completed_record() {
    use idempotent_runtime::PostgresStore;
    use idempotent_tests::postgres_server::{self, SchemaGuard};

    postgres_server::require();
    let schema = SchemaGuard(postgres_server::unique_schema("terminated"));
    let application = schema.0.clone();
    let url = format!("{}?application_name={application}", postgres_server::url());
    let store = PostgresStore::new(&url)
        .and_then(|store| store.with_schema(&schema.0))
        .unwrap();
    store.migrate().await.unwrap();
    let terminate = move || {
        let sql = format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{application}'"
        );
        postgres_server::execute(&sql).expect("terminates the store's backends");
    };
    let killer = Service::new(store.clone(), terminate.clone());
    // The handler terminates every connection of the store: the one `begin` used is dead when
    // `complete` runs, which is retried on a fresh one.
    assert_eq!(killer.create(1, "mid-call".into()).await.unwrap(), 1);

    let service = Service::new(store, || {});
    assert_eq!(
        service.create(1, "mid-call".into()).await.unwrap(),
        1,
        "the completed record replays"
    );
    for round in 0..3 {
        terminate();
        assert_eq!(
            service.create_eventually(1, "mid-call").await,
            1,
            "round {round}: the completed record was lost"
        );
    }
    assert_eq!(service.runs.load(SeqCst), 0, "a replay ran the handler");
}

#[test]
fn a_database_locked_by_another_writer_delays_completion_but_loses_nothing() {
    use std::sync::Arc;

    use idempotent_runtime::SqliteStore;

    struct Volumes {
        store: SqliteStore,
        path: Arc<std::path::PathBuf>,
        runs: AtomicUsize,
    }

    impl Volumes {
        /// Leaves the file locked by another connection for 300 ms after it returns.
        #[idempotent(token = "token", store = self.store, name = "Locked")]
        fn create(&self, size: u32, token: &str) -> usize {
            let run = self.runs.fetch_add(1, SeqCst);
            let path = self.path.clone();
            let (locked, wait_locked) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let other = rusqlite::Connection::open(&*path).unwrap();
                other.execute_batch("BEGIN EXCLUSIVE").unwrap();
                locked.send(()).unwrap();
                std::thread::sleep(Duration::from_millis(300));
                other.execute_batch("COMMIT").unwrap();
            });
            wait_locked.recv().unwrap();
            run + size as usize
        }
    }

    let db = idempotent_tests::stores::sqlite_path("locked");
    let volumes = Volumes {
        store: SqliteStore::open(&db.store).unwrap(),
        path: Arc::new(db.store.clone()),
        runs: AtomicUsize::new(0),
    };
    let started = Instant::now();
    assert_eq!(volumes.create(4, "locked").unwrap(), 4);
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "complete did not wait for the lock"
    );
    let reopened = Volumes {
        store: SqliteStore::open(&db.store).unwrap(),
        path: volumes.path.clone(),
        runs: AtomicUsize::new(0),
    };
    assert_eq!(reopened.create(4, "locked").unwrap(), 4);
    assert_eq!(
        reopened.runs.load(SeqCst),
        0,
        "the completed record was lost"
    );
}
