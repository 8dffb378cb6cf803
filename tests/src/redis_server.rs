//! The Redis server the tests use (127.0.0.1:6379, or `IDEMPOTENT_TEST_REDIS`).

/// The URL of the test Redis.
pub fn url() -> String {
    std::env::var("IDEMPOTENT_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// Checks that Redis answers; panics with how to start it if not. Tests never skip silently.
pub fn require() {
    let answer = redis::Client::open(url())
        .and_then(|client| client.get_connection())
        .and_then(|mut connection| redis::cmd("PING").query::<String>(&mut connection));
    if let Err(err) = answer {
        panic!(
            "Redis is not reachable at {} ({err}). Start it with\n  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save \"\" --appendonly no\nor run `bash .ci/run`, which starts it.",
            url()
        );
    }
}

/// A key prefix no other test or run uses.
pub fn unique_prefix(label: &str) -> String {
    format!("test:{}:", crate::stores::unique(label))
}

/// Deletes every key under `prefix`.
pub fn delete_prefix(prefix: &str) {
    let Ok(mut connection) = redis::Client::open(url()).and_then(|client| client.get_connection())
    else {
        return;
    };
    let pattern = format!("{prefix}*");
    let keys: Vec<Vec<u8>> = redis::cmd("KEYS")
        .arg(&pattern)
        .query(&mut connection)
        .unwrap_or_default();
    if !keys.is_empty() {
        let _: redis::RedisResult<()> = redis::cmd("DEL").arg(keys).query(&mut connection);
    }
}
