//! The Redis Cluster the tests use: three masters on 127.0.0.1:7001-7003 (`scripts/test`
//! starts them), or the node URLs in `IDEMPOTENT_TEST_REDIS_CLUSTER`, comma-separated.

use redis::Commands;

/// The URLs of the cluster's nodes.
pub fn urls() -> Vec<String> {
    std::env::var("IDEMPOTENT_TEST_REDIS_CLUSTER")
        .unwrap_or_else(|_| {
            "redis://127.0.0.1:7001,redis://127.0.0.1:7002,redis://127.0.0.1:7003".into()
        })
        .split(',')
        .map(|url| url.trim().to_owned())
        .collect()
}

fn node(url: &str) -> redis::RedisResult<redis::Connection> {
    redis::Client::open(url)?.get_connection()
}

/// Checks that every node answers and the cluster is healthy; panics with how to start it if
/// not. Tests never skip silently.
pub fn require() {
    for url in urls() {
        let state = node(&url).and_then(|mut connection| {
            redis::cmd("CLUSTER")
                .arg("INFO")
                .query::<String>(&mut connection)
        });
        match state {
            Ok(info) if info.contains("cluster_state:ok") => {}
            other => panic!(
                "the Redis Cluster node {url} is not a healthy cluster node ({other:?}). Run \
                 `scripts/test`, which starts a three-master cluster on 127.0.0.1:7001-7003, \
                 or set IDEMPOTENT_TEST_REDIS_CLUSTER to your nodes' URLs."
            ),
        }
    }
}

/// A store on the cluster under `prefix`.
pub fn store(prefix: &str) -> idempotent_runtime::RedisStore {
    idempotent_runtime::RedisStore::cluster(&urls())
        .expect("valid URLs")
        .with_prefix(prefix)
}

/// How many keys under `prefix` each master holds, in the order of [`urls`].
pub fn keys_per_node(prefix: &str) -> Vec<usize> {
    urls()
        .iter()
        .map(|url| keys_on(url, prefix).len())
        .collect()
}

fn keys_on(url: &str, prefix: &str) -> Vec<Vec<u8>> {
    node(url)
        .and_then(|mut connection| {
            redis::cmd("KEYS")
                .arg(format!("{prefix}*"))
                .query(&mut connection)
        })
        .unwrap_or_default()
}

/// Deletes every key under `prefix` on every node (one by one: keys of different slots).
pub fn delete_prefix(prefix: &str) {
    for url in urls() {
        let keys = keys_on(&url, prefix);
        if let Ok(mut connection) = node(&url) {
            for key in keys {
                let _: redis::RedisResult<()> = connection.del(key);
            }
        }
    }
}
