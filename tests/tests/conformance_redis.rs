//! The conformance suite on `RedisStore`, against the real Redis of this machine and against a
//! three-master Redis Cluster (`scripts/test` starts both).
#![cfg(feature = "redis")]

use idempotent_runtime::store::Key;
use idempotent_runtime::testing::Harness;
use idempotent_runtime::RedisStore;
use idempotent_tests::{redis_cluster, redis_server};

/// One key prefix per test, on one Redis or on the cluster, deleted when the test's harness is
/// dropped.
struct Redis {
    prefix: String,
    cluster: bool,
}

impl Redis {
    fn single() -> Self {
        redis_server::require();
        Self {
            prefix: redis_server::unique_prefix("conformance"),
            cluster: false,
        }
    }

    fn cluster() -> Self {
        redis_cluster::require();
        Self {
            prefix: redis_server::unique_prefix("conformance"),
            cluster: true,
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        if self.cluster {
            redis_cluster::delete_prefix(&self.prefix);
        } else {
            redis_server::delete_prefix(&self.prefix);
        }
    }
}

impl Harness for Redis {
    type Store = RedisStore;

    async fn store(&self) -> RedisStore {
        if self.cluster {
            redis_cluster::store(&self.prefix)
        } else {
            RedisStore::new(&redis_server::url())
                .expect("valid URL")
                .with_prefix(&self.prefix)
        }
    }

    async fn corrupt(&self, store: &RedisStore, key: &Key) -> bool {
        let mut overwrite = redis::cmd("SET");
        overwrite.arg(store.record_key(key)).arg("not a record");
        let written: redis::RedisResult<()> = if self.cluster {
            let client =
                redis::cluster::ClusterClient::new(redis_cluster::urls()).expect("valid URLs");
            let mut connection = client.get_async_connection().await.expect("connects");
            overwrite.query_async(&mut connection).await
        } else {
            let client = redis::Client::open(redis_server::url()).expect("valid URL");
            let mut connection = client
                .get_multiplexed_async_connection()
                .await
                .expect("connects");
            overwrite.query_async(&mut connection).await
        };
        written.expect("overwrites the record");
        true
    }

    async fn unreachable(&self) -> Option<RedisStore> {
        // Port 1 on loopback: nothing listens there.
        let url = "redis://127.0.0.1:1";
        Some(if self.cluster {
            RedisStore::cluster(&[url]).expect("valid URL")
        } else {
            RedisStore::new(url).expect("valid URL")
        })
    }
}

idempotent_runtime::store_conformance!(redis_async, Redis::single());
idempotent_runtime::store_conformance!(redis_cluster_async, Redis::cluster());
