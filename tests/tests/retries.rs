//! `retry` and `retry_async` against real handlers: a retryable error is retried with the same
//! token until the result comes; a mismatch returns at once.

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use idempotent_runtime::{
    idempotent, retry, retry_async, ClientToken, IdempotencyError, RetryPolicy,
};

fn quick() -> RetryPolicy {
    RetryPolicy::default()
        .base(Duration::from_millis(1))
        .cap(Duration::from_millis(2))
}

#[idempotent(token = "token")]
async fn create_share(name: String, token: String) -> Result<String, String> {
    Ok(format!("share-{name}"))
}

#[tokio::test]
async fn an_in_progress_answer_is_retried_with_the_same_token() {
    let token = ClientToken::new();
    let attempts = AtomicU32::new(0);
    let share = retry_async(&quick(), |attempt| {
        attempts.store(attempt, SeqCst);
        let token = token.to_string();
        async move {
            if attempt < 3 {
                // What a duplicate sees while the first copy still runs.
                return Err(IdempotencyError::RequestInProgress {
                    operation: "op".into(),
                    token,
                    retry_after: Duration::from_secs(1),
                });
            }
            create_share("data".into(), token).await
        }
    })
    .await;
    assert_eq!(share.unwrap(), "share-data");
    assert_eq!(attempts.load(SeqCst), 3);
}

#[tokio::test]
async fn a_mismatch_is_not_retried() {
    let token = ClientToken::new();
    create_share("data".into(), token.to_string())
        .await
        .unwrap();
    let attempts = AtomicU32::new(0);
    let result = retry_async(&quick(), |attempt| {
        attempts.store(attempt, SeqCst);
        create_share("other".into(), token.to_string())
    })
    .await;
    assert!(matches!(
        result,
        Err(IdempotencyError::IdempotentParameterMismatch { .. })
    ));
    assert_eq!(attempts.load(SeqCst), 1);
}

#[test]
fn the_blocking_retry_gives_up_after_max_attempts() {
    let attempts = AtomicU32::new(0);
    let result: Result<(), IdempotencyError> = retry(&quick().max_attempts(3), |attempt| {
        attempts.store(attempt, SeqCst);
        Err(IdempotencyError::RequestInProgress {
            operation: "op".into(),
            token: "t".into(),
            retry_after: Duration::from_secs(1),
        })
    });
    assert!(result.is_err());
    assert_eq!(attempts.load(SeqCst), 3);
}
