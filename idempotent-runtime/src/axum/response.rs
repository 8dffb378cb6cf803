//! Answers: [`IdempotencyError<E>`](crate::IdempotencyError) as the HTTP layer's problem
//! details (or `E`'s own response), [`Outcome<T>`](crate::Outcome) as `T`'s response plus
//! `Idempotent-Replayed: true` on a replay.

use axum_core::response::{IntoResponse, Response};
use http::header::{HeaderName, HeaderValue};

use crate::http::problem::Problem;
use crate::http::IDEMPOTENT_REPLAYED;
use crate::{IdempotencyError, Outcome, StoreErrorKind};

impl<E: IntoResponse> IntoResponse for IdempotencyError<E> {
    fn into_response(self) -> Response {
        let problem = match self {
            Self::Handler(err) => return err.into_response(),
            Self::IdempotentParameterMismatch {
                token, mismatched, ..
            } => Problem::Mismatch {
                key: token,
                parts: mismatched,
            },
            Self::RequestInProgress {
                token, retry_after, ..
            } => Problem::InProgress {
                key: token,
                retry_after,
            },
            Self::InvalidToken { reason } => Problem::InvalidKey {
                reason: reason.to_string(),
            },
            Self::Store(err) if err.kind() == StoreErrorKind::Corrupt => Problem::CorruptRecord {
                key: String::new(),
                reason: err.to_string(),
            },
            Self::Store(err) => Problem::StoreUnavailable {
                reason: err.to_string(),
            },
        };
        problem.response().map(axum_core::body::Body::from)
    }
}

impl<T: IntoResponse> IntoResponse for Outcome<T> {
    fn into_response(self) -> Response {
        let replayed = self.replayed();
        let mut response = self.into_inner().into_response();
        if replayed {
            response.headers_mut().insert(
                HeaderName::from_static(IDEMPOTENT_REPLAYED),
                HeaderValue::from_static("true"),
            );
        }
        response
    }
}
