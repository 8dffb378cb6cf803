//! The layer's own answers, as RFC 9457 problem details (`application/problem+json`): what
//! went wrong with the key, in terms a client can act on.

use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use http::{Response, StatusCode};
use serde::Serialize;

use crate::{IdempotencyError, StoreErrorKind};

/// Where each problem type is described (the module's "Problem types" section).
const TYPE_BASE: &str = "https://docs.rs/idempotent-runtime/latest/idempotent_runtime/http/#";

/// One problem the layer answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Problem {
    MissingKey,
    InvalidKey { reason: String },
    BodyTooLarge { limit: usize },
    UnreadableBody { reason: String },
    Mismatch { key: String, parts: Vec<String> },
    InProgress { key: String, retry_after: Duration },
    StoreUnavailable { reason: String },
    CorruptRecord { reason: String },
}

#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    mismatched: Option<&'a [String]>,
}

impl Problem {
    fn status(&self) -> StatusCode {
        match self {
            Self::MissingKey | Self::InvalidKey { .. } | Self::UnreadableBody { .. } => {
                StatusCode::BAD_REQUEST
            }
            Self::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Mismatch { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::InProgress { .. } => StatusCode::CONFLICT,
            Self::StoreUnavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::CorruptRecord { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The problem type's slug and title.
    fn kind(&self) -> (&'static str, &'static str) {
        match self {
            Self::MissingKey => ("missing-key", "Idempotency-Key is missing"),
            Self::InvalidKey { .. } => ("invalid-key", "Idempotency-Key is invalid"),
            Self::BodyTooLarge { .. } => ("body-too-large", "Request body is too large"),
            Self::UnreadableBody { .. } => ("unreadable-body", "Request body could not be read"),
            Self::Mismatch { .. } => ("key-reused", "Idempotency-Key reused with another request"),
            Self::InProgress { .. } => (
                "key-in-use",
                "A request with this Idempotency-Key is in progress",
            ),
            Self::StoreUnavailable { .. } => ("store-unavailable", "Idempotency store unavailable"),
            Self::CorruptRecord { .. } => ("corrupt-record", "Idempotency record unreadable"),
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::MissingKey => {
                "this request needs an Idempotency-Key header; send a fresh UUID with it, and the same one on every retry".to_owned()
            }
            Self::InvalidKey { reason } => format!("the Idempotency-Key is not valid: {reason}"),
            Self::BodyTooLarge { limit } => {
                format!("the request body is over the limit of {limit} bytes; nothing was stored")
            }
            Self::UnreadableBody { reason } => {
                format!("the request body could not be read: {reason}; nothing was stored")
            }
            Self::Mismatch { key, parts } => format!(
                "the Idempotency-Key {key} was first used with another request; these differ: {}. Send a new key for a new request",
                parts.join(", ")
            ),
            Self::InProgress { key, .. } => format!(
                "a request with the Idempotency-Key {key} is still running; retry with the same key after Retry-After seconds"
            ),
            Self::StoreUnavailable { reason } => format!(
                "the idempotency store could not be reached, so the request was not run: {reason}"
            ),
            Self::CorruptRecord { reason } => {
                format!("the record of this Idempotency-Key could not be read: {reason}")
            }
        }
    }

    /// The problem an error of the engine answers with; the handler's own error comes back
    /// as it is, for the caller to answer.
    pub(crate) fn of_error<E>(err: IdempotencyError<E>) -> Result<Self, E> {
        Ok(match err {
            IdempotencyError::Handler(err) => return Err(err),
            IdempotencyError::IdempotentParameterMismatch {
                token, mismatched, ..
            } => Self::Mismatch {
                key: token,
                parts: mismatched,
            },
            IdempotencyError::RequestInProgress {
                token, retry_after, ..
            } => Self::InProgress {
                key: token,
                retry_after,
            },
            IdempotencyError::InvalidToken { reason } => Self::InvalidKey {
                reason: reason.to_string(),
            },
            IdempotencyError::Store(err) if err.kind() == StoreErrorKind::Corrupt => {
                Self::CorruptRecord {
                    reason: err.to_string(),
                }
            }
            IdempotencyError::Store(err) => Self::StoreUnavailable {
                reason: err.to_string(),
            },
        })
    }

    /// The response: status, `application/problem+json`, `Retry-After` where a retry helps.
    pub(crate) fn response(&self) -> Response<Bytes> {
        let (slug, title) = self.kind();
        let status = self.status();
        let body = Body {
            kind: format!("{TYPE_BASE}{slug}"),
            title,
            status: status.as_u16(),
            detail: self.detail(),
            mismatched: match self {
                Self::Mismatch { parts, .. } => Some(parts),
                _ => None,
            },
        };
        // Serializing a struct of strings and numbers cannot fail; an empty body is the
        // harmless answer if it ever did.
        let json = serde_json::to_vec(&body).unwrap_or_default();
        let mut response = Response::new(Bytes::from(json));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        let retry_after = match self {
            Self::InProgress { retry_after, .. } => Some(seconds_at_least_one(*retry_after)),
            Self::StoreUnavailable { .. } => Some(1),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Whole seconds, rounded up, and never 0 (a client told 0 would retry at once).
fn seconds_at_least_one(duration: Duration) -> u64 {
    let seconds = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
    seconds.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(problem: &Problem) -> serde_json::Value {
        serde_json::from_slice(problem.response().body()).expect("problem+json")
    }

    #[test]
    fn a_mismatch_is_422_and_names_the_parts_that_differ() {
        let problem = Problem::Mismatch {
            key: "k-1".into(),
            parts: vec!["body".into(), "header x-account".into()],
        };
        let response = problem.response();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/problem+json");
        let body = json(&problem);
        assert_eq!(body["status"], 422);
        assert_eq!(body["mismatched"][1], "header x-account");
        assert!(body["detail"].as_str().is_some_and(|d| d.contains("k-1")));
        assert!(body["type"]
            .as_str()
            .is_some_and(|t| t.ends_with("#key-reused")));
    }

    #[test]
    fn in_progress_is_409_with_a_retry_after_of_at_least_one_second() {
        let retry = |retry_after| {
            Problem::InProgress {
                key: "k".into(),
                retry_after,
            }
            .response()
            .headers()[RETRY_AFTER]
                .clone()
        };
        assert_eq!(retry(Duration::from_millis(10)), "1");
        assert_eq!(retry(Duration::from_millis(2_100)), "3");
        assert_eq!(retry(Duration::ZERO), "1");
    }

    #[test]
    fn every_problem_has_its_status() {
        let cases = [
            (Problem::MissingKey, 400),
            (Problem::InvalidKey { reason: "r".into() }, 400),
            (Problem::UnreadableBody { reason: "r".into() }, 400),
            (Problem::BodyTooLarge { limit: 1 }, 413),
            (Problem::StoreUnavailable { reason: "r".into() }, 503),
            (Problem::CorruptRecord { reason: "r".into() }, 500),
        ];
        for (problem, status) in cases {
            assert_eq!(problem.response().status(), status, "{problem:?}");
            assert_eq!(json(&problem)["status"], status, "{problem:?}");
        }
    }
}
