//! HTTP services: [`IdempotencyLayer`], a `tower` layer that makes any HTTP service's requests
//! idempotent by their `Idempotency-Key` header (IETF draft-ietf-httpapi-idempotency-key-header,
//! as Stripe does it).
//!
//! ```no_run
//! # #[cfg(feature = "axum")] mod demo {
//! use axum::{routing::post, Router};
//! use idempotent_runtime::http::IdempotencyLayer;
//! use idempotent_runtime::MemoryStore;
//!
//! async fn create_order(body: String) -> (axum::http::StatusCode, String) {
//!     (axum::http::StatusCode::CREATED, format!("created from {body}"))
//! }
//!
//! pub fn app() -> Router {
//!     Router::new()
//!         .route("/orders", post(create_order))
//!         .layer(IdempotencyLayer::new(MemoryStore::new()).name("orders"))
//! }
//! # }
//! ```
//!
//! For each POST or PATCH request (configurable) with a key:
//!
//! | situation | answer |
//! |---|---|
//! | first request | the inner service's response, recorded: status, `content-type`, `location` (and headers added with [`replay_header`](IdempotencyLayer::replay_header)), body |
//! | same key, same request, recorded | the recorded response byte for byte, plus `Idempotent-Replayed: true` |
//! | same key, another method, path, query, fingerprinted header or body | 422 |
//! | same key, first request still running | 409 with `Retry-After` (seconds left of its lease, at least 1) |
//! | no key, where [`require_key`](IdempotencyLayer::require_key) | 400 |
//! | invalid key (not 1-255 visible ASCII characters, or a malformed quoted string) | 400 |
//! | request body over the limit | 413; nothing stored |
//! | store unreachable | 503 with `Retry-After`; the inner service was not called |
//!
//! The key is a structured-field string (`Idempotency-Key: "8e03978e-..."`) or, as many
//! clients send it, bare; the rule is 1 to [`MAX_HTTP_KEY_LEN`](crate::MAX_HTTP_KEY_LEN)
//! (255) visible ASCII characters, Stripe's length (the attribute keeps EC2's 64). The record's
//! key is the layer's [`name`](IdempotencyLayer::name), the principal the
//! [`scope`](IdempotencyLayer::scope) function reads, and the key, with the attribute's
//! collision-free encoding; the fingerprint is SHA-256 over method, path, query, the chosen
//! headers and the body, with the attribute's canonical encoding.
//!
//! # Recording policy
//!
//! By default 2xx and 4xx responses are recorded, except 401, 403, 408, 409 and 429; those and
//! every 5xx release the key, so a retry runs again ([`records_by_default`] says why). Stripe
//! records a 500 once work began, Powertools releases on failure, and the draft leaves it open;
//! releasing is the choice that never replays a failure the service might not repeat. Change
//! it with [`record_when`](IdempotencyLayer::record_when). A response whose body is over the
//! limit, or fails while it is read, is answered as the service produced it, not recorded, and
//! the key released; an `error` event under the `idempotent` target says so.
//!
//! # Problem types
//!
//! Every answer of the layer's own is `application/problem+json` (RFC 9457) with `type`,
//! `title`, `status` and a `detail` naming the key; a 422 adds `mismatched`, the parts that
//! differ (`method`, `path`, `query`, `header <name>`, `body`). The `type` is this page with
//! one of these fragments: `missing-key`, `invalid-key`, `body-too-large`, `unreadable-body`,
//! `key-reused` (422), `key-in-use` (409), `store-unavailable` (503), `corrupt-record` (500).
//!
//! Every decision emits the same `tracing` events and monitor calls as the attribute.

mod body;
pub(crate) mod key;
mod layer;
pub(crate) mod problem;
mod recorded;
mod service;

pub use body::{BoxError, LayerBody, RequestBody, ResponseBody};
pub use key::{parse_key, IDEMPOTENCY_KEY};
pub use layer::{records_by_default, IdempotencyLayer, RecordFn, ScopeFn};
pub use recorded::IDEMPOTENT_REPLAYED;
pub use service::{IdempotencyService, ResponseFuture};
