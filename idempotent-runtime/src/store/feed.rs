//! A store's notifications, read once and shared by all its waiters: the first waiter opens
//! the source (a Redis subscription, a PostgreSQL `LISTEN`), a background task forwards what it
//! receives, and every waiter gets its own receiver. The source stays open while the store
//! lives; if it fails, the receivers close (their waiters return early, a spurious return the
//! engine answers by looking again) and the next waiter opens another.

use std::future::Future;

use tokio::sync::{broadcast, Mutex};
use tokio::task::JoinHandle;

use crate::StoreError;

/// Messages not yet read that one waiter may fall behind by before it is woken anyway.
const BACKLOG: usize = 1024;

/// The feed, once a waiter has opened it.
pub(crate) struct SharedFeed<T> {
    running: Mutex<Option<Running<T>>>,
}

struct Running<T> {
    messages: broadcast::Sender<T>,
    /// Reads the source and forwards its messages.
    task: JoinHandle<()>,
}

impl<T> Default for SharedFeed<T> {
    fn default() -> Self {
        Self {
            running: Mutex::new(None),
        }
    }
}

impl<T> Drop for SharedFeed<T> {
    fn drop(&mut self) {
        if let Some(running) = self.running.get_mut() {
            running.task.abort();
        }
    }
}

impl<T: Clone + Send + 'static> SharedFeed<T> {
    /// A receiver of every message from now on. If no source is open, `open` opens one: it is
    /// given the sender to forward into, and answers once the source listens, with the task
    /// that reads it.
    pub(crate) async fn subscribe<F, Fut>(
        &self,
        open: F,
    ) -> Result<broadcast::Receiver<T>, StoreError>
    where
        F: FnOnce(broadcast::Sender<T>) -> Fut,
        Fut: Future<Output = Result<JoinHandle<()>, StoreError>>,
    {
        let mut running = self.running.lock().await;
        if let Some(live) = running.as_ref().filter(|live| !live.task.is_finished()) {
            return Ok(live.messages.subscribe());
        }
        let (messages, receiver) = broadcast::channel(BACKLOG);
        let task = open(messages.clone()).await?;
        *running = Some(Running { messages, task });
        Ok(receiver)
    }
}

/// Waits until `receiver` gives a message equal to `wanted`, or it falls behind or closes
/// (then the caller looks again).
pub(crate) async fn until<T: PartialEq + Clone>(mut receiver: broadcast::Receiver<T>, wanted: &T) {
    while let Ok(message) = receiver.recv().await {
        if message == *wanted {
            return;
        }
    }
}
