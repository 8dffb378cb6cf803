//! `#[idempotent]` on axum handlers, served by a real server on 127.0.0.1 and called by a real
//! client: extractor patterns, extractors never fingerprinted, the replay header, the HTTP key
//! rule and `IdempotencyError` as a response.
#![cfg(feature = "axum")]

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use idempotent_runtime::axum::IdempotencyKey;
use idempotent_runtime::{idempotent, IdempotencyError, MemoryStore};
use idempotent_tests::http::{HttpClient, Server};
use serde::{Deserialize, Serialize};

#[derive(Clone, Default)]
struct App {
    store: MemoryStore,
    runs: Arc<AtomicUsize>,
}

#[derive(Debug, Serialize, Deserialize)]
struct CreateShare {
    name: String,
    principals: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Share {
    arn: String,
    name: String,
}

/// `State` (not serde) and `HeaderMap` need no `skip`; `Json(req)` is fingerprinted as `req`.
#[idempotent(token = "key", store = app.store)]
async fn create_share(
    State(app): State<App>,
    headers: HeaderMap,
    key: IdempotencyKey,
    Json(req): Json<CreateShare>,
) -> (StatusCode, Json<Share>) {
    let run = app.runs.fetch_add(1, SeqCst) + 1;
    let _ = headers;
    let share = Share {
        arn: format!("arn:aws:ram:us-east-1:123456789012:resource-share/{run:08x}"),
        name: req.name,
    };
    (StatusCode::CREATED, Json(share))
}

#[derive(Debug, Serialize, Deserialize)]
struct Tag {
    value: String,
}

/// `Path` and `Query` are fingerprinted by their inner values; an optional key.
#[idempotent(token = "key", store = app.store)]
async fn tag(
    State(app): State<App>,
    Path(id): Path<String>,
    Query(tag): Query<Tag>,
    key: Option<IdempotencyKey>,
) -> Json<String> {
    app.runs.fetch_add(1, SeqCst);
    Json(format!("{id}={}", tag.value))
}

/// The handler's own error, answered as its own response.
struct Refused;

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        (StatusCode::FORBIDDEN, "refused by policy").into_response()
    }
}

#[idempotent(token = "key", store = app.store)]
async fn guarded(
    State(app): State<App>,
    key: IdempotencyKey,
    Json(allow): Json<bool>,
) -> Result<Json<u32>, Refused> {
    let run = app.runs.fetch_add(1, SeqCst) as u32 + 1;
    if allow {
        Ok(Json(run))
    } else {
        Err(Refused)
    }
}

async fn serve() -> (Server, App) {
    let app = App::default();
    let router = Router::new()
        .route("/resource-shares", post(create_share))
        .route("/tags/{id}", post(tag))
        .route("/guarded", post(guarded))
        .with_state(app.clone());
    (Server::start(router).await, app)
}

const SHARE: &str = r#"{"name": "prod-subnets", "principals": ["123456789012"]}"#;

#[tokio::test]
async fn an_extractor_handler_replays_with_the_replay_header() {
    let (server, app) = serve().await;
    let client = HttpClient::default();
    let url = server.url("/resource-shares");
    let first = client.post(&url, Some("share-1"), SHARE).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert!(!first.replayed());
    let retry = client.post(&url, Some("share-1"), SHARE).await;
    assert_eq!(retry.status, StatusCode::CREATED);
    assert!(retry.replayed(), "{:?}", retry.headers);
    assert_eq!(retry.body, first.body);
    assert_eq!(retry.headers["content-type"], "application/json");
    assert_eq!(app.runs.load(SeqCst), 1);
}

#[tokio::test]
async fn another_body_under_the_same_key_is_422_naming_the_json_value() {
    let (server, app) = serve().await;
    let client = HttpClient::default();
    let url = server.url("/resource-shares");
    client.post(&url, Some("share-2"), SHARE).await;
    let other = client
        .post(
            &url,
            Some("share-2"),
            r#"{"name": "other", "principals": []}"#,
        )
        .await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(other.headers["content-type"], "application/problem+json");
    assert_eq!(other.json()["mismatched"], serde_json::json!(["req"]));
    assert_eq!(app.runs.load(SeqCst), 1);
}

#[tokio::test]
async fn path_and_query_are_fingerprinted_by_their_values_and_a_key_is_optional() {
    let (server, app) = serve().await;
    let client = HttpClient::default();
    let first = client
        .post(&server.url("/tags/i-1?value=web"), Some("tag-1"), "")
        .await;
    assert_eq!(first.json(), "i-1=web");
    let other_path = client
        .post(&server.url("/tags/i-2?value=web"), Some("tag-1"), "")
        .await;
    assert_eq!(other_path.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(other_path.json()["mismatched"], serde_json::json!(["id"]));
    let other_query = client
        .post(&server.url("/tags/i-1?value=db"), Some("tag-1"), "")
        .await;
    assert_eq!(other_query.json()["mismatched"], serde_json::json!(["tag"]));
    let unkeyed = client
        .post(&server.url("/tags/i-1?value=web"), None, "")
        .await;
    assert_eq!(unkeyed.status, StatusCode::OK);
    assert!(!unkeyed.replayed(), "without a key the handler runs");
    assert_eq!(app.runs.load(SeqCst), 2);
}

#[tokio::test]
async fn keys_follow_the_http_rule() {
    let (server, app) = serve().await;
    let client = HttpClient::default();
    let url = server.url("/resource-shares");
    let long = "k".repeat(200);
    let first = client.post(&url, Some(&long), SHARE).await;
    assert_eq!(
        first.status,
        StatusCode::CREATED,
        "200 characters pass the HTTP rule"
    );
    assert!(client
        .post(&url, Some(&format!("\"{long}\"")), SHARE)
        .await
        .replayed());
    let too_long = client.post(&url, Some(&"k".repeat(256)), SHARE).await;
    assert_eq!(too_long.status, StatusCode::BAD_REQUEST);
    assert!(too_long.json()["type"]
        .as_str()
        .is_some_and(|t| t.ends_with("#invalid-key")));
    let missing = client.post(&url, None, SHARE).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(missing.json()["type"]
        .as_str()
        .is_some_and(|t| t.ends_with("#missing-key")));
    assert_eq!(app.runs.load(SeqCst), 1);
}

#[tokio::test]
async fn the_handlers_own_error_is_its_own_response_and_releases_the_key() {
    let (server, app) = serve().await;
    let client = HttpClient::default();
    let url = server.url("/guarded");
    let refused = client.post(&url, Some("guard-1"), "false").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.body, "refused by policy");
    // Not recorded: the key was released, so the retry runs the handler again.
    let again = client.post(&url, Some("guard-1"), "false").await;
    assert_eq!(again.status, StatusCode::FORBIDDEN);
    assert!(!again.replayed());
    assert_eq!(app.runs.load(SeqCst), 2);
    assert_eq!(client.post(&url, Some("guard-2"), "true").await.json(), 3);
    assert!(client.post(&url, Some("guard-2"), "true").await.replayed());
    assert_eq!(app.runs.load(SeqCst), 3);
}

#[test]
fn the_errors_of_the_framework_answer_as_problem_details() {
    let in_progress: IdempotencyError<Refused> = IdempotencyError::RequestInProgress {
        operation: "CreateShare".into(),
        token: "k".into(),
        retry_after: std::time::Duration::from_millis(1500),
    };
    let response = in_progress.into_response();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(response.headers()["retry-after"], "2");
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let handler: IdempotencyError<Refused> = IdempotencyError::Handler(Refused);
    assert_eq!(handler.into_response().status(), StatusCode::FORBIDDEN);
}
