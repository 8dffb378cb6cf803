// The guide: the README is the crate's landing page (and its Rust blocks are doctests) when
// every feature it uses is on, as on docs.rs and under `cargo test --all-features`.
#![cfg_attr(
    all(
        feature = "sqlite",
        feature = "redis",
        feature = "postgres",
        feature = "dynamodb",
        feature = "testing"
    ),
    doc = include_str!("../../README.md")
)]
#![cfg_attr(
    not(all(
        feature = "sqlite",
        feature = "redis",
        feature = "postgres",
        feature = "dynamodb",
        feature = "testing"
    )),
    doc = include_str!("crate_doc.md")
)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;
pub mod bounds;
mod codec;
mod engine;
mod error;
mod events;
pub mod fingerprint;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http;
mod key;
pub mod monitor;
mod outcome;
mod request;
mod retry;
#[doc(hidden)]
pub mod return_type;
pub mod store;
#[cfg(test)]
mod test_values;
mod token;

#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

#[doc(hidden)]
pub mod __private;

#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;

pub use error::{IdempotencyError, StoreError, StoreErrorKind};
pub use idempotent_macros::idempotent;
pub use outcome::Outcome;
pub use request::Concurrent;
pub use retry::{retry, retry_async, RetryPolicy, Retryable};
#[cfg(feature = "dynamodb")]
#[cfg_attr(docsrs, doc(cfg(feature = "dynamodb")))]
pub use store::DynamoDbStore;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use store::PostgresStore;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use store::RedisStore;
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use store::SqliteStore;
pub use store::{AsyncStore, ManualClock, MemoryStore, Store};
pub use token::{validate_token, ClientToken, InvalidTokenReason, MAX_HTTP_KEY_LEN, MAX_TOKEN_LEN};

// Paths the crate uses internally; users reach these types through `fingerprint`, `store` and
// (for generated code) `__private`.
#[cfg(any(test, feature = "testing"))]
pub(crate) use fingerprint::Fingerprinter;
pub(crate) use fingerprint::{Fingerprint, ParamDigest};
pub(crate) use key::{Key, Operation};
pub(crate) use request::{Options, Request};
