//! A fresh, isolated store of every kind (a Redis Cluster's too), removed when the test ends, and
//! [`on_every_store!`](crate::on_every_store) to run one async check against each of them.

use std::sync::atomic::{AtomicU64, Ordering};

use idempotent_runtime::MemoryStore;

/// A store of the test's own (its own file, key prefix or schema), cleaned up on drop.
pub struct Isolated<S> {
    /// The store.
    pub store: S,
    cleanup: Option<Box<dyn FnOnce() + Send>>,
}

impl<S> Isolated<S> {
    fn new(store: S, cleanup: impl FnOnce() + Send + 'static) -> Self {
        Self {
            store,
            cleanup: Some(Box::new(cleanup)),
        }
    }
}

impl<S> Drop for Isolated<S> {
    fn drop(&mut self) {
        if let Some(cleanup) = self.cleanup.take() {
            cleanup();
        }
    }
}

/// A name no other test or run uses.
pub fn unique(label: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{label}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A fresh in-memory store.
pub fn memory() -> Isolated<MemoryStore> {
    Isolated::new(MemoryStore::new(), || {})
}

/// A temporary SQLite database file, removed with its WAL files.
#[cfg(feature = "sqlite")]
pub fn sqlite_path(label: &str) -> Isolated<std::path::PathBuf> {
    let path = std::env::temp_dir().join(format!("idempotent-{}.db", unique(label)));
    let remove = {
        let path = path.clone();
        move || {
            for suffix in ["", "-wal", "-shm"] {
                let mut file = path.clone().into_os_string();
                file.push(suffix);
                let _ = std::fs::remove_file(file);
            }
        }
    };
    remove();
    Isolated::new(path, remove)
}

/// A store in a fresh SQLite file, removed when the test ends.
#[cfg(feature = "sqlite")]
pub fn sqlite(label: &str) -> Isolated<idempotent_runtime::SqliteStore> {
    let mut path = sqlite_path(label);
    let store = idempotent_runtime::SqliteStore::open(&path.store).expect("opens the database");
    let remove = path.cleanup.take();
    Isolated {
        store,
        cleanup: remove,
    }
}

/// A store under a fresh Redis key prefix, whose keys are deleted when the test ends.
#[cfg(feature = "redis")]
pub fn redis(label: &str) -> Isolated<idempotent_runtime::RedisStore> {
    crate::redis_server::require();
    let prefix = crate::redis_server::unique_prefix(label);
    let store = idempotent_runtime::RedisStore::new(&crate::redis_server::url())
        .expect("valid URL")
        .with_prefix(&prefix);
    Isolated::new(store, move || crate::redis_server::delete_prefix(&prefix))
}

/// A store on the Redis Cluster under a fresh key prefix, whose keys are deleted on every node
/// when the test ends.
#[cfg(feature = "redis")]
pub fn redis_cluster(label: &str) -> Isolated<idempotent_runtime::RedisStore> {
    crate::redis_cluster::require();
    let prefix = crate::redis_server::unique_prefix(label);
    let store = crate::redis_cluster::store(&prefix);
    Isolated::new(store, move || crate::redis_cluster::delete_prefix(&prefix))
}

/// A store in a fresh DynamoDB table, deleted when the test ends.
#[cfg(feature = "dynamodb")]
pub async fn dynamodb(label: &str) -> Isolated<idempotent_runtime::DynamoDbStore> {
    crate::dynamodb_server::require();
    let table = crate::dynamodb_server::unique_table(label);
    let store = crate::dynamodb_server::store(&table).await;
    Isolated::new(store, move || crate::dynamodb_server::delete_table(&table))
}

/// A store in a fresh, migrated PostgreSQL schema, dropped when the test ends.
#[cfg(feature = "postgres")]
pub async fn postgres(label: &str) -> Isolated<idempotent_runtime::PostgresStore> {
    crate::postgres_server::require();
    // Schema names are at most 48 characters.
    let label = &label[..label.len().min(24)];
    let schema = crate::postgres_server::SchemaGuard(crate::postgres_server::unique_schema(label));
    let store = idempotent_runtime::PostgresStore::new(&crate::postgres_server::url())
        .and_then(|store| store.with_schema(&schema.0))
        .expect("valid URL and schema");
    store.migrate().await.expect("migrates");
    Isolated::new(store, move || drop(schema))
}

/// How long one check on one store may take before it counts as hung.
pub const CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Fails the test if `check` takes longer than [`CHECK_TIMEOUT`]: a hang fails fast.
pub async fn within_timeout(check: impl std::future::Future<Output = ()>) {
    if tokio::time::timeout(CHECK_TIMEOUT, check).await.is_err() {
        panic!("the check did not finish within {CHECK_TIMEOUT:?}: something hangs");
    }
}

/// Runs the async fn `$check(store)` as one test per store (memory, and the durable stores
/// whose features are on), each on a multi-threaded Tokio runtime with a store of its own and
/// [`CHECK_TIMEOUT`] to finish.
#[macro_export]
macro_rules! on_every_store {
    ($check:ident) => {
        mod $check {
            use $crate::stores::within_timeout;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn memory() {
                let isolated = $crate::stores::memory();
                within_timeout(super::$check(isolated.store.clone())).await;
            }

            #[cfg(feature = "sqlite")]
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let isolated = $crate::stores::sqlite(stringify!($check));
                within_timeout(super::$check(isolated.store.clone())).await;
            }

            #[cfg(feature = "redis")]
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn redis() {
                let isolated = $crate::stores::redis(stringify!($check));
                within_timeout(super::$check(isolated.store.clone())).await;
            }

            #[cfg(feature = "redis")]
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn redis_cluster() {
                let isolated = $crate::stores::redis_cluster(stringify!($check));
                within_timeout(super::$check(isolated.store.clone())).await;
            }

            #[cfg(feature = "dynamodb")]
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn dynamodb() {
                let isolated = $crate::stores::dynamodb(stringify!($check)).await;
                within_timeout(super::$check(isolated.store.clone())).await;
            }

            #[cfg(feature = "postgres")]
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let isolated = $crate::stores::postgres(stringify!($check)).await;
                within_timeout(super::$check(isolated.store.clone())).await;
            }
        }
    };
}
