//! A fleet: N worker processes share one Redis and all receive the same requests at once,
//! as behind a load balancer that retries. Each request runs once in the whole fleet; every
//! other copy waits for it (`concurrent = "wait"`) and replays its result.
//!
//! Run with `cargo run -p idempotent-examples --example fleet --features redis` (Redis on
//! 127.0.0.1:6379, or set `REDIS_URL`). Options: `--workers N` (default 4), `--requests M`
//! (default 50).

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use idempotent_runtime::{idempotent, RedisStore};

/// One worker process's service.
struct Volumes {
    store: RedisStore,
    executed: AtomicUsize,
}

impl Volumes {
    #[idempotent(token = "token", store = self.store, name = "CreateVolume", concurrent = "wait", ttl = "1m")]
    async fn create(&self, size: u32, token: String) -> Result<String, String> {
        self.executed.fetch_add(1, Ordering::SeqCst);
        Ok(format!("vol-{size}-made-by-{}", std::process::id()))
    }
}

fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

fn option(args: &[String], name: &str, default: usize) -> usize {
    args.windows(2)
        .find(|pair| pair[0] == name)
        .and_then(|pair| pair[1].parse().ok())
        .unwrap_or(default)
}

/// A worker: sends every request concurrently, prints one `token value` line per request and
/// a last line `executed N`.
async fn worker(
    prefix: String,
    requests: usize,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let store = RedisStore::connect(&redis_url())
        .await?
        .with_prefix(&prefix);
    let volumes = Arc::new(Volumes {
        store,
        executed: AtomicUsize::new(0),
    });
    let calls: Vec<_> = (0..requests)
        .map(|i| {
            let volumes = Arc::clone(&volumes);
            tokio::spawn(async move { (i, volumes.create(8, format!("request-{i}")).await) })
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

/// The parent: starts the workers, then counts executions and replays across the fleet.
fn fleet(workers: usize, requests: usize) -> Result<(), Box<dyn std::error::Error>> {
    let prefix = format!("fleet-demo:{}:", std::process::id());
    let exe = std::env::current_exe()?;
    println!(
        "starting {workers} workers sharing Redis at {}, each sent the same {requests} requests",
        redis_url()
    );
    let children = (0..workers)
        .map(|_| {
            Command::new(&exe)
                .args(["worker", &prefix, &requests.to_string()])
                .stdout(Stdio::piped())
                .spawn()
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (mut executed, mut answers) = (0, std::collections::BTreeMap::<String, Vec<String>>::new());
    for child in children {
        let output = child.wait_with_output()?;
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
    if let [mode, prefix, requests] = args.as_slice() {
        if mode == "worker" {
            if let Err(err) = worker(prefix.clone(), requests.parse().unwrap_or(50)).await {
                eprintln!("worker failed: {err}");
                std::process::exit(1);
            }
            return;
        }
    }
    let (workers, requests) = (
        option(&args, "--workers", 4),
        option(&args, "--requests", 50),
    );
    if let Err(err) = fleet(workers, requests) {
        eprintln!("fleet failed: {err}");
        std::process::exit(1);
    }
}
