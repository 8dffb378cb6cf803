//! The HTTP layer under load: a trivial axum handler served bare and behind
//! `IdempotencyLayer` on `MemoryStore`, both on 127.0.0.1 in this process, driven in turn by
//! `wrk` at 16 connections: first requests (a fresh `Idempotency-Key` each, from a wrk Lua
//! script) and replays (one key), beside the bare service, in one run.
//!
//! ```sh
//! apt-get install wrk
//! cargo run --release -p idempotent-benches --features http --bin http_load -- [--seconds 5] [--only bare|first|replay]
//! ```

use std::process::Command;

use axum::routing::post;
use axum::{Json, Router};
use idempotent_runtime::http::IdempotencyLayer;
use idempotent_runtime::MemoryStore;
use serde_json::{json, Value};

/// The handler: echoes an id and the request's fields.
async fn create(Json(request): Json<Value>) -> (axum::http::StatusCode, Json<Value>) {
    let answer = json!({ "id": "rtb-0899b6226d3a3ef9a", "request": request });
    (axum::http::StatusCode::CREATED, Json(answer))
}

const BODY: &str = r#"{"vpc_id":"vpc-00c84bd9dcad1d728","request_id":"8e03978e-40d5-43e8-bc93-6894a57f9324","max_routes":50,"propagate":true,"tags":{"env":"production","team":"networking"}}"#;

/// A wrk script posting `BODY`, with a fresh key per request (`fresh`) or one key.
fn script(fresh: bool) -> String {
    let key = if fresh {
        r#""k-" .. id .. "-" .. counter"#
    } else {
        r#""replayed-key""#
    };
    format!(
        r#"local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{BODY}'
function request()
  counter = counter + 1
  local headers = {{}}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  headers["Idempotency-Key"] = {key}
  return wrk.format(nil, "/route-tables", headers)
end
"#
    )
}

/// What wrk measured: requests/s, p50 and p99 (as wrk prints them), non-2xx answers.
struct Measured {
    rate: f64,
    p50: String,
    p99: String,
    errors: String,
}

fn wrk(port: u16, seconds: u64, fresh: bool) -> Option<Measured> {
    let path = std::env::temp_dir().join(format!(
        "idempotent-http-{}-{fresh}.lua",
        std::process::id()
    ));
    std::fs::write(&path, script(fresh)).ok()?;
    let out = Command::new("wrk")
        .args(["-t2", "-c16", &format!("-d{seconds}s"), "--latency", "-s"])
        .arg(&path)
        .arg(format!("http://127.0.0.1:{port}"))
        .output()
        .ok()?;
    let _ = std::fs::remove_file(&path);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let field = |prefix: &str| {
        text.lines()
            .find_map(|line| line.trim().strip_prefix(prefix))
            .map(|rest| rest.trim().to_owned())
    };
    Some(Measured {
        rate: field("Requests/sec:")?.parse().ok()?,
        p50: field("50%")?,
        p99: field("99%")?,
        errors: field("Non-2xx or 3xx responses:").unwrap_or_else(|| "0".into()),
    })
}

async fn serve(router: Router) -> Option<u16> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.ok()?;
    let port = listener.local_addr().ok()?.port();
    tokio::spawn(async move { axum::serve(listener, router).await });
    Some(port)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seconds = args
        .iter()
        .position(|arg| arg == "--seconds")
        .and_then(|at| args.get(at + 1)?.parse().ok())
        .unwrap_or(5);
    let Ok(runtime) = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    else {
        eprintln!("no runtime");
        return;
    };
    let ports = runtime.block_on(async {
        let bare = Router::new().route("/route-tables", post(create));
        let layered = Router::new()
            .route("/route-tables", post(create))
            .layer(IdempotencyLayer::new(MemoryStore::new()).name("route-tables"));
        Some((serve(bare).await?, serve(layered).await?))
    });
    let Some((bare, layered)) = ports else {
        eprintln!("could not listen on 127.0.0.1");
        return;
    };
    println!("## HTTP: wrk -t2 -c16 -d{seconds}s, POST with a ~200-byte JSON body");
    let show = |name: &str, measured: &Option<Measured>| match measured {
        Some(m) => println!(
            "{name:<28} {:>9.0} req/s  p50 {:>9}  p99 {:>9}  non-2xx {}",
            m.rate, m.p50, m.p99, m.errors
        ),
        None => println!("{name:<28} wrk did not run (apt-get install wrk)"),
    };
    // `--only bare|first|replay` runs one phase (to profile it).
    let only = args
        .iter()
        .position(|arg| arg == "--only")
        .and_then(|at| args.get(at + 1))
        .map(String::as_str);
    let phase = |name: &str| only.is_none_or(|only| only == name);
    let bare_run = phase("bare").then(|| wrk(bare, seconds, true)).flatten();
    let first = phase("first")
        .then(|| wrk(layered, seconds, true))
        .flatten();
    let replay = phase("replay")
        .then(|| wrk(layered, seconds, false))
        .flatten();
    show("bare service", &bare_run);
    show("layer, first requests", &first);
    show("layer, replays", &replay);
    if let (Some(bare), Some(first), Some(replay)) = (&bare_run, &first, &replay) {
        println!(
            "first / bare {:.2} (target >= 0.75), replay / bare {:.2} (target >= 0.85)",
            first.rate / bare.rate,
            replay.rate / bare.rate
        );
    }
}
