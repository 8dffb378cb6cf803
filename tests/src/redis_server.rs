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

/// A Redis server of the test's own, on a free port of 127.0.0.1, that the test may kill and
/// start again (the shared server must not be restarted under other tests). It keeps nothing
/// on disk and is killed when dropped.
pub struct PrivateRedis {
    port: u16,
    child: Option<std::process::Child>,
    settings: Vec<String>,
}

impl PrivateRedis {
    /// Starts `redis-server` on a free port and waits until it answers.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// [`start`](Self::start) with extra settings (`["--maxclients", "16"]`).
    pub fn start_with(settings: &[&str]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let settings = settings.iter().map(|s| (*s).to_owned()).collect();
        let mut server = Self {
            port,
            child: None,
            settings,
        };
        server.restart();
        server
    }

    /// The server's URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server with SIGKILL, as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port (empty: it kept nothing) and waits until it
    /// answers.
    pub fn restart(&mut self) {
        self.kill();
        let child = std::process::Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .args(&self.settings)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server starts (it is installed where Redis is)");
        self.child = Some(child);
        for _ in 0..250 {
            let answer = redis::Client::open(self.url())
                .and_then(|client| client.get_connection())
                .and_then(|mut connection| redis::cmd("PING").query::<String>(&mut connection));
            if answer.is_ok() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        panic!(
            "the private redis-server on port {} did not answer",
            self.port
        );
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
    }
}
