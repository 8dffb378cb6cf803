//! `RedisStore`: records in Redis, shared by a fleet of service instances. Feature `redis`.
//!
//! Each record is one hash (fields `fp`, `params`, `fence`, `state`, `deadline`, `output`), so it lives in one slot of a
//! Redis Cluster. Every step is one Lua script: `begin` costs one round trip (a first call
//! two, with `complete`; a replay one). Records expire by Redis TTL. A waiter
//! (`concurrent = "wait"`) subscribes to the store's channel, where `complete` and `release`
//! publish the key they changed, so it wakes at once rather than polling.
//!
//! The store connects on first use through a `ConnectionManager` that reconnects by itself;
//! while Redis is down, every step fails with a transient `Unavailable` error.

mod errors;
mod scripts;

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Script, Value};
use tokio::sync::OnceCell;

use errors::error;

use super::record::{decode_fingerprint, encode_params};
use super::{AsyncStore, Begin, Existing, ExistingState, Fence, Finish, ABANDONED_RETENTION};
use crate::{Fingerprint, Key, StoreError, StoreErrorKind};

/// The key prefix when none is given.
pub const DEFAULT_PREFIX: &str = "idempotent:";

/// A store in Redis, for a fleet of services sharing one Redis (or Redis Cluster).
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
    client: redis::Client,
    connection: OnceCell<ConnectionManager>,
    prefix: Vec<u8>,
    scripts: Scripts,
    fences: AtomicU64,
    fence_seed: RandomState,
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
        let client = redis::Client::open(url).map_err(|err| error("parse the Redis URL", err))?;
        Ok(Self::with_parts(client, OnceCell::new(), DEFAULT_PREFIX))
    }

    fn with_parts(
        client: redis::Client,
        connection: OnceCell<ConnectionManager>,
        prefix: &str,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                client,
                connection,
                prefix: prefix.as_bytes().to_vec(),
                scripts: Scripts {
                    begin: scripts::begin(),
                    complete: scripts::complete(),
                    release: scripts::release(),
                    renew: scripts::renew(),
                    running: scripts::running(),
                },
                fences: AtomicU64::new(0),
                fence_seed: RandomState::new(),
            }),
        }
    }

    /// Connects now, so a wrong address fails at startup rather than on the first request.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let store = Self::new(url)?;
        store.connection().await?;
        Ok(store)
    }

    /// Puts every key under `prefix` (default [`DEFAULT_PREFIX`]), to share one Redis between
    /// services or tests.
    pub fn with_prefix(self, prefix: &str) -> Self {
        Self::with_parts(
            self.inner.client.clone(),
            self.inner.connection.clone(),
            prefix,
        )
    }

    /// The Redis key of a record: the prefix, then the encoded key.
    pub fn record_key(&self, key: &Key) -> Vec<u8> {
        [&self.inner.prefix[..], key.as_bytes()].concat()
    }

    /// The channel `complete` and `release` publish on.
    fn channel(&self) -> Vec<u8> {
        [&self.inner.prefix[..], b"events"].concat()
    }

    async fn connection(&self) -> Result<ConnectionManager, StoreError> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(5)))
            .set_number_of_retries(1);
        self.inner
            .connection
            .get_or_try_init(|| {
                ConnectionManager::new_with_config(self.inner.client.clone(), config)
            })
            .await
            .cloned()
            .map_err(|err| error("connect", err))
    }

    fn next_fence(&self) -> u64 {
        let count = self.inner.fences.fetch_add(1, Ordering::Relaxed);
        self.inner.fence_seed.hash_one((count, std::process::id()))
    }

    async fn invoke(
        &self,
        script: &Script,
        key: &Key,
        args: &[&[u8]],
    ) -> Result<Value, StoreError> {
        let mut connection = self.connection().await?;
        let mut invocation = script.key(self.record_key(key));
        for arg in args {
            invocation.arg(*arg);
        }
        invocation
            .invoke_async(&mut connection)
            .await
            .map_err(|err| error("run a script", err))
    }

    async fn finish(
        &self,
        script: &Script,
        key: &Key,
        args: &[&[u8]],
    ) -> Result<Finish, StoreError> {
        match self.invoke(script, key, args).await? {
            Value::Int(1) => Ok(Finish::Done),
            Value::Int(0) => Ok(Finish::NotOwner),
            other => Err(StoreError::new(
                StoreErrorKind::Other,
                format!("redis: unexpected answer {other:?}"),
            )),
        }
    }

    async fn running(&self, key: &Key, owner: Fence) -> Result<bool, StoreError> {
        let fence = owner.0.to_string();
        let answer = self
            .invoke(&self.inner.scripts.running, key, &[fence.as_bytes()])
            .await?;
        Ok(matches!(answer, Value::Int(1)))
    }
}

fn millis(duration: Duration) -> String {
    duration.as_millis().max(1).to_string()
}

/// Reads the `begin` script's answer; an acquisition's fence is filled in by the caller.
fn begin_answer(value: Value) -> Result<Begin, StoreError> {
    let Value::Array(items) = value else {
        return Err(foreign());
    };
    match items.as_slice() {
        [Value::Int(0), Value::Int(took_over)] => Ok(Begin::Acquired {
            fence: Fence(0),
            took_over: *took_over == 1,
        }),
        [Value::Int(1), fp, params, fence, state, deadline, output, Value::Int(now)] => {
            let fingerprint = decode_fingerprint(
                bytes(fp).ok_or_else(foreign)?,
                bytes(params).ok_or_else(foreign)?,
            )?;
            let state = match (bytes(state), output) {
                (Some(b"c"), Value::BulkString(output)) => ExistingState::Completed {
                    output: output.as_slice().into(),
                },
                (Some(b"p"), _) => {
                    let deadline = number(deadline).ok_or_else(foreign)?;
                    ExistingState::InProgress {
                        owner: Fence(number(fence).ok_or_else(foreign)?),
                        lease_remaining: Duration::from_millis(
                            deadline.saturating_sub((*now).max(0) as u64),
                        ),
                    }
                }
                _ => return Err(foreign()),
            };
            Ok(Begin::Existing(Existing { fingerprint, state }))
        }
        _ => Err(foreign()),
    }
}

fn foreign() -> StoreError {
    StoreError::corrupt("the Redis record is not one this store wrote")
}

fn bytes(value: &Value) -> Option<&[u8]> {
    match value {
        Value::BulkString(bytes) => Some(bytes),
        _ => None,
    }
}

fn number(value: &Value) -> Option<u64> {
    std::str::from_utf8(bytes(value)?).ok()?.parse().ok()
}

#[diagnostic::do_not_recommend]
impl AsyncStore for RedisStore {
    async fn begin(
        &self,
        key: &Key,
        fingerprint: &Fingerprint,
        lease: Duration,
    ) -> Result<Begin, StoreError> {
        let fence = self.next_fence();
        let fence_text = fence.to_string();
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
        match begin_answer(answer)? {
            Begin::Acquired { took_over, .. } => Ok(Begin::Acquired {
                fence: Fence(fence),
                took_over,
            }),
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
        super::run_to_end(async move {
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
        super::run_to_end(async move {
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
        let mut pubsub = self
            .inner
            .client
            .get_async_pubsub()
            .await
            .map_err(|err| error("subscribe", err))?;
        pubsub
            .subscribe(self.channel())
            .await
            .map_err(|err| error("subscribe", err))?;
        // Subscribed before looking: a change after this point cannot be missed.
        if !self.running(key, owner).await? {
            return Ok(());
        }
        let record = self.record_key(key);
        let mut messages = pubsub.on_message();
        let changed = async {
            while let Some(message) = messages.next().await {
                if message.get_payload_bytes() == record.as_slice() {
                    return;
                }
            }
        };
        let _ = tokio::time::timeout(timeout, changed).await;
        Ok(())
    }

    fn release_detached(&self, key: Key, fence: Fence) {
        super::spawn_release(self, key, fence);
    }
}
