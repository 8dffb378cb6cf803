//! `IdempotencyLayer` in front of a real axum service on 127.0.0.1, driven by a real HTTP
//! client: replays, mismatches, duplicates, keys, principals, limits and failures, on every
//! store whose feature is on.
#![cfg(feature = "http")]

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderName, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use idempotent_runtime::http::IdempotencyLayer;
use idempotent_runtime::AsyncStore;
use idempotent_tests::http::{HttpClient, Server};
use idempotent_tests::on_every_store;
use tokio::sync::Notify;

/// The service behind the layer, counting the times it really runs.
#[derive(Clone, Default)]
struct Service {
    runs: Arc<AtomicUsize>,
    /// `/held` says it has arrived, then waits to be let go.
    arrived: Arc<Notify>,
    release: Arc<Notify>,
}

impl Service {
    fn runs(&self) -> usize {
        self.runs.load(SeqCst)
    }
}

async fn create_route_table(State(service): State<Service>, body: String) -> Response {
    let run = service.runs.fetch_add(1, SeqCst) + 1;
    let request: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let id = format!("rtb-{run:08x}");
    let json = serde_json::json!({ "RouteTableId": id, "VpcId": request["vpc_id"] });
    (
        StatusCode::CREATED,
        [
            ("content-type", "application/json".to_owned()),
            ("location", format!("/route-tables/{id}")),
            ("set-cookie", format!("session={run}")),
        ],
        json.to_string(),
    )
        .into_response()
}

async fn held(State(service): State<Service>) -> StatusCode {
    service.runs.fetch_add(1, SeqCst);
    service.arrived.notify_one();
    service.release.notified().await;
    StatusCode::CREATED
}

async fn flaky(State(service): State<Service>) -> StatusCode {
    match service.runs.fetch_add(1, SeqCst) {
        0 => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::CREATED,
    }
}

async fn big(State(service): State<Service>) -> String {
    service.runs.fetch_add(1, SeqCst);
    "x".repeat(4096)
}

/// The service's routes behind `layer`, served.
async fn serve<St>(layer: IdempotencyLayer<St>) -> (Server, Service)
where
    St: AsyncStore + Clone + Send + Sync + 'static,
{
    let service = Service::default();
    let app = Router::new()
        .route("/route-tables", post(create_route_table))
        .route("/route-tables/copy", post(create_route_table))
        .route("/held", post(held))
        .route("/flaky", post(flaky))
        .route("/big", post(big).get(big))
        .with_state(service.clone())
        .layer(layer);
    (Server::start(app).await, service)
}

/// The layer as the tests configure it: keys scoped by `x-account`, which is fingerprinted.
fn layer<St>(store: St) -> IdempotencyLayer<St> {
    IdempotencyLayer::new(store)
        .name("route-tables")
        .fingerprint_header(HeaderName::from_static("x-account"))
        .scope(|parts| {
            parts
                .headers
                .get("x-account")
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        })
}

const VPC: &str = r#"{"vpc_id": "vpc-00c84bd9dcad1d728"}"#;

async fn a_retry_replays_status_headers_and_body<St>(store: St)
where
    St: AsyncStore + Clone + Send + Sync + 'static,
{
    let (server, service) = serve(layer(store)).await;
    let client = HttpClient::default();
    let url = server.url("/route-tables");
    let first = client.post(&url, Some("key-1"), VPC).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert!(!first.replayed());
    assert_eq!(first.json()["VpcId"], "vpc-00c84bd9dcad1d728");
    let retry = client.post(&url, Some("key-1"), VPC).await;
    assert_eq!(service.runs(), 1, "the service ran once");
    assert!(retry.replayed());
    assert_eq!(retry.status, first.status);
    assert_eq!(retry.body, first.body, "the same body, byte for byte");
    for header in ["content-type", "location"] {
        assert_eq!(retry.headers[header], first.headers[header], "{header}");
    }
    assert!(first.headers.contains_key("set-cookie"));
    assert!(
        !retry.headers.contains_key("set-cookie"),
        "a session cookie is never replayed"
    );
}
on_every_store!(a_retry_replays_status_headers_and_body);

async fn the_same_key_on_another_request_is_422_naming_what_differs<St>(store: St)
where
    St: AsyncStore + Clone + Send + Sync + 'static,
{
    let (server, service) = serve(layer(store)).await;
    let client = HttpClient::default();
    let url = server.url("/route-tables");
    let account = [("idempotency-key", "key-2"), ("x-account", "a-1")];
    let first = client
        .send(Method::POST, &url, &account, VPC.to_owned())
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    let other_body = client
        .send(
            Method::POST,
            &url,
            &account,
            r#"{"vpc_id": "vpc-2"}"#.to_owned(),
        )
        .await;
    assert_eq!(other_body.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        other_body.headers["content-type"],
        "application/problem+json"
    );
    assert_eq!(other_body.json()["mismatched"], serde_json::json!(["body"]));
    assert!(other_body.json()["detail"]
        .as_str()
        .is_some_and(|d| d.contains("key-2")));
    let other_path = client
        .send(
            Method::POST,
            &server.url("/route-tables/copy"),
            &account,
            VPC.to_owned(),
        )
        .await;
    assert_eq!(other_path.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(other_path.json()["mismatched"], serde_json::json!(["path"]));
    // The fingerprinted header: the same principal sending another `x-account` is not
    // possible (it is the scope), so a layer without the scope shows it.
    assert_eq!(service.runs(), 1);
}
on_every_store!(the_same_key_on_another_request_is_422_naming_what_differs);

async fn a_changed_fingerprinted_header_is_422<St>(store: St)
where
    St: AsyncStore + Clone + Send + Sync + 'static,
{
    let layer =
        IdempotencyLayer::new(store).fingerprint_header(HeaderName::from_static("x-region"));
    let (server, service) = serve(layer).await;
    let client = HttpClient::default();
    let url = server.url("/route-tables");
    let send = |region| {
        let client = client.clone();
        let url = url.clone();
        async move {
            client
                .send(
                    Method::POST,
                    &url,
                    &[("idempotency-key", "key-3"), ("x-region", region)],
                    VPC.to_owned(),
                )
                .await
        }
    };
    assert_eq!(send("eu-west-1").await.status, StatusCode::CREATED);
    let other = send("us-east-1").await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        other.json()["mismatched"],
        serde_json::json!(["header x-region"])
    );
    assert!(send("eu-west-1").await.replayed());
    assert_eq!(service.runs(), 1);
}
on_every_store!(a_changed_fingerprinted_header_is_422);

async fn a_duplicate_while_the_first_runs_is_409_with_retry_after<St>(store: St)
where
    St: AsyncStore + Clone + Send + Sync + 'static,
{
    let (server, service) = serve(layer(store).lease(Duration::from_secs(30))).await;
    let client = HttpClient::default();
    let url = server.url("/held");
    let arrived = service.arrived.notified();
    let first = tokio::spawn({
        let (client, url) = (client.clone(), url.clone());
        async move { client.post(&url, Some("key-4"), "{}").await }
    });
    arrived.await;
    let duplicate = client.post(&url, Some("key-4"), "{}").await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    let retry_after: u64 = duplicate.headers["retry-after"]
        .to_str()
        .ok()
        .and_then(|s| s.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=30).contains(&retry_after), "{retry_after}");
    service.release.notify_one();
    let first = first.await.expect("the first request completes");
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(service.runs(), 1);
}
on_every_store!(a_duplicate_while_the_first_runs_is_409_with_retry_after);

async fn keys_missing_where_required_or_invalid_are_400_and_quoted_keys_equal_bare<St>(store: St)
where
    St: AsyncStore + Clone + Send + Sync + 'static,
{
    let (server, service) = serve(layer(store).require_key(true)).await;
    let client = HttpClient::default();
    let url = server.url("/route-tables");
    let missing = client.post(&url, None, VPC).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(missing.json()["type"]
        .as_str()
        .is_some_and(|t| t.ends_with("#missing-key")));
    let too_long = "k".repeat(256);
    for bad in ["\"unterminated", "has space", too_long.as_str()] {
        let answer = client.post(&url, Some(bad), VPC).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(answer.json()["type"]
            .as_str()
            .is_some_and(|t| t.ends_with("#invalid-key")));
    }
    assert_eq!(service.runs(), 0, "no bad request reached the service");
    let longest = "k".repeat(255);
    assert_eq!(
        client.post(&url, Some(&longest), VPC).await.status,
        StatusCode::CREATED
    );
    let quoted = client.post(&url, Some("\"key-5\""), VPC).await;
    assert_eq!(quoted.status, StatusCode::CREATED);
    let bare = client.post(&url, Some("key-5"), VPC).await;
    assert!(
        bare.replayed(),
        "a quoted key and its bare form are one key"
    );
    assert_eq!(bare.body, quoted.body);
    assert_eq!(service.runs(), 2);
}
on_every_store!(keys_missing_where_required_or_invalid_are_400_and_quoted_keys_equal_bare);

async fn two_principals_with_one_key_never_see_each_others_responses<St>(store: St)
where
    St: AsyncStore + Clone + Send + Sync + 'static,
{
    let (server, service) = serve(layer(store)).await;
    let client = HttpClient::default();
    let url = server.url("/route-tables");
    let as_account = |account| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            client
                .send(
                    Method::POST,
                    &url,
                    &[("idempotency-key", "shared-key"), ("x-account", account)],
                    VPC.to_owned(),
                )
                .await
        }
    };
    let alice = as_account("alice").await;
    let bob = as_account("bob").await;
    assert!(!bob.replayed(), "bob's request ran for bob");
    assert_ne!(alice.body, bob.body);
    assert_eq!(as_account("alice").await.body, alice.body);
    assert_eq!(as_account("bob").await.body, bob.body);
    assert_eq!(service.runs(), 2);
}
on_every_store!(two_principals_with_one_key_never_see_each_others_responses);

async fn a_request_body_over_the_limit_is_413_and_nothing_is_stored<St>(store: St)
where
    St: AsyncStore + Clone + Send + Sync + 'static,
{
    let (server, service) = serve(layer(store).body_limit(64)).await;
    let client = HttpClient::default();
    let url = server.url("/route-tables");
    let large = format!(r#"{{"vpc_id": "{}"}}"#, "v".repeat(100));
    let refused = client.post(&url, Some("key-6"), &large).await;
    assert_eq!(refused.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(service.runs(), 0);
    let small = client.post(&url, Some("key-6"), VPC).await;
    assert_eq!(small.status, StatusCode::CREATED, "the key was never taken");
    assert!(!small.replayed());
}
on_every_store!(a_request_body_over_the_limit_is_413_and_nothing_is_stored);

async fn a_500_releases_the_key_and_the_retry_runs<St>(store: St)
where
    St: AsyncStore + Clone + Send + Sync + 'static,
{
    let (server, service) = serve(layer(store)).await;
    let client = HttpClient::default();
    let url = server.url("/flaky");
    let failed = client.post(&url, Some("key-7"), "{}").await;
    assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR);
    let retry = client.post(&url, Some("key-7"), "{}").await;
    assert_eq!(retry.status, StatusCode::CREATED);
    assert!(!retry.replayed(), "the retry ran the service again");
    assert!(client.post(&url, Some("key-7"), "{}").await.replayed());
    assert_eq!(service.runs(), 2);
}
on_every_store!(a_500_releases_the_key_and_the_retry_runs);

async fn sixty_four_racing_requests_with_one_key_run_the_service_once<St>(store: St)
where
    St: AsyncStore + Clone + Send + Sync + 'static,
{
    let (server, service) = serve(layer(store)).await;
    let client = HttpClient::default();
    let url = server.url("/route-tables");
    let racers: Vec<_> = (0..64)
        .map(|_| {
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move { client.post(&url, Some("key-8"), VPC).await })
        })
        .collect();
    let mut created = Vec::new();
    for racer in racers {
        let answer = racer.await.expect("the request completes");
        match answer.status {
            StatusCode::CREATED => created.push(answer.body),
            StatusCode::CONFLICT => {}
            other => panic!("unexpected {other}: {:?}", answer.body),
        }
    }
    assert_eq!(service.runs(), 1, "one run for 64 racing copies");
    assert!(!created.is_empty());
    assert!(created.iter().all(|body| *body == created[0]));
}
on_every_store!(sixty_four_racing_requests_with_one_key_run_the_service_once);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_store_is_503_and_the_service_is_not_called() {
    use idempotent_runtime::testing::{Fault, FaultyStore, Step};
    let store = FaultyStore::new(idempotent_runtime::MemoryStore::new()).as_remote();
    store.fail_always(Step::Begin, Fault::Unreachable);
    let (server, service) = serve(layer(store)).await;
    let answer = HttpClient::default()
        .post(&server.url("/route-tables"), Some("key-9"), VPC)
        .await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(answer.headers.contains_key("retry-after"));
    assert_eq!(service.runs(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_over_the_limit_is_answered_whole_and_not_recorded() {
    let (server, service) =
        serve(layer(idempotent_runtime::MemoryStore::new()).body_limit(1024)).await;
    let client = HttpClient::default();
    let url = server.url("/big");
    let first = client.post(&url, Some("key-10"), "{}").await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body.len(), 4096, "the client got all of it");
    let second = client.post(&url, Some("key-10"), "{}").await;
    assert!(!second.replayed(), "nothing was recorded: it ran again");
    assert_eq!(service.runs(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn methods_the_layer_does_not_handle_and_keyless_requests_pass_through() {
    let (server, service) = serve(layer(idempotent_runtime::MemoryStore::new())).await;
    let client = HttpClient::default();
    let get = client
        .send(
            Method::GET,
            &server.url("/big"),
            &[("idempotency-key", "key-11")],
            "",
        )
        .await;
    assert_eq!(get.status, StatusCode::OK);
    let url = server.url("/route-tables");
    let (a, b) = (
        client.post(&url, None, VPC).await,
        client.post(&url, None, VPC).await,
    );
    assert_eq!(
        (a.status, b.status),
        (StatusCode::CREATED, StatusCode::CREATED)
    );
    assert_ne!(a.body, b.body, "without a key each request runs");
    assert_eq!(service.runs(), 3);
}

/// A real fault: a PostgreSQL store whose server is not there (nothing listens on port 1).
#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_whose_server_is_down_is_503_and_the_service_is_not_called() {
    let store = idempotent_runtime::PostgresStore::new("postgres://postgres@127.0.0.1:1/test")
        .expect("the URL parses; connections are made on first use");
    let (server, service) = serve(layer(store)).await;
    let answer = HttpClient::default()
        .post(&server.url("/route-tables"), Some("key-12"), VPC)
        .await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.headers["retry-after"], "1");
    assert!(answer.json()["detail"]
        .as_str()
        .is_some_and(|detail| detail.contains("not run")));
    assert_eq!(service.runs(), 0);
}
