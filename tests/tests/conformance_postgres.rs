//! The conformance suite on `PostgresStore`, against the real PostgreSQL of this machine.
#![cfg(feature = "postgres")]

use idempotent_runtime::store::Key;
use idempotent_runtime::testing::Harness;
use idempotent_runtime::PostgresStore;
use idempotent_tests::postgres_server::{self, SchemaGuard};

/// One schema per test, dropped with the harness.
struct Postgres {
    schema: SchemaGuard,
}

impl Postgres {
    fn new() -> Self {
        postgres_server::require();
        Self {
            schema: SchemaGuard(postgres_server::unique_schema("conformance")),
        }
    }
}

impl Harness for Postgres {
    type Store = PostgresStore;

    async fn store(&self) -> PostgresStore {
        let store = PostgresStore::new(&postgres_server::url())
            .and_then(|store| store.with_schema(&self.schema.0))
            .expect("valid URL and schema");
        store.migrate().await.expect("migrates");
        store
    }

    async fn corrupt(&self, store: &PostgresStore, key: &Key) -> bool {
        let hex: String = key.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
        let sql = format!(
            "UPDATE {}.records SET fingerprint = '\\x00', params = '\\xdeadbeef' WHERE key = '\\x{hex}'",
            store.schema()
        );
        let schema = store.schema().to_owned();
        tokio::task::spawn_blocking(move || postgres_server::execute(&sql))
            .await
            .expect("the corrupting task")
            .unwrap_or_else(|err| panic!("could not corrupt a record in {schema}: {err}"));
        true
    }

    async fn unreachable(&self) -> Option<PostgresStore> {
        // Port 1 on loopback: nothing listens there.
        Some(PostgresStore::new("postgres://postgres@127.0.0.1:1/test").expect("valid URL"))
    }
}

idempotent_runtime::store_conformance!(postgres_async, Postgres::new());
