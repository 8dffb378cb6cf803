//! The conformance suite on `SqliteStore`, through its async and its blocking interface.
#![cfg(feature = "sqlite")]

use std::sync::atomic::{AtomicU64, Ordering};

use idempotent_runtime::store::Key;
use idempotent_runtime::testing::{Blocking, Harness};
use idempotent_runtime::SqliteStore;

/// Each harness owns one shared-cache in-memory database: a second raw connection can reach
/// it, and nothing is left on disk.
struct Sqlite {
    uri: String,
}

impl Sqlite {
    fn new() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        Self {
            uri: format!(
                "file:conformance-{}-{n}?mode=memory&cache=shared",
                std::process::id()
            ),
        }
    }

    fn open(&self) -> SqliteStore {
        SqliteStore::open(&self.uri).expect("opens the database")
    }

    fn garble(&self, key: &Key) -> bool {
        let raw = rusqlite::Connection::open(&self.uri).expect("raw connection");
        let changed = raw
            .execute(
                "UPDATE idempotency_records SET fingerprint = x'00', params = 'not bytes' WHERE key = ?1",
                [key.as_bytes()],
            )
            .expect("corrupts the record");
        assert_eq!(changed, 1, "the record to corrupt was not found");
        true
    }
}

impl Harness for Sqlite {
    type Store = SqliteStore;
    async fn store(&self) -> SqliteStore {
        self.open()
    }
    async fn corrupt(&self, _: &SqliteStore, key: &Key) -> bool {
        self.garble(key)
    }
    async fn unreachable(&self) -> Option<SqliteStore> {
        None
    }
}

struct SqliteBlocking(Sqlite);

impl Harness for SqliteBlocking {
    type Store = Blocking<SqliteStore>;
    async fn store(&self) -> Blocking<SqliteStore> {
        Blocking(self.0.open())
    }
    async fn corrupt(&self, _: &Blocking<SqliteStore>, key: &Key) -> bool {
        self.0.garble(key)
    }
}

idempotent_runtime::store_conformance!(sqlite_async, Sqlite::new());
idempotent_runtime::store_conformance!(sqlite_blocking, SqliteBlocking(Sqlite::new()));

#[test]
fn a_database_that_cannot_be_opened_is_an_error_not_a_panic() {
    let err = SqliteStore::open("/nonexistent-dir/for/sure/records.db")
        .err()
        .expect("cannot open");
    assert!(err.to_string().contains("sqlite"), "{err}");
}
