//! Waiting by `LISTEN`, on one connection per store shared by all its waiters (a
//! [`SharedFeed`]): its notifications are the digests of the keys `complete` and `release`
//! changed, and each waiter wakes when its own is notified. So waiters cost no connection each,
//! and a fleet's duplicates cannot exhaust the server's `max_connections`.

use std::time::Duration;

use futures_util::StreamExt;
use tokio_postgres::{AsyncMessage, NoTls};

use super::{error, PostgresStore};
use crate::store::feed::{self, SharedFeed};
use crate::store::Fence;
use crate::{Key, StoreError};

/// The store's listening connection, once a waiter has opened it.
pub(super) type Listener = SharedFeed<String>;

/// Waits until the record under `key` is no longer in progress under `owner`, or `timeout`.
pub(super) async fn wait(
    store: &PostgresStore,
    key: &Key,
    owner: Fence,
    timeout: Duration,
) -> Result<(), StoreError> {
    let notified = store
        .inner
        .listener
        .subscribe(|sender| async move {
            let (client, mut connection) = store
                .inner
                .config
                .connect(NoTls)
                .await
                .map_err(|err| error("connect to listen", err))?;
            // The connection must be polled for anything to happen on it, notifications
            // included; the task keeps the client, or the session would close.
            let task = tokio::spawn(async move {
                let mut messages =
                    futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
                while let Some(Ok(message)) = messages.next().await {
                    if let AsyncMessage::Notification(notification) = message {
                        let _ = sender.send(notification.payload().to_owned());
                    }
                }
            });
            let listen = format!("LISTEN \"{}\"", store.inner.sql.channel);
            if let Err(err) = client.batch_execute(&listen).await {
                task.abort();
                return Err(error("listen", err));
            }
            Ok(keep_alive(client, task))
        })
        .await?;
    // Listening before registering: a change after this point cannot be missed, and once
    // registered, the owner's `complete` or `release` notifies.
    if !store.watch(key, owner).await? {
        return Ok(());
    }
    let wanted = super::notify_payload(key);
    let _ = tokio::time::timeout(timeout, feed::until(notified, &wanted)).await;
    Ok(())
}

/// A task that holds `client` (keeping the session, and its `LISTEN`, open) for as long as
/// `reader` reads the connection, and ends with it.
fn keep_alive(
    client: tokio_postgres::Client,
    reader: tokio::task::JoinHandle<()>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let _session = client;
        let _ = reader.await;
    })
}
