//! Waiting by `LISTEN`, on one connection per store shared by all its waiters: a background
//! task listens on the store's channel and passes every notification (a key's digest) to the
//! waiters, each of which wakes when its own key is notified by `complete` or `release`.
//!
//! The connection is opened by the first waiter and kept while the store lives; if it fails,
//! its waiters return early (a spurious return, which the engine answers by looking again) and
//! the next waiter opens another. So waiters cost no connection each, and a fleet's duplicates
//! cannot exhaust the server's `max_connections`.

use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::{broadcast, Mutex};
use tokio::task::JoinHandle;
use tokio_postgres::{AsyncMessage, NoTls};

use super::{error, PostgresStore};
use crate::store::Fence;
use crate::{Key, StoreError};

/// Notifications not yet read that one waiter may fall behind by before it is woken anyway.
const BACKLOG: usize = 1024;

/// The store's listening connection, once a waiter has opened it.
#[derive(Default)]
pub(super) struct Listener {
    running: Mutex<Option<Running>>,
}

struct Running {
    notifications: broadcast::Sender<String>,
    /// Polls the connection and forwards its notifications.
    task: JoinHandle<()>,
    /// The session's client: kept, or the connection would close.
    #[expect(dead_code, reason = "held only to keep the session open")]
    session: tokio_postgres::Client,
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Some(running) = self.running.get_mut() {
            running.task.abort();
        }
    }
}

impl Listener {
    /// A receiver of every notification from now on, opening the connection if none runs.
    async fn subscribe(
        &self,
        store: &PostgresStore,
    ) -> Result<broadcast::Receiver<String>, StoreError> {
        let mut running = self.running.lock().await;
        if let Some(live) = running.as_ref().filter(|live| !live.task.is_finished()) {
            return Ok(live.notifications.subscribe());
        }
        let (client, mut connection) = store
            .inner
            .config
            .connect(NoTls)
            .await
            .map_err(|err| error("connect to listen", err))?;
        let (notifications, receiver) = broadcast::channel(BACKLOG);
        let sender = notifications.clone();
        // The connection must be polled for anything to happen on it, notifications included.
        let task = tokio::spawn(async move {
            let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
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
        *running = Some(Running {
            notifications,
            task,
            session: client,
        });
        Ok(receiver)
    }
}

/// Waits until the record under `key` is no longer in progress under `owner`, or `timeout`.
pub(super) async fn wait(
    store: &PostgresStore,
    key: &Key,
    owner: Fence,
    timeout: Duration,
) -> Result<(), StoreError> {
    let mut notified = store.inner.listener.subscribe(store).await?;
    // Listening before registering: a change after this point cannot be missed, and once
    // registered, the owner's `complete` or `release` notifies.
    if !store.watch(key, owner).await? {
        return Ok(());
    }
    let wanted = super::notify_payload(key);
    let changed = async {
        loop {
            match notified.recv().await {
                Ok(payload) if payload == wanted => return,
                Ok(_) => {}
                // Fell behind or the connection closed: return and let the engine look again.
                Err(_) => return,
            }
        }
    };
    let _ = tokio::time::timeout(timeout, changed).await;
    Ok(())
}
