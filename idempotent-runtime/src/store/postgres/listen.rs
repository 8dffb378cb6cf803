//! Waiting by `LISTEN`: a waiter opens its own connection, listens on the store's channel,
//! and wakes when `complete` or `release` notifies the key it waits on.

use std::time::Duration;

use futures_util::StreamExt;
use tokio_postgres::{AsyncMessage, NoTls};

use super::{error, PostgresStore};
use crate::store::Fence;
use crate::{Key, StoreError};

/// Waits until the record under `key` is no longer in progress under `owner`, or `timeout`.
pub(super) async fn wait(
    store: &PostgresStore,
    key: &Key,
    owner: Fence,
    timeout: Duration,
) -> Result<(), StoreError> {
    let (client, mut connection) = store
        .inner
        .config
        .connect(NoTls)
        .await
        .map_err(|err| error("connect to listen", err))?;
    let (notify, mut notified) = tokio::sync::mpsc::unbounded_channel();
    // The connection must be polled for anything to happen on it, notifications included.
    let driver = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(Ok(message)) = messages.next().await {
            if let AsyncMessage::Notification(notification) = message {
                if notify.send(notification.payload().to_owned()).is_err() {
                    break;
                }
            }
        }
    });
    let waited = async {
        client
            .batch_execute(&format!("LISTEN \"{}\"", store.inner.sql.channel))
            .await
            .map_err(|err| error("listen", err))?;
        // Listening before registering: a change after this point cannot be missed, and once
        // registered, the owner's `complete` or `release` notifies.
        if !store.watch(key, owner).await? {
            return Ok(());
        }
        let wanted = super::notify_payload(key);
        let changed = async {
            while let Some(payload) = notified.recv().await {
                if payload == wanted {
                    return;
                }
            }
        };
        let _ = tokio::time::timeout(timeout, changed).await;
        Ok(())
    }
    .await;
    driver.abort();
    waited
}
