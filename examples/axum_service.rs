//! An HTTP service with both ways in, on one store:
//!
//! - `POST /route-tables` (EC2's `CreateRouteTable`) behind `IdempotencyLayer`, which keys
//!   each request by its `Idempotency-Key` header;
//! - `POST /resource-shares` (RAM's `CreateResourceShare`), an axum handler with
//!   `#[idempotent]`.
//!
//! Run it with `cargo run --example axum_service` (listens on 127.0.0.1:3000, or `ADDR`), and
//! pick the store with `-- --store memory|sqlite:PATH|redis:URL|postgres:URL` (memory by
//! default). The README's "HTTP services" section has the curl lines.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use idempotent_runtime::axum::IdempotencyKey;
use idempotent_runtime::http::IdempotencyLayer;
use idempotent_runtime::{
    idempotent, AsyncStore, MemoryStore, PostgresStore, RedisStore, SqliteStore,
};
use serde::{Deserialize, Serialize};

/// The service's state: its store and its counters of created resources.
struct App<St> {
    store: St,
    created: Arc<AtomicU64>,
}

impl<St: Clone> Clone for App<St> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            created: Arc::clone(&self.created),
        }
    }
}

#[derive(Deserialize)]
struct CreateRouteTable {
    vpc_id: String,
    /// How long the request takes (default 0), to show a duplicate arriving meanwhile.
    #[serde(default)]
    hold_seconds: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RouteTable {
    route_table_id: String,
    vpc_id: String,
    client_token: Option<String>,
}

/// A plain axum handler: the layer in front of it makes it idempotent.
async fn create_route_table<St>(
    State(app): State<App<St>>,
    headers: axum::http::HeaderMap,
    Json(request): Json<CreateRouteTable>,
) -> (StatusCode, Json<RouteTable>) {
    tokio::time::sleep(std::time::Duration::from_secs(request.hold_seconds.min(60))).await;
    let number = app.created.fetch_add(1, Ordering::SeqCst) + 1;
    let client_token = headers
        .get("idempotency-key")
        .and_then(|key| key.to_str().ok())
        .map(|key| key.trim_matches('"').to_owned());
    let table = RouteTable {
        route_table_id: format!("rtb-{:017x}", 0x0d1c_ebf2_0000_0000_u64 + number),
        vpc_id: request.vpc_id,
        client_token,
    };
    (StatusCode::CREATED, Json(table))
}

#[derive(Serialize, Deserialize)]
struct CreateResourceShare {
    name: String,
    principals: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceShare {
    resource_share_arn: String,
    name: String,
    status: String,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateResourceShareResponse {
    resource_share: ResourceShare,
    client_token: String,
}

/// An axum handler made idempotent by the attribute: `State` is not fingerprinted,
/// `Json(request)` is, and a replay answers with `Idempotent-Replayed: true`.
#[idempotent(token = "key", store = app.store, name = "CreateResourceShare")]
async fn create_resource_share<St: AsyncStore + Clone + Send + Sync + 'static>(
    State(app): State<App<St>>,
    key: IdempotencyKey,
    Json(request): Json<CreateResourceShare>,
) -> (StatusCode, Json<CreateResourceShareResponse>) {
    let number = app.created.fetch_add(1, Ordering::SeqCst) + 1;
    let share = ResourceShare {
        resource_share_arn: format!(
            "arn:aws:ram:us-east-1:123456789012:resource-share/{:08x}-{}",
            number,
            request.principals.len()
        ),
        name: request.name,
        status: "ACTIVE".to_owned(),
    };
    let response = CreateResourceShareResponse {
        resource_share: share,
        client_token: key.to_string(),
    };
    (StatusCode::CREATED, Json(response))
}

/// The routes on `store`.
fn router<St: AsyncStore + Clone + Send + Sync + 'static>(store: St) -> Router {
    let app = App {
        store: store.clone(),
        created: Arc::default(),
    };
    let route_tables = Router::new()
        .route("/route-tables", post(create_route_table::<St>))
        .layer(IdempotencyLayer::new(store).name("CreateRouteTable"));
    Router::new()
        .route("/resource-shares", post(create_resource_share::<St>))
        .merge(route_tables)
        .with_state(app)
}

/// The store `--store` names.
enum Choice {
    Memory,
    Sqlite(String),
    Redis(String),
    Postgres(String),
}

fn choice() -> Result<Choice, String> {
    let mut args = std::env::args().skip(1);
    let spec = match (args.next().as_deref(), args.next()) {
        (None, _) => return Ok(Choice::Memory),
        (Some("--store"), Some(spec)) => spec,
        _ => {
            return Err(
                "usage: axum_service [--store memory|sqlite:PATH|redis:URL|postgres:URL]".into(),
            )
        }
    };
    match spec.split_once(':') {
        _ if spec == "memory" => Ok(Choice::Memory),
        Some(("sqlite", path)) => Ok(Choice::Sqlite(path.to_owned())),
        Some(("redis", _)) => Ok(Choice::Redis(spec)),
        Some(("postgres", _)) => Ok(Choice::Postgres(spec)),
        _ => Err(format!(
            "unknown store {spec:?}: write memory, sqlite:PATH, redis:URL or postgres:URL"
        )),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let router = match choice()? {
        Choice::Memory => router(MemoryStore::new()),
        Choice::Sqlite(path) => router(SqliteStore::open(path)?),
        Choice::Redis(url) => router(RedisStore::connect(&url).await?),
        Choice::Postgres(url) => {
            let store = PostgresStore::new(&url)?;
            store.migrate().await?;
            router(store)
        }
    };
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, router).await?;
    Ok(())
}
