//! Make request handlers idempotent with one attribute.
//!
//! A client sends a token with a create request (EC2's `--client-token`, Stripe's
//! `Idempotency-Key`). A retry with the same token and the same parameters returns the first
//! result without running the handler again; the same token with other parameters fails with
//! [`IdempotencyError::IdempotentParameterMismatch`]; copies arriving at once never both run.
//!
//! ```
//! use idempotent_runtime::idempotent;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
//! struct RouteTable { id: String, vpc_id: String }
//!
//! #[derive(Debug)]
//! struct Ec2Error(String);
//!
//! impl std::fmt::Display for Ec2Error {
//!     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
//!         f.write_str(&self.0)
//!     }
//! }
//!
//! #[idempotent(token = "client_token")]
//! fn create_route_table(vpc_id: String, client_token: Option<String>) -> Result<RouteTable, Ec2Error> {
//!     Ok(RouteTable { id: format!("rtb-{}", vpc_id.len()), vpc_id })
//! }
//!
//! let token = Some("abf653c2-09a2-426d-bd2d-acaac0c98a28".to_string());
//! let first = create_route_table("vpc-1".into(), token.clone()).unwrap();
//! let retry = create_route_table("vpc-1".into(), token.clone()).unwrap();
//! assert_eq!(first, retry);
//!
//! let err = create_route_table("vpc-2".into(), token).unwrap_err();
//! assert!(matches!(err, CreateRouteTableError::IdempotentParameterMismatch { .. }));
//! assert!(err.to_string().starts_with("Wrong arguments for request with token abf653c2"));
//! ```
//!
//! See the [README](https://github.com/idempotent-rs/idempotent) for every option of the
//! attribute, the guarantees, and the stores.

mod codec;
mod engine;
mod error;
mod events;
mod fingerprint;
mod key;
pub mod monitor;
mod outcome;
mod request;
mod retry;
pub mod store;
#[cfg(test)]
mod test_values;
mod token;

#[cfg(feature = "testing")]
pub mod testing;

#[doc(hidden)]
pub mod __private;

#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;

pub use error::{IdempotencyError, StoreError, StoreErrorKind};
pub use fingerprint::{
    Fingerprint, FingerprintError, Fingerprinter, ParamDigest, FINGERPRINT_VERSION,
};
pub use idempotent_macros::idempotent;
pub use key::{Key, Operation};
pub use outcome::Outcome;
pub use request::{Concurrent, Options, Request, Scope};
pub use retry::{retry, retry_async, RetryPolicy, Retryable};
#[cfg(feature = "postgres")]
pub use store::PostgresStore;
#[cfg(feature = "redis")]
pub use store::RedisStore;
#[cfg(feature = "sqlite")]
pub use store::SqliteStore;
pub use store::{AsyncStore, ManualClock, MemoryStore, Store};
pub use token::{validate_token, ClientToken, InvalidTokenReason, MAX_TOKEN_LEN};
