//! A fleet: N worker processes share one store and all receive the same requests at once, as
//! behind a load balancer that retries. Each request runs once in the whole fleet; every other
//! copy waits for it (`concurrent = "wait"`) and replays its result.
//!
//! ```sh
//! cargo run -p idempotent-examples --example fleet -- --store redis          # REDIS_URL
//! cargo run -p idempotent-examples --example fleet -- --store redis-cluster  # REDIS_CLUSTER_URLS
//! cargo run -p idempotent-examples --example fleet -- --store postgres       # POSTGRES_URL
//! cargo run -p idempotent-examples --example fleet --features dynamodb -- --store dynamodb  # DYNAMODB_ENDPOINT
//! ```
//!
//! The defaults are the servers `scripts/test` starts: Redis on 127.0.0.1:6379, a cluster on
//! 127.0.0.1:7001-7003, PostgreSQL on 127.0.0.1:5432 (database `test`), and a
//! DynamoDB-compatible server on 127.0.0.1:8000 (dummy credentials; on AWS, build the client
//! from `aws-config` instead). Options: `--workers N` (default 4), `--requests M` (default 50).

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use idempotent_runtime::{idempotent, AsyncStore, PostgresStore, RedisStore, StoreError};

/// One worker process's service, on whichever store.
struct Volumes<S> {
    store: S,
    executed: AtomicUsize,
}

impl<S: AsyncStore + Clone + Sync + 'static> Volumes<S> {
    #[idempotent(token = "token", store = self.store, name = "CreateVolume", concurrent = "wait", ttl = "1m")]
    async fn create(&self, size: u32, token: String) -> Result<String, String> {
        self.executed.fetch_add(1, Ordering::SeqCst);
        Ok(format!("vol-{size}-made-by-{}", std::process::id()))
    }
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.into())
}

fn option(args: &[String], name: &str, default: &str) -> String {
    args.windows(2)
        .find(|pair| pair[0] == name)
        .map_or_else(|| default.to_owned(), |pair| pair[1].clone())
}

/// A worker: sends every request of run `run` concurrently, prints one `token value` line per
/// request and a last line `executed N`.
async fn worker<S: AsyncStore + Clone + Sync + 'static>(
    store: S,
    run: &str,
    requests: usize,
) -> Result<(), StoreError> {
    let volumes = Arc::new(Volumes {
        store,
        executed: AtomicUsize::new(0),
    });
    let calls: Vec<_> = (0..requests)
        .map(|i| {
            let (volumes, token) = (Arc::clone(&volumes), format!("{run}-request-{i}"));
            tokio::spawn(async move { (i, volumes.create(8, token).await) })
        })
        .collect();
    for call in calls {
        match call.await {
            Ok((i, Ok(value))) => println!("request-{i} {value}"),
            Ok((i, Err(err))) => println!("request-{i} error {err}"),
            Err(err) => println!("task failed: {err}"),
        }
    }
    println!("executed {}", volumes.executed.load(Ordering::SeqCst));
    Ok(())
}

/// Connects to the store named `kind` and runs a worker on it.
async fn run_worker(kind: &str, run: &str, requests: usize) -> Result<(), StoreError> {
    match kind {
        "redis" => {
            let store = RedisStore::connect(&env_or("REDIS_URL", "redis://127.0.0.1:6379")).await?;
            worker(store.with_prefix("fleet-demo:"), run, requests).await
        }
        "redis-cluster" => {
            let urls = env_or(
                "REDIS_CLUSTER_URLS",
                "redis://127.0.0.1:7001,redis://127.0.0.1:7002,redis://127.0.0.1:7003",
            );
            let urls: Vec<&str> = urls.split(',').collect();
            let store = RedisStore::connect_cluster(&urls).await?;
            worker(store.with_prefix("fleet-demo:"), run, requests).await
        }
        "postgres" => {
            let url = env_or("POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test");
            let store = PostgresStore::new(&url)?.with_schema("idempotent_fleet_demo")?;
            store.migrate().await?;
            worker(store, run, requests).await
        }
        #[cfg(feature = "dynamodb")]
        "dynamodb" => worker(dynamodb::store().await?, run, requests).await,
        other => Err(StoreError::new(
            idempotent_runtime::StoreErrorKind::Other,
            format!(
                "no store `{other}` here: redis, redis-cluster, postgres{}",
                if cfg!(feature = "dynamodb") {
                    ", dynamodb"
                } else {
                    " (dynamodb needs --features dynamodb)"
                }
            ),
        )),
    }
}

#[cfg(feature = "dynamodb")]
mod dynamodb {
    use idempotent_runtime::store::dynamodb::aws_sdk_dynamodb::config::{
        BehaviorVersion, Credentials, Region,
    };
    use idempotent_runtime::store::dynamodb::aws_sdk_dynamodb::{Client, Config};
    use idempotent_runtime::{DynamoDbStore, StoreError};

    /// The demo's table on a local DynamoDB-compatible server, created if absent.
    pub(crate) async fn store() -> Result<DynamoDbStore, StoreError> {
        let config = Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("demo", "demo", None, None, "fleet demo"))
            .endpoint_url(super::env_or("DYNAMODB_ENDPOINT", "http://127.0.0.1:8000"))
            .build();
        let store = DynamoDbStore::new(Client::from_conf(config), "idempotent-fleet-demo");
        store.create_table().await?;
        Ok(store)
    }
}

/// The parent: starts the workers, then counts executions and replays across the fleet.
fn fleet(kind: &str, workers: usize, requests: usize) -> Result<(), Box<dyn std::error::Error>> {
    let run = format!("run{}", std::process::id());
    let exe = std::env::current_exe()?;
    println!("starting {workers} workers sharing one {kind} store, each sent the same {requests} requests");
    let children = (0..workers)
        .map(|_| {
            Command::new(&exe)
                .args(["worker", kind, &run, &requests.to_string()])
                .stdout(Stdio::piped())
                .spawn()
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (mut executed, mut answers) = (0, std::collections::BTreeMap::<String, Vec<String>>::new());
    let mut failed = 0;
    for child in children {
        let output = child.wait_with_output()?;
        failed += usize::from(!output.status.success());
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            match line.split_once(' ') {
                Some(("executed", n)) => executed += n.parse::<usize>().unwrap_or(0),
                Some((token, value)) => answers
                    .entry(token.to_owned())
                    .or_default()
                    .push(value.to_owned()),
                None => {}
            }
        }
    }
    if failed > 0 {
        return Err(
            format!("{failed} of {workers} workers failed (is the {kind} server up?)").into(),
        );
    }
    let calls: usize = answers.values().map(Vec::len).sum();
    let agreed = answers
        .values()
        .filter(|values| values.windows(2).all(|w| w[0] == w[1]))
        .count();
    println!("calls:      {calls} ({workers} workers x {requests} requests)");
    println!(
        "executions: {executed} (one per request: {})",
        executed == requests
    );
    println!("replays:    {}", calls.saturating_sub(executed));
    println!(
        "requests whose {workers} answers all agree: {agreed} of {}",
        answers.len()
    );
    Ok(())
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [mode, kind, run, requests] = args.as_slice() {
        if mode == "worker" {
            if let Err(err) = run_worker(kind, run, requests.parse().unwrap_or(50)).await {
                eprintln!("worker failed: {err}");
                std::process::exit(1);
            }
            return;
        }
    }
    let kind = option(&args, "--store", "redis");
    let count = |name, default: usize| option(&args, name, "").parse().unwrap_or(default);
    if let Err(err) = fleet(&kind, count("--workers", 4), count("--requests", 50)) {
        eprintln!("fleet failed: {err}");
        std::process::exit(1);
    }
}
