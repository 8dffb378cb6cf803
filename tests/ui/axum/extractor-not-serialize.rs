use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::Json;
use idempotent_runtime::axum::IdempotencyKey;
use idempotent_runtime::{idempotent, MemoryStore};

#[derive(Clone)]
struct App {
    store: MemoryStore,
}

/// The signed-in user: an extractor, not serde.
struct User {
    id: u64,
}

struct CurrentUser(User);

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = ();
    async fn from_request_parts(_: &mut Parts, _: &S) -> Result<Self, ()> {
        Ok(CurrentUser(User { id: 1 }))
    }
}

#[idempotent(token = "key", store = app.store)]
async fn create_order(
    State(app): State<App>,
    CurrentUser(user): CurrentUser,
    key: IdempotencyKey,
    Json(item): Json<String>,
) -> Json<String> {
    Json(format!("{item} for {}", user.id))
}

fn main() {}
