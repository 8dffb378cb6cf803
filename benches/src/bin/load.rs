//! Load on the network stores, beside their raw servers at the same concurrency, in one run:
//! C concurrent async callers (C = 1, 16, 64) drive `#[idempotent]` through `RedisStore` (on
//! one Redis and on a Redis Cluster), `PostgresStore` and `SqliteStore`, first calls (a fresh token each) and replays (one token
//! per caller), and print calls/s, p50 and p99; then `redis-benchmark -t set,get` and
//! `pgbench -M prepared` (a one-row insert, a select by key) at the same C, and a raw
//! rusqlite insert. Round trips per call are read from the servers' own counters (Redis'
//! scripts run; PostgreSQL's transactions, with its WAL records).
//!
//! ```sh
//! cargo run --release -p idempotent-benches --features stores --bin load -- [redis] [redis-cluster] [postgres] [sqlite] [--seconds 5] [--pool 16]
//! ```
//!
//! Needs Redis on 127.0.0.1:6379, a Redis Cluster on 127.0.0.1:7001-7003 and PostgreSQL on
//! 127.0.0.1:5432 (database `test`), as the tests do (`scripts/test` starts them), and `redis-benchmark`, `pgbench` and `psql` on the `PATH`.

use std::future::Future;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use idempotent_benches::phase::Phase;
use idempotent_benches::{handler, sample_request, CreateRouteTable, RouteTable};
use idempotent_runtime::{idempotent, AsyncStore, PostgresStore, RedisStore, SqliteStore};

const REDIS: &str = "redis://127.0.0.1:6379";
const CLUSTER: [&str; 3] = [
    "redis://127.0.0.1:7001",
    "redis://127.0.0.1:7002",
    "redis://127.0.0.1:7003",
];
const POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";
const CONCURRENCY: [usize; 3] = [1, 16, 64];

/// The benchmarks' handler behind one store.
struct Service<S> {
    store: S,
}

impl<S: AsyncStore + Clone + Sync> Service<S> {
    #[idempotent(token = "token", store = self.store, name = "LoadCreateRouteTable")]
    async fn create(&self, request: CreateRouteTable, token: String) -> RouteTable {
        handler(request)
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    First,
    Replay,
}

/// `concurrency` tasks call for `seconds`; `run` keeps tokens apart between phases.
async fn drive<S: AsyncStore + Clone + Send + Sync + 'static>(
    service: Arc<Service<S>>,
    concurrency: usize,
    seconds: f64,
    kind: Kind,
    run: &str,
) -> Phase {
    let request = sample_request();
    if kind == Kind::Replay {
        for task in 0..concurrency {
            let _ = service
                .create(request.clone(), format!("{run}-{task}-replay"))
                .await;
        }
    }
    let began = Instant::now();
    let until = began + Duration::from_secs_f64(seconds);
    let tasks: Vec<_> = (0..concurrency)
        .map(|task| {
            let (service, request, run) = (Arc::clone(&service), request.clone(), run.to_owned());
            tokio::spawn(async move {
                let (mut latencies, mut errors) = (Vec::new(), 0);
                let mut n = 0u64;
                while Instant::now() < until {
                    let token = match kind {
                        Kind::First => format!("{run}-{task}-{n}"),
                        Kind::Replay => format!("{run}-{task}-replay"),
                    };
                    n += 1;
                    let start = Instant::now();
                    let answer = service.create(request.clone(), token).await;
                    latencies.push(start.elapsed());
                    errors += usize::from(answer.is_err());
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut done = Vec::new();
    for task in tasks {
        if let Ok(task) = task.await {
            done.push(task);
        }
    }
    Phase::gather(done, began.elapsed())
}

/// A command's standard output, or `None` if it could not run.
fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `psql -Atc sql` on the test database, as one number.
fn psql_number(sql: &str) -> Option<f64> {
    output("psql", &["-Atc", sql, POSTGRES])?
        .trim()
        .parse()
        .ok()
}

/// How many scripts Redis has run: each of the store's steps is one `EVALSHA`, one round trip
/// (the commands a script runs inside are not round trips, so they are not counted).
/// Scripts run so far on the Redis at each of `ports`, summed.
fn redis_scripts(ports: &[&str]) -> Option<f64> {
    let mut total = 0.0;
    for port in ports {
        let info = output(
            "redis-cli",
            &["-h", "127.0.0.1", "-p", port, "info", "commandstats"],
        )?;
        let calls = |command: &str| {
            info.lines()
                .find_map(|line| line.strip_prefix(command))
                .and_then(|stats| stats.strip_prefix("calls="))
                .and_then(|stats| stats.split(',').next()?.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        total += calls("cmdstat_evalsha:") + calls("cmdstat_eval:");
    }
    Some(total)
}

/// PostgreSQL's committed transactions and WAL records so far (a backend reports its counts
/// when it exits, so callers read them after closing their connections).
fn postgres_counters() -> Option<(f64, f64)> {
    let commits = psql_number("SELECT xact_commit FROM pg_stat_database WHERE datname = 'test'")?;
    let wal = psql_number("SELECT wal_records FROM pg_stat_wal")?;
    Some((commits, wal))
}

fn redis_benchmark(target: &RedisTarget, concurrency: usize) -> Option<(f64, f64)> {
    let requests = if concurrency == 1 { "20000" } else { "200000" };
    let c = concurrency.to_string();
    let cluster: &[&str] = if target.cluster { &["--cluster"] } else { &[] };
    let text = output(
        "redis-benchmark",
        &[
            cluster,
            &[
                "-h",
                "127.0.0.1",
                "-p",
                target.ports[0],
                "-t",
                "set,get",
                "-c",
                &c,
                "-P",
                "1",
                "-n",
                requests,
                "-q",
                "-r",
                "1000000",
            ],
        ]
        .concat(),
    )?;
    let rate = |name: &str| {
        text.split(['\r', '\n'])
            .filter_map(|line| line.trim().strip_prefix(name))
            .filter_map(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
            .next_back()
    };
    Some((rate("SET:")?, rate("GET:")?))
}

fn pgbench(concurrency: usize, seconds: f64, script: &str) -> Option<f64> {
    let path = std::env::temp_dir().join(format!("idempotent-load-{}.sql", std::process::id()));
    std::fs::write(&path, script).ok()?;
    let (c, t) = (
        concurrency.to_string(),
        format!("{}", seconds.ceil() as u64),
    );
    let text = output(
        "pgbench",
        &[
            "-n",
            "-c",
            &c,
            "-j",
            "2",
            "-M",
            "prepared",
            "-T",
            &t,
            "-f",
            path.to_str()?,
            POSTGRES,
        ],
    );
    let _ = std::fs::remove_file(&path);
    text?
        .lines()
        .find_map(|line| line.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
}

const PG_INSERT: &str = "INSERT INTO idempotent_load_raw.items (key, value) \
     VALUES (gen_random_uuid()::text::bytea, repeat('x', 200)::bytea);\n";
const PG_SELECT: &str = "\\set k random(1, 10000)\n\
     SELECT value FROM idempotent_load_raw.keyed WHERE key = :k;\n";

fn prepare_postgres_raw() -> Option<()> {
    let sql = "DROP SCHEMA IF EXISTS idempotent_load_raw CASCADE; CREATE SCHEMA idempotent_load_raw; \
        CREATE TABLE idempotent_load_raw.items (key bytea PRIMARY KEY, value bytea NOT NULL); \
        CREATE TABLE idempotent_load_raw.keyed (key bigint PRIMARY KEY, value bytea NOT NULL); \
        INSERT INTO idempotent_load_raw.keyed SELECT k, repeat('x', 200)::bytea FROM generate_series(1, 10000) k;";
    output("psql", &["-qc", sql, POSTGRES]).map(drop)
}

/// One phase on a store made for it (dropped at the end, so its connections close) and the
/// change in `counter` across it (read after the store is gone).
async fn measure<S, F, Fut, C, R>(
    seconds: f64,
    concurrency: usize,
    kind: Kind,
    run: &str,
    connect: &F,
    counter: C,
) -> Option<(Phase, Option<R>)>
where
    S: AsyncStore + Clone + Send + Sync + 'static,
    F: Fn() -> Fut,
    Fut: Future<Output = Option<S>>,
    C: Fn() -> Option<R>,
    R: std::ops::Sub<Output = R>,
{
    let service = Arc::new(Service {
        store: connect().await?,
    });
    let before = counter();
    let phase = drive(service, concurrency, seconds, kind, run).await;
    // PostgreSQL reports a connection's counts when it closes.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let change = counter().zip(before).map(|(after, before)| after - before);
    Some((phase, change))
}

/// One Redis, or a cluster: where the store connects, whose counters and which raw server.
struct RedisTarget {
    title: &'static str,
    cluster: bool,
    ports: &'static [&'static str],
}

const SINGLE: RedisTarget = RedisTarget {
    title: "Redis",
    cluster: false,
    ports: &["6379"],
};

const CLUSTERED: RedisTarget = RedisTarget {
    title: "Redis Cluster (three masters; redis-benchmark --cluster)",
    cluster: true,
    ports: &["7001", "7002", "7003"],
};

async fn redis(seconds: f64, target: &RedisTarget) {
    println!(
        "## {} (a first call is 2 round trips, so its ideal is half the SET rate)",
        target.title
    );
    let prefix = format!("idempotent-load-{}:", std::process::id());
    let connect = || async {
        let store = if target.cluster {
            RedisStore::connect_cluster(&CLUSTER).await.ok()?
        } else {
            RedisStore::connect(REDIS).await.ok()?
        };
        Some(store.with_prefix(&prefix))
    };
    let scripts = || redis_scripts(target.ports);
    for concurrency in CONCURRENCY {
        let run = format!("redis-{concurrency}");
        let phases = (
            measure(seconds, concurrency, Kind::First, &run, &connect, scripts).await,
            measure(seconds, concurrency, Kind::Replay, &run, &connect, scripts).await,
        );
        let (Some((first, first_scripts)), Some((replay, replay_scripts))) = phases else {
            println!("C={concurrency}: {} is not reachable", target.title);
            delete_prefix(target, &prefix);
            return;
        };
        let per_call = |scripts: Option<f64>, phase: &Phase| {
            scripts.map_or("-".into(), |n| format!("{:.2}", n / phase.calls as f64))
        };
        println!(
            "C={concurrency:<2} first  {} ({} round trips a call) | replay {} ({} round trips a call)",
            first.show(),
            per_call(first_scripts, &first),
            replay.show(),
            per_call(replay_scripts, &replay),
        );
        match redis_benchmark(target, concurrency) {
            Some((set, get)) => println!(
                "      raw SET {set:.0}/s, GET {get:.0}/s | first / (SET/2) {:.2}, replay / GET {:.2}",
                first.rate() / (set / 2.0),
                replay.rate() / get
            ),
            None => println!("      redis-benchmark did not run"),
        }
    }
    delete_prefix(target, &prefix);
}

/// Deletes the run's keys on every node, one key a command (a cluster refuses a `DEL` of keys
/// in different slots).
fn delete_prefix(target: &RedisTarget, prefix: &str) {
    for port in target.ports {
        let Ok(mut node) = redis::Client::open(format!("redis://127.0.0.1:{port}"))
            .and_then(|client| client.get_connection())
        else {
            continue;
        };
        let keys: Vec<Vec<u8>> = redis::cmd("KEYS")
            .arg(format!("{prefix}*"))
            .query(&mut node)
            .unwrap_or_default();
        for chunk in keys.chunks(1000) {
            let mut pipeline = redis::pipe();
            for key in chunk {
                pipeline.cmd("DEL").arg(key).ignore();
            }
            let _: redis::RedisResult<()> = pipeline.query(&mut node);
        }
    }
}

/// PostgreSQL's committed transactions and WAL records, as one value that subtracts.
#[derive(Clone, Copy)]
struct PgCounts(f64, f64);

impl std::ops::Sub for PgCounts {
    type Output = PgCounts;
    fn sub(self, other: PgCounts) -> PgCounts {
        PgCounts(self.0 - other.0, self.1 - other.1)
    }
}

async fn postgres(seconds: f64, pool_size: Option<usize>) {
    println!("## PostgreSQL (pgbench -M prepared: a one-row insert; a select by key)");
    if prepare_postgres_raw().is_none() {
        println!("psql could not reach {POSTGRES}");
        return;
    }
    let schema = format!("idempotent_load_{}", std::process::id());
    let connect = || async {
        let store = PostgresStore::new(POSTGRES)
            .ok()?
            .with_schema(&schema)
            .ok()?;
        let store = match pool_size {
            Some(size) => store.with_pool_size(size).ok()?,
            None => store,
        };
        store.migrate().await.ok()?;
        Some(store)
    };
    let counts = || postgres_counters().map(|(commits, wal)| PgCounts(commits, wal));
    for concurrency in CONCURRENCY {
        let run = format!("postgres-{concurrency}");
        let phases = (
            measure(seconds, concurrency, Kind::First, &run, &connect, counts).await,
            measure(seconds, concurrency, Kind::Replay, &run, &connect, counts).await,
        );
        let (Some((first, first_counts)), Some((replay, replay_counts))) = phases else {
            println!("C={concurrency}: PostgreSQL is not reachable at {POSTGRES}");
            return;
        };
        let per_call = |counts: Option<PgCounts>, phase: &Phase| {
            counts.map_or("-".into(), |PgCounts(commits, wal)| {
                let calls = phase.calls as f64;
                format!(
                    "{:.2} transactions, {:.2} WAL records a call",
                    commits / calls,
                    wal / calls
                )
            })
        };
        println!(
            "C={concurrency:<2} first  {} ({}) | replay {} ({})",
            first.show(),
            per_call(first_counts, &first),
            replay.show(),
            per_call(replay_counts, &replay),
        );
        let insert = pgbench(concurrency, seconds, PG_INSERT);
        let select = pgbench(concurrency, seconds, PG_SELECT);
        println!(
            "      raw insert {} select {} | first / insert {} replay / select {}",
            insert.map_or("-".into(), |r| format!("{r:.0}/s")),
            select.map_or("-".into(), |r| format!("{r:.0}/s")),
            insert.map_or("-".into(), |r| format!("{:.2}", first.rate() / r)),
            select.map_or("-".into(), |r| format!("{:.2}", replay.rate() / r)),
        );
    }
    let drop = format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE; DROP SCHEMA IF EXISTS idempotent_load_raw CASCADE"
    );
    let _ = output("psql", &["-qc", &drop, POSTGRES]);
}

/// One writer inserting rows as fast as it can, with the store's own settings.
fn rusqlite_inserts(path: &std::path::Path, seconds: f64) -> Option<f64> {
    let connection = rusqlite::Connection::open(path).ok()?;
    connection
        .query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
        .ok()?;
    connection
        .execute_batch("PRAGMA synchronous = FULL; CREATE TABLE raw (key BLOB PRIMARY KEY, value BLOB NOT NULL);")
        .ok()?;
    let mut insert = connection
        .prepare("INSERT INTO raw (key, value) VALUES (?1, ?2)")
        .ok()?;
    let (value, began) = (vec![b'x'; 200], Instant::now());
    let mut count = 0u64;
    while began.elapsed().as_secs_f64() < seconds {
        insert
            .execute(rusqlite::params![count.to_le_bytes(), value])
            .ok()?;
        count += 1;
    }
    Some(count as f64 / began.elapsed().as_secs_f64())
}

async fn sqlite(seconds: f64) {
    println!(
        "## SQLite (a file in WAL mode, synchronous = FULL; raw: one rusqlite writer inserting)"
    );
    let dir = std::env::temp_dir().join(format!("idempotent-load-{}", std::process::id()));
    if std::fs::create_dir_all(&dir).is_err() {
        println!("could not create {}", dir.display());
        return;
    }
    let raw = rusqlite_inserts(&dir.join("raw.db"), seconds);
    for concurrency in CONCURRENCY {
        let path = dir.join(format!("store-{concurrency}.db"));
        let connect = || async { SqliteStore::open(&path).ok() };
        let run = format!("sqlite-{concurrency}");
        let none = || None::<f64>;
        let phases = (
            measure(seconds, concurrency, Kind::First, &run, &connect, none).await,
            measure(seconds, concurrency, Kind::Replay, &run, &connect, none).await,
        );
        let (Some((first, _)), Some((replay, _))) = phases else {
            println!("C={concurrency}: SQLite could not open {}", path.display());
            break;
        };
        println!(
            "C={concurrency:<2} first  {} | replay {} | first / raw insert {}",
            first.show(),
            replay.show(),
            raw.map_or("-".into(), |r| format!("{:.2}", first.rate() / r))
        );
    }
    if let Some(raw) = raw {
        println!("      raw rusqlite insert (one writer): {raw:.0}/s");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seconds = args
        .iter()
        .position(|arg| arg == "--seconds")
        .and_then(|at| args.get(at + 1)?.parse().ok())
        .unwrap_or(5.0);
    let wanted = |name: &str| {
        let named: Vec<&String> = args
            .iter()
            .filter(|arg| ["redis", "redis-cluster", "postgres", "sqlite"].contains(&arg.as_str()))
            .collect();
        named.is_empty() || named.iter().any(|arg| *arg == name)
    };
    if wanted("redis") {
        redis(seconds, &SINGLE).await;
    }
    if wanted("redis-cluster") {
        redis(seconds, &CLUSTERED).await;
    }
    if wanted("postgres") {
        let pool_size = args
            .iter()
            .position(|arg| arg == "--pool")
            .and_then(|at| args.get(at + 1)?.parse().ok());
        postgres(seconds, pool_size).await;
    }
    if wanted("sqlite") {
        sqlite(seconds).await;
    }
}
