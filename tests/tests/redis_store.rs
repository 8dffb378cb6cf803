//! `RedisStore` behind `#[idempotent]`: an async handler replays from Redis, rejects other
//! arguments, and two services sharing one Redis share records; a down Redis fails closed.
#![cfg(feature = "redis")]

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use idempotent_runtime::{idempotent, IdempotencyError, RedisStore};
use idempotent_tests::redis_server;

struct Volumes {
    store: RedisStore,
    created: AtomicUsize,
}

impl Volumes {
    fn new(prefix: &str) -> Self {
        let store = RedisStore::new(&redis_server::url())
            .expect("valid URL")
            .with_prefix(prefix);
        Self {
            store,
            created: AtomicUsize::new(0),
        }
    }

    #[idempotent(token = "token", store = self.store, name = "CreateVolume")]
    async fn create(&self, size: u32, token: String) -> Result<String, String> {
        let n = self.created.fetch_add(1, SeqCst);
        Ok(format!("vol-{size}-{n}"))
    }
}

/// Deletes the test's keys however it ends.
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        redis_server::delete_prefix(&self.0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_services_sharing_redis_run_a_request_once() {
    redis_server::require();
    let prefix = redis_server::unique_prefix("handler");
    let _cleanup = Cleanup(prefix.clone());
    let (first, second) = (Volumes::new(&prefix), Volumes::new(&prefix));
    let created = first.create(8, "shared".into()).await.unwrap();
    assert_eq!(second.create(8, "shared".into()).await.unwrap(), created);
    assert_eq!(
        second.created.load(SeqCst),
        0,
        "the second service ran the handler again"
    );
    let err = second.create(9, "shared".into()).await.unwrap_err();
    assert!(
        matches!(err, IdempotencyError::IdempotentParameterMismatch { ref mismatched, .. } if mismatched == &["size"])
    );
}

#[tokio::test]
async fn a_down_redis_fails_closed_and_the_handler_does_not_run() {
    let volumes = Volumes {
        store: RedisStore::new("redis://127.0.0.1:1").expect("valid URL"),
        created: AtomicUsize::new(0),
    };
    let err = volumes.create(8, "down".into()).await.unwrap_err();
    assert!(
        matches!(err, IdempotencyError::Store(ref e) if e.is_transient()),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert_eq!(volumes.created.load(SeqCst), 0);
}

/// Redis answering but refusing the credentials is a misconfiguration: not retryable, and the
/// Display says what Redis said.
#[tokio::test]
async fn refused_credentials_are_not_transient_and_say_why() {
    redis_server::require();
    let url = redis_server::url().replace("redis://", "redis://nobody:wrong-password@");
    let volumes = Volumes {
        store: RedisStore::new(&url).expect("valid URL"),
        created: AtomicUsize::new(0),
    };
    let err = volumes.create(8, "refused".into()).await.unwrap_err();
    assert!(
        matches!(err, IdempotencyError::Store(ref e) if !e.is_transient()),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    let text = err.to_string();
    assert!(
        text.to_lowercase().contains("authentication failed"),
        "{text}"
    );
    assert_eq!(volumes.created.load(SeqCst), 0);
}
