//! The conformance suite on `RedisStore`, against the real Redis of this machine.
#![cfg(feature = "redis")]

use idempotent_runtime::store::Key;
use idempotent_runtime::testing::Harness;
use idempotent_runtime::RedisStore;
use idempotent_tests::redis_server;

/// One key prefix per test, deleted when the test's harness is dropped.
struct Redis {
    prefix: String,
}

impl Redis {
    fn new() -> Self {
        redis_server::require();
        Self {
            prefix: redis_server::unique_prefix("conformance"),
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        redis_server::delete_prefix(&self.prefix);
    }
}

impl Harness for Redis {
    type Store = RedisStore;

    async fn store(&self) -> RedisStore {
        RedisStore::new(&redis_server::url())
            .expect("valid URL")
            .with_prefix(&self.prefix)
    }

    async fn corrupt(&self, store: &RedisStore, key: &Key) -> bool {
        let client = redis::Client::open(redis_server::url()).expect("valid URL");
        let mut connection = client
            .get_multiplexed_async_connection()
            .await
            .expect("connects");
        let () = redis::cmd("SET")
            .arg(store.record_key(key))
            .arg("not a record")
            .query_async(&mut connection)
            .await
            .expect("overwrites the record");
        true
    }

    async fn unreachable(&self) -> Option<RedisStore> {
        // Port 1 on loopback: nothing listens there.
        Some(RedisStore::new("redis://127.0.0.1:1").expect("valid URL"))
    }
}

idempotent_runtime::store_conformance!(redis_async, Redis::new());
