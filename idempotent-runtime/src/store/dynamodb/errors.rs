//! What a DynamoDB failure means to the caller: transient (throttled, a server error, no
//! answer: retry with the same token) or not (a missing table, refused credentials, a request
//! DynamoDB rejects), with DynamoDB's own words in the error's Display.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

use crate::{StoreError, StoreErrorKind};

/// Maps a DynamoDB error met while doing `doing`.
pub(super) fn error<E, R>(doing: &str, err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let kind = classify(&err);
    StoreError::from_driver(kind, format!("dynamodb: could not {doing}"), err)
}

fn classify<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> StoreErrorKind {
    match err {
        // No answer, or one that could not be read: the request may not have arrived.
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            StoreErrorKind::Unavailable
        }
        SdkError::ServiceError(_) => match err.code() {
            Some(
                "ProvisionedThroughputExceededException"
                | "ThrottlingException"
                | "RequestLimitExceeded"
                | "InternalServerError"
                | "ServiceUnavailable"
                | "TransactionConflictException"
                | "LimitExceededException",
            ) => StoreErrorKind::Unavailable,
            _ => StoreErrorKind::Other,
        },
        _ => StoreErrorKind::Other,
    }
}
