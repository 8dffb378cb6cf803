//! The PostgreSQL server the tests use (127.0.0.1:5432, database `test`, or
//! `IDEMPOTENT_TEST_POSTGRES`), and schemas of their own that are dropped afterwards.

/// The URL of the test database.
pub fn url() -> String {
    std::env::var("IDEMPOTENT_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Runs `statements` on a fresh connection, on a runtime of its own (callable from `Drop`).
pub fn execute(statements: &str) -> Result<(), tokio_postgres::Error> {
    let (url, statements) = (url(), statements.to_owned());
    let run = move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
            let driver = tokio::spawn(connection);
            let done = client.batch_execute(&statements).await;
            drop(client);
            let _ = driver.await;
            done
        })
    };
    std::thread::spawn(run)
        .join()
        .expect("the statement thread")
}

/// Checks that PostgreSQL answers; panics with how to start it if not. Tests never skip silently.
pub fn require() {
    if let Err(err) = execute("SELECT 1") {
        panic!(
            "PostgreSQL is not reachable at {} ({err}). Start it with\n  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\nor run `bash .ci/run`, which starts it.",
            url()
        );
    }
}

/// A schema name no other test or run uses.
pub fn unique_schema(label: &str) -> String {
    format!("test_{}", crate::stores::unique(label))
}

/// Drops a test's schema when it goes out of scope.
pub struct SchemaGuard(pub String);

impl Drop for SchemaGuard {
    fn drop(&mut self) {
        let _ = execute(&format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.0));
    }
}
