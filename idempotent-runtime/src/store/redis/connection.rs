//! Where a `RedisStore` sends its scripts: one Redis through a `ConnectionManager`, or a Redis
//! Cluster through redis-rs's cluster connection, which routes each script by its one key to the
//! master holding the key's slot, follows `MOVED` and `ASK`, and loads a script on every master
//! when one answers `NOSCRIPT`. Both connect on first use and are shared by every clone.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{FromRedisValue, ScriptInvocation};
use tokio::sync::OnceCell;

use super::errors::error;
use crate::StoreError;

/// How long connecting may take, and how long an answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);

/// One Redis or a cluster, and the connection made on first use.
#[derive(Clone)]
#[expect(
    clippy::large_enum_variant,
    reason = "one per store, behind the store's Arc"
)]
pub(super) enum Backend {
    Single {
        client: redis::Client,
        connection: OnceCell<ConnectionManager>,
    },
    Cluster {
        client: ClusterClient,
        connection: OnceCell<ClusterConnection>,
        /// Each seed node on its own, for pub/sub: a cluster delivers a `PUBLISH` on any
        /// master to subscribers on every node, so a waiter may listen on any one of them.
        nodes: Vec<redis::Client>,
    },
}

impl Backend {
    pub(super) fn single(url: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(|err| error("parse the Redis URL", err))?;
        Ok(Self::Single {
            client,
            connection: OnceCell::new(),
        })
    }

    pub(super) fn cluster(urls: &[impl AsRef<str>]) -> Result<Self, StoreError> {
        let urls: Vec<&str> = urls.iter().map(AsRef::as_ref).collect();
        let nodes = urls
            .iter()
            .map(|url| redis::Client::open(*url))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|err| error("parse a Redis Cluster node's URL", err))?;
        if nodes.is_empty() {
            return Err(StoreError::new(
                crate::StoreErrorKind::Other,
                "redis: a cluster needs the URL of at least one of its nodes",
            ));
        }
        let client = ClusterClient::builder(urls)
            .connection_timeout(CONNECT_TIMEOUT)
            .response_timeout(RESPONSE_TIMEOUT)
            .retries(2)
            .build()
            .map_err(|err| error("configure the Redis Cluster client", err))?;
        Ok(Self::Cluster {
            client,
            connection: OnceCell::new(),
            nodes,
        })
    }

    /// Connects now if not yet connected.
    pub(super) async fn connect(&self) -> Result<(), StoreError> {
        match self {
            Self::Single { client, connection } => single(client, connection).await.map(drop),
            Self::Cluster {
                client, connection, ..
            } => cluster(client, connection).await.map(drop),
        }
    }

    /// Runs one script invocation on the master that holds its key.
    pub(super) async fn invoke<T: FromRedisValue>(
        &self,
        invocation: &ScriptInvocation<'_>,
    ) -> Result<T, StoreError> {
        let answer = match self {
            Self::Single { client, connection } => {
                let mut connection = single(client, connection).await?;
                invocation.invoke_async(&mut connection).await
            }
            Self::Cluster {
                client, connection, ..
            } => {
                let mut connection = cluster(client, connection).await?;
                invocation.invoke_async(&mut connection).await
            }
        };
        answer.map_err(|err| error("run a script", err))
    }

    /// A pub/sub connection: to the one Redis, or to the first cluster node that answers.
    pub(super) async fn pubsub(&self) -> Result<redis::aio::PubSub, StoreError> {
        let nodes = match self {
            Self::Single { client, .. } => std::slice::from_ref(client),
            Self::Cluster { nodes, .. } => nodes.as_slice(),
        };
        let mut last = None;
        for node in nodes {
            match node.get_async_pubsub().await {
                Ok(pubsub) => return Ok(pubsub),
                Err(err) => last = Some(err),
            }
        }
        Err(match last {
            Some(err) => error("subscribe", err),
            None => StoreError::new(crate::StoreErrorKind::Other, "redis: no node to subscribe"),
        })
    }
}

/// The single node's connection, made on first use.
async fn single(
    client: &redis::Client,
    connection: &OnceCell<ConnectionManager>,
) -> Result<ConnectionManager, StoreError> {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_response_timeout(Some(RESPONSE_TIMEOUT))
        .set_number_of_retries(1);
    connection
        .get_or_try_init(|| ConnectionManager::new_with_config(client.clone(), config))
        .await
        .cloned()
        .map_err(|err| error("connect", err))
}

/// The cluster's connection, made on first use.
async fn cluster(
    client: &ClusterClient,
    connection: &OnceCell<ClusterConnection>,
) -> Result<ClusterConnection, StoreError> {
    connection
        .get_or_try_init(|| client.get_async_connection())
        .await
        .cloned()
        .map_err(|err| error("connect to the Redis Cluster", err))
}
