//! What a Redis Cluster adds to `RedisStore` (`scripts/test` starts a three-master cluster;
//! the conformance suite runs on it from `conformance_redis.rs`): records spread over every
//! master, a waiter woken when the record's slot lives on another node than the one it
//! listens on, and callers racing on tokens all over the cluster.
#![cfg(feature = "redis")]

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use idempotent_runtime::{idempotent, RedisStore};
use idempotent_tests::{redis_cluster, redis_server};

/// A key prefix of the test's own, deleted on every node when the test ends.
struct Cluster {
    prefix: String,
}

impl Cluster {
    fn new() -> Self {
        redis_cluster::require();
        Self {
            prefix: redis_server::unique_prefix("cluster"),
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        redis_cluster::delete_prefix(&self.prefix);
    }
}

struct Volumes {
    store: RedisStore,
    created: AtomicUsize,
}

impl Volumes {
    #[idempotent(token = "token", store = self.store, name = "CreateVolume")]
    async fn create(&self, size: u32, token: String) -> u32 {
        self.created.fetch_add(1, SeqCst);
        size
    }

    #[idempotent(token = "token", store = self.store, name = "AttachVolume", concurrent = "wait", lease = "60s")]
    async fn attach(&self, size: u32, token: String) -> u32 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        self.created.fetch_add(1, SeqCst);
        size
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_spread_over_every_master_and_each_replays() {
    let cluster = Cluster::new();
    let volumes = Volumes {
        store: redis_cluster::store(&cluster.prefix),
        created: AtomicUsize::new(0),
    };
    for i in 0..60 {
        assert_eq!(volumes.create(i, format!("spread-{i}")).await.unwrap(), i);
    }
    for i in 0..60 {
        assert_eq!(volumes.create(i, format!("spread-{i}")).await.unwrap(), i);
    }
    assert_eq!(volumes.created.load(SeqCst), 60, "every retry replayed");
    let per_node = redis_cluster::keys_per_node(&cluster.prefix);
    assert_eq!(per_node.iter().sum::<usize>(), 60, "{per_node:?}");
    assert!(
        per_node.iter().all(|&keys| keys > 0),
        "every master holds records: {per_node:?}"
    );
}

/// Waiters listen on the first node that answers; with tokens spread over three masters, most
/// records live elsewhere, and each waiter still wakes when its record completes, long before
/// its 60 s lease would end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiter_wakes_whichever_master_holds_the_record() {
    let cluster = Cluster::new();
    let volumes = std::sync::Arc::new(Volumes {
        store: redis_cluster::store(&cluster.prefix),
        created: AtomicUsize::new(0),
    });
    let began = Instant::now();
    let mut calls = Vec::new();
    for i in 0..12u32 {
        for _ in 0..2 {
            let volumes = std::sync::Arc::clone(&volumes);
            calls.push(tokio::spawn(async move {
                volumes.attach(i, format!("wait-{i}")).await
            }));
        }
    }
    for call in calls {
        assert!(call.await.expect("no panic").is_ok());
    }
    assert_eq!(volumes.created.load(SeqCst), 12, "one run per token");
    assert!(
        began.elapsed() < Duration::from_secs(20),
        "waiters were woken, not left to their lease: {:?}",
        began.elapsed()
    );
    let per_node = redis_cluster::keys_per_node(&cluster.prefix);
    assert!(
        per_node.iter().skip(1).any(|&keys| keys > 0),
        "{per_node:?}"
    );
}

/// The race through the attribute: 32 tasks per token call at once, over tokens spread across
/// the masters; each token runs once, and every other caller gets its result or
/// `RequestInProgress`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_callers_run_each_token_once_on_every_master() {
    let cluster = Cluster::new();
    let volumes = std::sync::Arc::new(Volumes {
        store: redis_cluster::store(&cluster.prefix),
        created: AtomicUsize::new(0),
    });
    let tokens = 24u32;
    let mut calls = Vec::new();
    for i in 0..tokens {
        for _ in 0..32 {
            let volumes = std::sync::Arc::clone(&volumes);
            calls.push(tokio::spawn(async move {
                (i, volumes.create(i, format!("race-{i}")).await)
            }));
        }
    }
    for call in calls {
        match call.await.expect("no panic") {
            (i, Ok(size)) => assert_eq!(size, i),
            (_, Err(idempotent_runtime::IdempotencyError::RequestInProgress { .. })) => {}
            (i, Err(other)) => panic!("token {i}: {other:?}"),
        }
    }
    assert_eq!(
        volumes.created.load(SeqCst),
        tokens as usize,
        "one run per token"
    );
    let per_node = redis_cluster::keys_per_node(&cluster.prefix);
    assert!(per_node.iter().all(|&keys| keys > 0), "{per_node:?}");
}
