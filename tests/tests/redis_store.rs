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

/// A handler whose first run waits for a gate, so duplicates pile up behind it.
struct Gated {
    store: RedisStore,
    gate: std::sync::Arc<tokio::sync::Notify>,
    runs: AtomicUsize,
}

impl Gated {
    #[idempotent(token = "token", store = self.store, name = "Gated", concurrent = "wait", lease = "60s")]
    async fn create(&self, size: u32, token: String) -> u32 {
        if self.runs.fetch_add(1, SeqCst) == 0 {
            self.gate.notified().await;
        }
        size
    }
}

/// A hundred waiters on one store share one subscription: on a Redis that accepts 16 clients
/// they all wait and are all woken (with a connection each, most were refused).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_waiters_share_one_subscription() {
    let server = redis_server::PrivateRedis::start_with(&["--maxclients", "16"]);
    let gated = std::sync::Arc::new(Gated {
        store: RedisStore::new(&server.url()).expect("valid URL"),
        gate: std::sync::Arc::new(tokio::sync::Notify::new()),
        runs: AtomicUsize::new(0),
    });
    let owner = tokio::spawn({
        let gated = gated.clone();
        async move { gated.create(5, "crowd".into()).await }
    });
    while gated.runs.load(SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    let waiters: Vec<_> = (0..100)
        .map(|_| {
            let gated = gated.clone();
            tokio::spawn(async move { gated.create(5, "crowd".into()).await })
        })
        .collect();
    // Each waiter runs two scripts before it waits (`begin`, then the check that the owner
    // still runs), so the server's count says when all hundred are waiting: only then is the
    // gate opened.
    let scripts_run = || {
        let info: String = redis::Client::open(server.url())
            .and_then(|client| client.get_connection())
            .and_then(|mut connection| {
                redis::cmd("INFO")
                    .arg("commandstats")
                    .query(&mut connection)
            })
            .unwrap_or_default();
        info.lines()
            .filter_map(|line| line.strip_prefix("cmdstat_evalsha:calls="))
            .filter_map(|rest| rest.split(',').next()?.parse::<u64>().ok())
            .sum::<u64>()
    };
    tokio::time::timeout(std::time::Duration::from_secs(20), async {
        while scripts_run() < 1 + 2 * 100 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("all hundred waiters reach their wait");
    gated.gate.notify_one();
    assert_eq!(owner.await.unwrap().unwrap(), 5);
    for waiter in waiters {
        let answer = tokio::time::timeout(std::time::Duration::from_secs(20), waiter)
            .await
            .expect("the waiter was woken, not left to its 60 s lease")
            .unwrap();
        assert_eq!(answer.unwrap(), 5);
    }
    assert_eq!(gated.runs.load(SeqCst), 1, "one run");
}
