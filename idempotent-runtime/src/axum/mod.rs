//! axum handlers with `#[idempotent]`: the [`IdempotencyKey`] extractor, answers for
//! [`IdempotencyError`](crate::IdempotencyError) and [`Outcome`](crate::Outcome), and the
//! codecs the macro uses for `Json<T>` outputs.
//!
//! ```no_run
//! use axum::extract::State;
//! use axum::http::StatusCode;
//! use axum::{routing::post, Json, Router};
//! use idempotent_runtime::axum::IdempotencyKey;
//! use idempotent_runtime::{idempotent, MemoryStore};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Clone)]
//! struct App {
//!     store: MemoryStore,
//! }
//!
//! #[derive(Serialize, Deserialize)]
//! struct CreateShare {
//!     name: String,
//! }
//!
//! #[derive(Serialize, Deserialize)]
//! struct Share {
//!     arn: String,
//! }
//!
//! // `State` is never fingerprinted; `Json(req)` is, by its inner value; the key's type makes
//! // this an axum handler: it answers `Outcome<..>`, so a replay says so in a header.
//! #[idempotent(token = "key", store = app.store)]
//! async fn create_share(
//!     State(app): State<App>,
//!     key: IdempotencyKey,
//!     Json(req): Json<CreateShare>,
//! ) -> (StatusCode, Json<Share>) {
//!     (StatusCode::CREATED, Json(Share { arn: format!("arn:share/{}", req.name) }))
//! }
//!
//! # async fn serve() {
//! let app: Router = Router::new()
//!     .route("/resource-shares", post(create_share))
//!     .with_state(App { store: MemoryStore::new() });
//! # let _ = app;
//! # }
//! ```
//!
//! What the macro does for an axum handler:
//!
//! - A parameter bound by a one-field pattern (`Json(req): Json<T>`, `Query(q): Query<T>`,
//!   `Path(id): Path<T>`, `Form(f): Form<T>`) is fingerprinted by its inner value, under the
//!   inner name (`req`).
//! - Parameters whose type is spelled `State<..>`, `Extension<..>` or `HeaderMap` are never
//!   fingerprinted, nor is the key; any other parameter that is not `Serialize` is a compile
//!   error that says to `skip` it.
//! - A token whose type is spelled `IdempotencyKey` (or `Option<IdempotencyKey>`) follows the
//!   HTTP key rule (1 to 255 characters) and makes the handler answer
//!   `Result<Outcome<T>, IdempotencyError<E>>`: [`Outcome`](crate::Outcome) is the response
//!   `T` is, plus `Idempotent-Replayed: true` on a replay. (No `_with_outcome` companion is
//!   emitted beside it: the handler is that.)
//! - `Json<T>` and `(StatusCode, Json<T>)` outputs are recorded as `T` (and the status) and
//!   rebuilt on a replay; other outputs must be `Serialize + DeserializeOwned` as usual.
//! - [`IdempotencyError<E>`](crate::IdempotencyError) is a response when `E` is: the problem
//!   details of the [`http`](crate::http) layer for the framework's own variants, `E`'s own
//!   response for `Handler(E)`.

mod codec;
mod key;
mod response;

pub use codec::{json, status_json};
pub use key::{IdempotencyKey, KeyRejection};
