//! Crash claims, with real processes: a worker killed with SIGKILL in the middle of its
//! handler leaves the token in progress until the lease ends; then another process takes over
//! and completes, and the work is finished exactly once. A record completed before a kill is
//! replayed after it. On `SqliteStore`, `RedisStore` (one Redis and a Redis Cluster),
//! `PostgresStore` and `DynamoDbStore`.
#![cfg(all(
    feature = "sqlite",
    feature = "redis",
    feature = "postgres",
    feature = "dynamodb"
))]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

use idempotent_tests::{dynamodb_server, postgres_server, redis_cluster, redis_server};

/// The worker's lease ("2s") and a little more.
const PAST_LEASE: Duration = Duration::from_millis(2300);

struct Worker {
    child: Child,
    lines: std::io::Lines<BufReader<ChildStdout>>,
}

impl Worker {
    fn start(kind: &str, place: &str, token: &str, log: &Path, mode: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_crash-worker"))
            .args([kind, place, token, &log.to_string_lossy(), mode])
            .stdout(Stdio::piped())
            .spawn()
            .expect("starts the worker");
        let stdout = child.stdout.take().expect("piped stdout");
        Self {
            child,
            lines: BufReader::new(stdout).lines(),
        }
    }

    fn line(&mut self) -> String {
        self.lines
            .next()
            .and_then(Result::ok)
            .unwrap_or_else(|| "<no output>".into())
    }

    /// SIGKILL: no destructor, no release, no goodbye.
    fn kill(mut self) {
        self.child.kill().expect("kills the worker");
        let _ = self.child.wait();
    }

    fn finish(mut self) -> String {
        let line = self.line();
        let _ = self.child.wait();
        line
    }
}

/// The side-effect log the handler appends to, removed at the end.
struct Log(PathBuf);

impl Log {
    fn new(label: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "idempotent-crash-{label}-{}.log",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        Self(path)
    }

    fn count(&self, word: &str) -> usize {
        let text = std::fs::read_to_string(&self.0).unwrap_or_default();
        text.lines().filter(|line| line.starts_with(word)).count()
    }
}

impl Drop for Log {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn killed_mid_handler_then_taken_over(kind: &str, place: &str) {
    let log = Log::new(&format!("{kind}-takeover"));
    let token = format!("crash-{kind}-{}", std::process::id());

    let mut doomed = Worker::start(kind, place, &token, &log.0, "hang");
    assert_eq!(
        doomed.line(),
        "started",
        "{kind}: the worker did not reach its handler"
    );
    doomed.kill();

    let retry = Worker::start(kind, place, &token, &log.0, "finish").finish();
    assert_eq!(
        retry, "in_progress",
        "{kind}: within the lease, a retry must be told to wait"
    );

    std::thread::sleep(PAST_LEASE);
    let taken_over = Worker::start(kind, place, &token, &log.0, "finish").finish();
    assert!(
        taken_over.starts_with("value volume-8-by-"),
        "{kind}: {taken_over}"
    );
    let replayed = Worker::start(kind, place, &token, &log.0, "finish").finish();
    assert_eq!(
        replayed, taken_over,
        "{kind}: the completed result must replay"
    );

    assert_eq!(
        log.count("start"),
        2,
        "{kind}: the killed run and the take-over"
    );
    assert_eq!(
        log.count("finish"),
        1,
        "{kind}: the work finished exactly once"
    );
}

fn completed_then_killed_still_replays(kind: &str, place: &str) {
    let log = Log::new(&format!("{kind}-completed"));
    let token = format!("done-{kind}-{}", std::process::id());

    let mut worker = Worker::start(kind, place, &token, &log.0, "finish-then-hang");
    let value = worker.line();
    assert!(value.starts_with("value "), "{kind}: {value}");
    assert_eq!(worker.line(), "completed");
    worker.kill();

    let after_restart = Worker::start(kind, place, &token, &log.0, "finish").finish();
    assert_eq!(
        after_restart, value,
        "{kind}: a record completed before the kill must replay"
    );
    assert_eq!(log.count("finish"), 1);
}

#[test]
fn sqlite_survives_a_killed_worker() {
    let db = std::env::temp_dir().join(format!("idempotent-crash-{}.db", std::process::id()));
    let place = db.to_string_lossy().into_owned();
    killed_mid_handler_then_taken_over("sqlite", &place);
    completed_then_killed_still_replays("sqlite", &place);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{place}{suffix}"));
    }
}

#[test]
fn redis_survives_a_killed_worker() {
    redis_server::require();
    let prefix = redis_server::unique_prefix("crash");
    killed_mid_handler_then_taken_over("redis", &prefix);
    completed_then_killed_still_replays("redis", &prefix);
    redis_server::delete_prefix(&prefix);
}

#[test]
fn redis_cluster_survives_a_killed_worker() {
    redis_cluster::require();
    let prefix = redis_server::unique_prefix("crash");
    killed_mid_handler_then_taken_over("redis-cluster", &prefix);
    completed_then_killed_still_replays("redis-cluster", &prefix);
    redis_cluster::delete_prefix(&prefix);
}

#[test]
fn dynamodb_survives_a_killed_worker() {
    dynamodb_server::require();
    let table = dynamodb_server::unique_table("crash");
    killed_mid_handler_then_taken_over("dynamodb", &table);
    completed_then_killed_still_replays("dynamodb", &table);
    dynamodb_server::delete_table(&table);
}

#[test]
fn postgres_survives_a_killed_worker() {
    postgres_server::require();
    let schema = postgres_server::SchemaGuard(postgres_server::unique_schema("crash"));
    killed_mid_handler_then_taken_over("postgres", &schema.0);
    completed_then_killed_still_replays("postgres", &schema.0);
}
