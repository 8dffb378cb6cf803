//! `RedisStore`: records in Redis or a Redis Cluster, shared by a fleet of service instances.
//! Feature `redis`.
//!
//! Each record is one hash (fields `fp`, `params`, `fence`, `state`, `deadline`, `output`)
//! under one key, so on a cluster it lives in one slot and every step touches one master. Every
//! step is one Lua script: `begin` costs one round trip (a first call two, with `complete`; a
//! replay one). Records expire by Redis TTL. Waiters (`concurrent = "wait"`) share one
//! subscription per store to its channel (`subscriber.rs`), where `complete` and `release`
//! publish the key they changed, so a waiter wakes at once rather than polling; a cluster
//! delivers a publication to subscribers on every node, so the subscription may be on any
//! node, wherever the record's slot lives.
//!
//! The store connects on first use (see `connection.rs`); while Redis is down, every step fails
//! with a transient `Unavailable` error.

mod connection;
mod errors;
mod scripts;
mod subscriber;

use std::sync::Arc;
use std::time::Duration;

use redis::{Script, Value};

use connection::Backend;

use super::durable::{self, FenceSource};
use super::feed;
use super::record::encode_params;
use super::{AsyncStore, Begin, Fence, Finish, ABANDONED_RETENTION};
use crate::{Fingerprint, Key, StoreError};

/// The key prefix when none is given.
pub const DEFAULT_PREFIX: &str = "idempotent:";

/// A store in Redis, for a fleet of services sharing one Redis ([`new`](Self::new)) or one
/// Redis Cluster ([`cluster`](Self::cluster)).
///
/// Async handlers only: `#[idempotent(store = ...)]` on a sync handler is a compile error.
///
/// ```no_run
/// # #[cfg(feature = "redis")] {
/// use idempotent_runtime::{idempotent, RedisStore};
///
/// struct Service { store: RedisStore }
///
/// impl Service {
///     #[idempotent(token = "token", store = self.store, name = "CreateVolume")]
///     async fn create_volume(&self, size: u32, token: String) -> u32 {
///         size
///     }
/// }
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// let service = Service { store: RedisStore::new("redis://127.0.0.1:6379")?.with_prefix("billing:") };
/// assert_eq!(service.create_volume(8, "t-1".into()).await?, 8);
/// # Ok(()) }
/// # }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Backend,
    prefix: Vec<u8>,
    scripts: Scripts,
    fences: FenceSource,
    /// The one subscription all of this store's waiters listen on.
    subscriber: subscriber::Subscriber,
}

struct Scripts {
    begin: Script,
    complete: Script,
    release: Script,
    renew: Script,
    running: Script,
}

impl RedisStore {
    /// A store for the Redis at `url` (`redis://host:port/db`); it connects on first use.
    pub fn new(url: &str) -> Result<Self, StoreError> {
        Ok(Self::with_parts(Backend::single(url)?, DEFAULT_PREFIX))
    }

    /// A store for the Redis Cluster that any of `urls` (`redis://host:port`) belongs to; it
    /// connects on first use and finds the other masters itself.
    ///
    /// Each record is one key, so its slot, and the one master holding it, serve every step;
    /// records spread over the masters by key. A script a master does not know yet
    /// (`NOSCRIPT`, after a restart or a failover) is loaded on every master and retried.
    /// `MOVED` and `ASK` are followed, and a cluster that is down or resharding fails the step
    /// with a transient `Unavailable` error.
    ///
    /// **Failover.** Redis replicates asynchronously: when a master fails and its replica
    /// takes over, the writes it had not yet received are gone. A record lost so, in progress
    /// or completed, is as if never written: a retry runs the handler again. Where that
    /// matters more than latency, give each master replicas and keep `min-replicas-to-write`
    /// set, or use a store with synchronous durability (`PostgresStore`).
    ///
    /// A prefix holding a hash tag (`{...}`) would put every record in one slot; the default
    /// prefix has none.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), idempotent_runtime::StoreError> {
    /// use idempotent_runtime::RedisStore;
    /// let store = RedisStore::cluster(&[
    ///     "redis://127.0.0.1:7001",
    ///     "redis://127.0.0.1:7002",
    ///     "redis://127.0.0.1:7003",
    /// ])?
    /// .with_prefix("billing:");
    /// # let _ = store;
    /// # Ok(()) }
    /// ```
    pub fn cluster(urls: &[impl AsRef<str>]) -> Result<Self, StoreError> {
        Ok(Self::with_parts(Backend::cluster(urls)?, DEFAULT_PREFIX))
    }

    fn with_parts(backend: Backend, prefix: &str) -> Self {
        Self {
            inner: Arc::new(Inner {
                backend,
                prefix: prefix.as_bytes().to_vec(),
                scripts: Scripts {
                    begin: scripts::begin(),
                    complete: scripts::complete(),
                    release: scripts::release(),
                    renew: scripts::renew(),
                    running: scripts::running(),
                },
                fences: FenceSource::new(),
                subscriber: subscriber::Subscriber::default(),
            }),
        }
    }

    /// Connects now, so a wrong address fails at startup rather than on the first request.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let store = Self::new(url)?;
        store.inner.backend.connect().await?;
        Ok(store)
    }

    /// [`cluster`](Self::cluster), connected now, so a wrong address fails at startup.
    pub async fn connect_cluster(urls: &[impl AsRef<str>]) -> Result<Self, StoreError> {
        let store = Self::cluster(urls)?;
        store.inner.backend.connect().await?;
        Ok(store)
    }

    /// Puts every key under `prefix` (default [`DEFAULT_PREFIX`]), to share one Redis between
    /// services or tests.
    pub fn with_prefix(self, prefix: &str) -> Self {
        Self::with_parts(self.inner.backend.clone(), prefix)
    }

    /// The Redis key of a record: the prefix, then the encoded key.
    pub fn record_key(&self, key: &Key) -> Vec<u8> {
        [&self.inner.prefix[..], key.as_bytes()].concat()
    }

    /// The channel `complete` and `release` publish on.
    fn channel(&self) -> Vec<u8> {
        [&self.inner.prefix[..], b"events"].concat()
    }

    async fn invoke(
        &self,
        script: &Script,
        key: &Key,
        args: &[&[u8]],
    ) -> Result<Value, StoreError> {
        let mut invocation = script.key(self.record_key(key));
        for arg in args {
            invocation.arg(*arg);
        }
        self.inner.backend.invoke(&invocation).await
    }

    async fn finish(
        &self,
        script: &Script,
        key: &Key,
        args: &[&[u8]],
    ) -> Result<Finish, StoreError> {
        scripts::finish_answer(self.invoke(script, key, args).await?)
    }

    async fn running(&self, key: &Key, owner: Fence) -> Result<bool, StoreError> {
        let fence = owner.0.to_string();
        let answer = self
            .invoke(&self.inner.scripts.running, key, &[fence.as_bytes()])
            .await?;
        Ok(scripts::running_answer(&answer))
    }
}

/// `duration` in milliseconds as a script argument; at least 1 (`PEXPIRE 0` deletes).
fn millis(duration: Duration) -> String {
    durable::millis(duration).max(1).to_string()
}

#[diagnostic::do_not_recommend]
impl AsyncStore for RedisStore {
    async fn begin(
        &self,
        key: &Key,
        fingerprint: &Fingerprint,
        lease: Duration,
    ) -> Result<Begin, StoreError> {
        let fence = self.inner.fences.next();
        let fence_text = fence.0.to_string();
        let (params, lease) = (encode_params(fingerprint), millis(lease));
        let retention = millis(ABANDONED_RETENTION);
        let args: [&[u8]; 5] = [
            fingerprint.digest(),
            &params,
            fence_text.as_bytes(),
            lease.as_bytes(),
            retention.as_bytes(),
        ];
        let answer = self.invoke(&self.inner.scripts.begin, key, &args).await?;
        match scripts::begin_answer(answer)? {
            Begin::Acquired { took_over, .. } => Ok(Begin::Acquired { fence, took_over }),
            existing => Ok(existing),
        }
    }

    async fn complete(
        &self,
        key: &Key,
        fence: Fence,
        output: &[u8],
        ttl: Duration,
    ) -> Result<Finish, StoreError> {
        let (store, key, output) = (self.clone(), key.clone(), output.to_vec());
        durable::run_to_end(async move {
            let (fence, ttl, channel) = (fence.0.to_string(), millis(ttl), store.channel());
            let args: [&[u8]; 4] = [fence.as_bytes(), &output, ttl.as_bytes(), &channel];
            store
                .finish(&store.inner.scripts.complete, &key, &args)
                .await
        })
        .await
    }

    async fn release(&self, key: &Key, fence: Fence) -> Result<Finish, StoreError> {
        let (store, key) = (self.clone(), key.clone());
        durable::run_to_end(async move {
            let (fence, channel) = (fence.0.to_string(), store.channel());
            store
                .finish(
                    &store.inner.scripts.release,
                    &key,
                    &[fence.as_bytes(), &channel],
                )
                .await
        })
        .await
    }

    async fn renew(&self, key: &Key, fence: Fence, lease: Duration) -> Result<Finish, StoreError> {
        let (fence, lease) = (fence.0.to_string(), millis(lease));
        let retention = millis(ABANDONED_RETENTION);
        let args: [&[u8]; 3] = [fence.as_bytes(), lease.as_bytes(), retention.as_bytes()];
        self.finish(&self.inner.scripts.renew, key, &args).await
    }

    async fn wait(&self, key: &Key, owner: Fence, timeout: Duration) -> Result<(), StoreError> {
        let published =
            subscriber::subscribe(&self.inner.subscriber, &self.inner.backend, &self.channel())
                .await?;
        // Subscribed before looking: a change after this point cannot be missed.
        if !self.running(key, owner).await? {
            return Ok(());
        }
        let record = self.record_key(key);
        let _ = tokio::time::timeout(timeout, feed::until(published, &record)).await;
        Ok(())
    }

    fn release_detached(&self, key: Key, fence: Fence) {
        durable::spawn_release(self, key, fence);
    }
}
