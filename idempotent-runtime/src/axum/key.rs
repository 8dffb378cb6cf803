//! `IdempotencyKey`: the `Idempotency-Key` header as an axum extractor, under the HTTP key
//! rule (1 to 255 visible ASCII characters; quoted or bare).

use std::fmt;

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;

use crate::http::key::read_key;
use crate::http::parse_key;
use crate::http::problem::Problem;

/// The request's `Idempotency-Key`, checked against the HTTP key rule. Extract it as a
/// handler parameter; a missing or invalid key is a 400 problem+json rejection.
/// `Option<IdempotencyKey>` makes the key optional (a request without one runs without
/// idempotency), and still rejects an invalid one.
///
/// ```
/// use idempotent_runtime::axum::IdempotencyKey;
/// let key = IdempotencyKey::parse("\"8e03978e-40d5-43e8-bc93-6894a57f9324\"").unwrap();
/// assert_eq!(key.as_ref(), "8e03978e-40d5-43e8-bc93-6894a57f9324");
/// assert!(IdempotencyKey::parse(&"k".repeat(256)).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Reads a key as the header carries it (quoted or bare), checking the HTTP key rule.
    pub fn parse(value: &str) -> Result<Self, KeyRejection> {
        let header = http::HeaderValue::from_str(value).map_err(|_| KeyRejection::Invalid {
            reason: "the key holds characters a header cannot carry".to_owned(),
        })?;
        parse_key(&header)
            .map(|key| Self(key.into_owned()))
            .map_err(|reason| KeyRejection::Invalid {
                reason: reason.to_string(),
            })
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for IdempotencyKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a request's `Idempotency-Key` was refused; answers 400 with problem details.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyRejection {
    /// The header is missing.
    Missing,
    /// The header breaks the key rule (or is sent twice).
    Invalid {
        /// Which rule, in words.
        reason: String,
    },
}

impl fmt::Display for KeyRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => f.write_str("the Idempotency-Key header is missing"),
            Self::Invalid { reason } => write!(f, "the Idempotency-Key is not valid: {reason}"),
        }
    }
}

impl std::error::Error for KeyRejection {}

impl IntoResponse for KeyRejection {
    fn into_response(self) -> Response {
        let problem = match self {
            Self::Missing => Problem::MissingKey,
            Self::Invalid { reason } => Problem::InvalidKey { reason },
        };
        problem.response().map(axum_core::body::Body::from)
    }
}

/// The key of `parts`: `None` without the header.
fn read(parts: &Parts) -> Result<Option<IdempotencyKey>, KeyRejection> {
    match read_key(&parts.headers) {
        Ok(key) => Ok(key.map(IdempotencyKey)),
        Err(reason) => Err(KeyRejection::Invalid {
            reason: reason.to_string(),
        }),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = KeyRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, KeyRejection> {
        read(parts)?.ok_or(KeyRejection::Missing)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for IdempotencyKey {
    type Rejection = KeyRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, KeyRejection> {
        read(parts)
    }
}
