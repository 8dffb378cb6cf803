//! A worker the crash test runs as a separate process:
//!
//! `crash-worker <sqlite|redis|redis-cluster|postgres|dynamodb> <where> <token> <log> <mode>`
//!
//! It calls one idempotent handler (lease 2 s) with `token` on the named store (`where` is the
//! database file, the Redis key prefix, the Postgres schema or the DynamoDB table). The handler appends
//! `start <pid>` to the file `log`, then in mode `hang` prints `started` and sleeps until it is
//! killed; in mode `finish` it appends `finish <pid>` and returns. Mode `finish-then-hang`
//! finishes, prints `completed`, then sleeps until killed. Every mode prints the call's outcome
//! as one line: `value <v>`, `in_progress` or `error <message>`.

use std::io::Write;
use std::time::Duration;

use idempotent_runtime::{
    idempotent, AsyncStore, IdempotencyError, PostgresStore, RedisStore, SqliteStore,
};

struct Worker<S> {
    store: S,
    log: String,
    mode: String,
}

impl<S: AsyncStore + Clone + 'static> Worker<S> {
    #[idempotent(token = "token", store = self.store, name = "CrashTest", lease = "2s", skip(pid))]
    async fn create(&self, size: u32, pid: u32, token: String) -> Result<String, String> {
        self.append(&format!("start {pid}"));
        if self.mode == "hang" {
            say("started");
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        self.append(&format!("finish {pid}"));
        Ok(format!("volume-{size}-by-{pid}"))
    }

    fn append(&self, line: &str) {
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        writeln!(log, "{line}").expect("log line");
        log.sync_all().expect("log sync");
    }

    async fn run(&self, token: String) {
        match self.create(8, std::process::id(), token).await {
            Ok(value) => say(&format!("value {value}")),
            Err(IdempotencyError::RequestInProgress { .. }) => say("in_progress"),
            Err(err) => say(&format!("error {err}")),
        }
        if self.mode == "finish-then-hang" {
            say("completed");
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    }
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [kind, place, token, log, mode] = args.as_slice() else {
        eprintln!("usage: crash-worker <sqlite|redis|redis-cluster|postgres|dynamodb> <where> <token> <log> <hang|finish|finish-then-hang>");
        std::process::exit(2);
    };
    let (log, mode) = (log.clone(), mode.clone());
    match kind.as_str() {
        "sqlite" => {
            let store = SqliteStore::open(place).expect("sqlite");
            Worker { store, log, mode }.run(token.clone()).await
        }
        "redis" => {
            let url = std::env::var("IDEMPOTENT_TEST_REDIS")
                .unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
            let store = RedisStore::new(&url).expect("redis").with_prefix(place);
            Worker { store, log, mode }.run(token.clone()).await
        }
        "redis-cluster" => {
            let store = idempotent_tests::redis_cluster::store(place);
            Worker { store, log, mode }.run(token.clone()).await
        }
        "dynamodb" => {
            let store = idempotent_tests::dynamodb_server::store(place).await;
            Worker { store, log, mode }.run(token.clone()).await
        }
        "postgres" => {
            let url = std::env::var("IDEMPOTENT_TEST_POSTGRES")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
            let store = PostgresStore::new(&url)
                .and_then(|s| s.with_schema(place))
                .expect("postgres");
            store.migrate().await.expect("migrates");
            Worker { store, log, mode }.run(token.clone()).await
        }
        other => {
            eprintln!("unknown store {other}");
            std::process::exit(2);
        }
    }
}
