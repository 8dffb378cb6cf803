//! The PostgreSQL server the tests use (127.0.0.1:5432, database `test`, or
//! `IDEMPOTENT_TEST_POSTGRES`), and schemas of their own that are dropped afterwards.

/// The URL of the test database.
pub fn url() -> String {
    std::env::var("IDEMPOTENT_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Runs `work` with a fresh connection, on a runtime of its own (callable from `Drop`).
fn on_fresh_connection<T, F, Fut>(work: F) -> Result<T, tokio_postgres::Error>
where
    T: Send + 'static,
    F: FnOnce(tokio_postgres::Client) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<T, tokio_postgres::Error>>,
{
    let url = url();
    let run = move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
            let driver = tokio::spawn(connection);
            // `work` owns the client: the connection ends when it is done.
            let done = work(client).await;
            let _ = driver.await;
            done
        })
    };
    std::thread::spawn(run)
        .join()
        .expect("the connection thread")
}

/// Runs `statements` on a fresh connection.
pub fn execute(statements: &str) -> Result<(), tokio_postgres::Error> {
    let statements = statements.to_owned();
    on_fresh_connection(move |client| async move { client.batch_execute(&statements).await })
}

/// The first column of the first row `query` answers, as an `i64` (`None` for no row).
pub fn scalar(query: &str) -> Result<Option<i64>, tokio_postgres::Error> {
    let query = query.to_owned();
    on_fresh_connection(move |client| async move {
        let row = client.query_opt(&query, &[]).await?;
        Ok(row.map(|row| row.get::<_, i64>(0)))
    })
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
