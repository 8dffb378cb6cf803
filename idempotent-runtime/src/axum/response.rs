//! Answers: [`IdempotencyError<E>`](crate::IdempotencyError) as the HTTP layer's problem
//! details (or `E`'s own response), [`Outcome<T>`](crate::Outcome) as `T`'s response plus
//! `Idempotent-Replayed: true` on a replay.

use axum_core::response::{IntoResponse, Response};
use http::header::{HeaderName, HeaderValue};

use crate::http::problem::Problem;
use crate::http::IDEMPOTENT_REPLAYED;
use crate::{IdempotencyError, Outcome};

impl<E: IntoResponse> IntoResponse for IdempotencyError<E> {
    fn into_response(self) -> Response {
        match Problem::of_error(self) {
            Ok(problem) => problem.response().map(axum_core::body::Body::from),
            Err(err) => err.into_response(),
        }
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
