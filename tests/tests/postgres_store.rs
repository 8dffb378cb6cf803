//! `PostgresStore` behind `#[idempotent]`: two services sharing one schema run a request
//! once, a duplicate waiting (`concurrent = "wait"`) gets the first run's result through
//! LISTEN/NOTIFY, a replay writes nothing, a table of an earlier release is migrated, and a
//! down database fails closed.
#![cfg(feature = "postgres")]

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

use idempotent_runtime::{idempotent, IdempotencyError, PostgresStore};
use idempotent_tests::postgres_server::{self, SchemaGuard};
use tokio::sync::Notify;

struct Volumes {
    store: PostgresStore,
    created: AtomicUsize,
    gate: Arc<Notify>,
}

impl Volumes {
    async fn new(schema: &str, gate: Arc<Notify>) -> Self {
        let store = PostgresStore::new(&postgres_server::url())
            .and_then(|s| s.with_schema(schema))
            .expect("store");
        store.migrate().await.expect("migrates");
        Self {
            store,
            created: AtomicUsize::new(0),
            gate,
        }
    }

    #[idempotent(token = "token", store = self.store, name = "CreateVolume")]
    async fn create(&self, size: u32, token: String) -> Result<String, String> {
        let n = self.created.fetch_add(1, SeqCst);
        Ok(format!("vol-{size}-{n}"))
    }

    /// Stops until the test opens the gate.
    #[idempotent(token = "token", store = self.store, name = "SlowCreate", concurrent = "wait")]
    async fn slow_create(&self, size: u32, token: String) -> Result<String, String> {
        let n = self.created.fetch_add(1, SeqCst);
        self.gate.notified().await;
        Ok(format!("slow-{size}-{n}"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_services_sharing_a_schema_run_a_request_once() {
    postgres_server::require();
    let schema = SchemaGuard(postgres_server::unique_schema("handler"));
    let gate = Arc::new(Notify::new());
    let (first, second) = (
        Volumes::new(&schema.0, gate.clone()).await,
        Volumes::new(&schema.0, gate).await,
    );
    let created = first.create(8, "shared".into()).await.unwrap();
    assert_eq!(second.create(8, "shared".into()).await.unwrap(), created);
    assert_eq!(
        second.created.load(SeqCst),
        0,
        "the second service ran the handler again"
    );
    let err = second.create(9, "shared".into()).await.unwrap_err();
    assert!(
        matches!(err, IdempotencyError::IdempotentParameterMismatch { ref mismatched, .. } if mismatched == &["size"])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_duplicate_gets_the_first_result() {
    postgres_server::require();
    let schema = SchemaGuard(postgres_server::unique_schema("wait"));
    let gate = Arc::new(Notify::new());
    let first = Arc::new(Volumes::new(&schema.0, gate.clone()).await);
    let second = Arc::new(Volumes::new(&schema.0, gate.clone()).await);
    let running = tokio::spawn({
        let first = first.clone();
        async move { first.slow_create(4, "waited".into()).await }
    });
    while first.created.load(SeqCst) == 0 {
        assert!(
            !running.is_finished(),
            "the first call ended before its body ran"
        );
        tokio::task::yield_now().await;
    }
    let waiting = tokio::spawn({
        let second = second.clone();
        async move { second.slow_create(4, "waited".into()).await }
    });
    gate.notify_one();
    let result = running.await.unwrap().unwrap();
    assert_eq!(waiting.await.unwrap().unwrap(), result);
    assert_eq!(second.created.load(SeqCst), 0, "the waiter ran the handler");
}

struct Tenants {
    store: PostgresStore,
}

impl Tenants {
    #[idempotent(token = "token", store = self.store, scope = "tenant", name = "Provision")]
    pub(crate) async fn provision(&self, tenant: String, size: u32, token: String) -> u32 {
        size
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_scope_still_completes_and_replays() {
    postgres_server::require();
    let schema = SchemaGuard(postgres_server::unique_schema("scope"));
    let store = PostgresStore::new(&postgres_server::url())
        .and_then(|s| s.with_schema(&schema.0))
        .unwrap();
    store.migrate().await.unwrap();
    let tenants = Tenants { store };
    // 20,000 bytes of key: its hex alone would pass NOTIFY's 8,000-byte payload limit.
    let tenant = "t".repeat(20_000);
    let first = tenants
        .provision_with_outcome(tenant.clone(), 3, "long".into())
        .await;
    assert!(!first.unwrap().replayed());
    let again = tenants
        .provision_with_outcome(tenant, 3, "long".into())
        .await;
    assert!(again.unwrap().replayed());
}

#[tokio::test]
async fn a_down_database_fails_closed_and_the_handler_does_not_run() {
    let volumes = Volumes {
        store: PostgresStore::new("postgres://postgres@127.0.0.1:1/test").expect("valid URL"),
        created: AtomicUsize::new(0),
        gate: Arc::new(Notify::new()),
    };
    let err = volumes.create(8, "down".into()).await.unwrap_err();
    assert!(
        matches!(err, IdempotencyError::Store(ref e) if e.is_transient()),
        "{err:?}"
    );
    assert_eq!(volumes.created.load(SeqCst), 0);
}

/// Issue 7, defect 3: a fleet's first deploy runs `migrate` from every instance at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_instances_migrating_a_new_schema_at_once_all_succeed() {
    postgres_server::require();
    for _ in 0..3 {
        let schema = SchemaGuard(postgres_server::unique_schema("migrate"));
        let stores: Vec<PostgresStore> = (0..8)
            .map(|_| {
                PostgresStore::new(&postgres_server::url())
                    .and_then(|s| s.with_schema(&schema.0))
                    .unwrap()
            })
            .collect();
        let migrations: Vec<_> = stores
            .iter()
            .map(|store| {
                let store = store.clone();
                tokio::spawn(async move { store.migrate().await })
            })
            .collect();
        for migration in migrations {
            if let Err(err) = migration.await.unwrap() {
                panic!("a concurrent migrate failed: {err}");
            }
        }
        let volumes = Volumes {
            store: stores[7].clone(),
            created: AtomicUsize::new(0),
            gate: Arc::new(Notify::new()),
        };
        volumes.create(1, "after-migrate".into()).await.unwrap();
    }
}

/// Issue 7, defect 4: a schema named like an SQL keyword is quoted, not a syntax error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemas_named_like_sql_keywords_work() {
    postgres_server::require();
    for keyword in ["user", "order", "select", "table", "end", "default"] {
        let schema = SchemaGuard(keyword.to_string());
        let store = PostgresStore::new(&postgres_server::url())
            .and_then(|s| s.with_schema(&schema.0))
            .unwrap();
        if let Err(err) = store.migrate().await {
            panic!("migrate in schema {keyword:?} failed: {err}");
        }
        let volumes = Volumes {
            store,
            created: AtomicUsize::new(0),
            gate: Arc::new(Notify::new()),
        };
        let first = volumes.create(2, "keyword".into()).await.unwrap();
        assert_eq!(volumes.create(2, "keyword".into()).await.unwrap(), first);
        assert_eq!(volumes.created.load(SeqCst), 1, "schema {keyword:?}");
    }
}

/// A server that answers but refuses (no such database, no such role) is a misconfiguration:
/// not retryable, and the Display says what the server said.
#[tokio::test]
async fn a_refusing_server_is_not_transient_and_says_why() {
    postgres_server::require();
    let base = postgres_server::url();
    let (authority, _database) = base.rsplit_once('/').unwrap();
    let no_database = format!("{authority}/no_such_database_idempotent");
    let no_role = no_database.replace("postgres@", "no_such_role_idempotent@");
    for (url, said) in [
        (no_database.as_str(), "does not exist"),
        (no_role.as_str(), "no_such_role_idempotent"),
    ] {
        let volumes = Volumes {
            store: PostgresStore::new(url).unwrap(),
            created: AtomicUsize::new(0),
            gate: Arc::new(Notify::new()),
        };
        let err = volumes.create(8, "refused".into()).await.unwrap_err();
        let IdempotencyError::Store(store_error) = &err else {
            panic!("expected a store error, got {err:?}");
        };
        assert!(!store_error.is_transient(), "{url}: {err}");
        assert!(!err.is_retryable(), "{url}: {err}");
        assert!(err.to_string().contains(said), "{url}: {err}");
        assert_eq!(volumes.created.load(SeqCst), 0);
    }
}

/// A store error's Display carries the server's own message, not only "db error".
#[tokio::test]
async fn a_missing_table_says_what_the_server_said_and_how_to_fix_it() {
    postgres_server::require();
    let schema = SchemaGuard(postgres_server::unique_schema("unmigrated"));
    let volumes = Volumes {
        store: PostgresStore::new(&postgres_server::url())
            .and_then(|s| s.with_schema(&schema.0))
            .unwrap(),
        created: AtomicUsize::new(0),
        gate: Arc::new(Notify::new()),
    };
    let err = volumes.create(8, "unmigrated".into()).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("does not exist"), "{text}");
    assert!(text.contains("migrate"), "{text}");
    assert!(!err.is_retryable(), "{text}");
}

/// Review finding: a `migrate` that failed half-way left its pooled connection in an aborted
/// transaction, and every later statement on it failed. Now the transaction is rolled back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_migrate_leaves_the_connection_usable() {
    postgres_server::require();
    let schema = SchemaGuard(postgres_server::unique_schema("failed_migrate"));
    // A view where the table goes: the CREATE INDEX of the migration fails on it.
    postgres_server::execute(&format!(
        "CREATE SCHEMA \"{0}\"; CREATE VIEW \"{0}\".records AS SELECT 1 AS key",
        schema.0
    ))
    .unwrap();
    let store = PostgresStore::new(&postgres_server::url())
        .and_then(|s| s.with_schema(&schema.0))
        .unwrap();
    let err = store.migrate().await.expect_err("a view is in the way");
    assert!(err.to_string().contains("records"), "{err}");
    postgres_server::execute(&format!("DROP VIEW \"{}\".records", schema.0)).unwrap();
    store
        .migrate()
        .await
        .expect("the same pooled connection migrates");
    let volumes = Volumes {
        store,
        created: AtomicUsize::new(0),
        gate: Arc::new(Notify::new()),
    };
    volumes.create(1, "after-failure".into()).await.unwrap();
}

/// A registered waiter is woken by the owner's `complete` (NOTIFY is sent because the record
/// counts a waiter), long before its lease would have made it look again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_waiter_is_notified_not_left_to_its_lease() {
    postgres_server::require();
    let schema = SchemaGuard(postgres_server::unique_schema("notified"));
    let gate = Arc::new(Notify::new());
    let first = Arc::new(Volumes::new(&schema.0, gate.clone()).await);
    let second = Arc::new(Volumes::new(&schema.0, gate.clone()).await);
    let running = tokio::spawn({
        let first = first.clone();
        async move { first.slow_create(5, "notified".into()).await }
    });
    while first.created.load(SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    let waiting = tokio::spawn({
        let second = second.clone();
        async move { second.slow_create(5, "notified".into()).await }
    });
    let waiters = format!("SELECT waiters::bigint FROM \"{}\".records", schema.0);
    let registered = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while postgres_server::scalar(&waiters).unwrap() != Some(1) {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    });
    registered
        .await
        .expect("the waiter registers on the record");
    gate.notify_one();
    let result = running.await.unwrap().unwrap();
    // The lease is 60 s: a waiter that was not notified would still be waiting at 10.
    let waited = tokio::time::timeout(std::time::Duration::from_secs(10), waiting)
        .await
        .expect("the waiter was notified")
        .unwrap()
        .unwrap();
    assert_eq!(waited, result);
    assert_eq!(second.created.load(SeqCst), 0, "the waiter ran the handler");
}

/// A hundred waiters on one store share one listening connection: duplicates cannot exhaust
/// the server's connections (each had a connection of its own before), and all are woken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_waiters_share_one_listening_connection() {
    postgres_server::require();
    let schema = SchemaGuard(postgres_server::unique_schema("shared_listen"));
    let gate = Arc::new(Notify::new());
    let owner = Arc::new(Volumes::new(&schema.0, gate.clone()).await);
    let duplicates = Arc::new(Volumes::new(&schema.0, gate.clone()).await);
    let running = tokio::spawn({
        let owner = owner.clone();
        async move { owner.slow_create(5, "crowd".into()).await }
    });
    while owner.created.load(SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    let waiting: Vec<_> = (0..100)
        .map(|_| {
            let duplicates = duplicates.clone();
            tokio::spawn(async move { duplicates.slow_create(5, "crowd".into()).await })
        })
        .collect();
    let waiters = format!("SELECT waiters::bigint FROM \"{}\".records", schema.0);
    tokio::time::timeout(std::time::Duration::from_secs(20), async {
        while postgres_server::scalar(&waiters).unwrap() != Some(100) {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("every waiter registers on the record");
    let listening = format!(
        "SELECT count(*) FROM pg_stat_activity WHERE query = 'LISTEN \"idempotent_{}\"'",
        schema.0
    );
    assert_eq!(postgres_server::scalar(&listening).unwrap(), Some(1));
    gate.notify_one();
    let result = running.await.unwrap().unwrap();
    for waiter in waiting {
        let waited = tokio::time::timeout(std::time::Duration::from_secs(10), waiter)
            .await
            .expect("the waiter was notified")
            .unwrap()
            .unwrap();
        assert_eq!(waited, result);
    }
    assert_eq!(
        duplicates.created.load(SeqCst),
        0,
        "a waiter ran the handler"
    );
}

/// A replay reads the record without locking or writing it: the row's `xmax` (set by any
/// lock or update) stays 0. The upsert of the first release locked the row on every replay.
#[tokio::test]
async fn a_replay_neither_locks_nor_writes_the_record() {
    postgres_server::require();
    let schema = SchemaGuard(postgres_server::unique_schema("readonly"));
    let volumes = Volumes::new(&schema.0, Arc::new(Notify::new())).await;
    let created = volumes.create(3, "read-only".into()).await.unwrap();
    let xmax = format!("SELECT xmax::text::bigint FROM \"{}\".records", schema.0);
    assert_eq!(postgres_server::scalar(&xmax).unwrap(), Some(0));
    for _ in 0..3 {
        assert_eq!(
            volumes.create(3, "read-only".into()).await.unwrap(),
            created
        );
    }
    assert!(matches!(
        volumes.create(4, "read-only".into()).await,
        Err(IdempotencyError::IdempotentParameterMismatch { .. })
    ));
    assert_eq!(
        postgres_server::scalar(&xmax).unwrap(),
        Some(0),
        "a replay or a mismatch locked the row"
    );
    assert_eq!(volumes.created.load(SeqCst), 1);
}

/// A table created by the first release (no `waiters` column) gains it on `migrate`, and the
/// store works on it, waiters included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_upgrades_a_table_of_the_first_release() {
    postgres_server::require();
    let schema = SchemaGuard(postgres_server::unique_schema("upgraded"));
    postgres_server::execute(&format!(
        "CREATE SCHEMA \"{0}\";
         CREATE TABLE \"{0}\".records (
            key bytea PRIMARY KEY, fingerprint bytea NOT NULL, params bytea NOT NULL,
            fence bigint NOT NULL, completed boolean NOT NULL, taken_over boolean NOT NULL,
            deadline timestamptz NOT NULL, output bytea
         );
         CREATE INDEX records_deadline ON \"{0}\".records (deadline);",
        schema.0
    ))
    .unwrap();
    let volumes = Volumes::new(&schema.0, Arc::new(Notify::new())).await;
    let created = volumes.create(2, "upgraded".into()).await.unwrap();
    assert_eq!(volumes.create(2, "upgraded".into()).await.unwrap(), created);
    let column = format!(
        "SELECT count(*) FROM information_schema.columns WHERE table_schema = '{}' AND column_name = 'waiters'",
        schema.0
    );
    assert_eq!(postgres_server::scalar(&column).unwrap(), Some(1));
}
