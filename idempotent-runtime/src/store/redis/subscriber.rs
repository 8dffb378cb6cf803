//! Waiting by pub/sub, on one subscription per store shared by all its waiters (a
//! [`SharedFeed`]): the subscription's messages are the keys of the records `complete` and
//! `release` changed, and each waiter wakes when its own is published.

use futures_util::StreamExt;

use super::connection::Backend;
use super::errors::error;
use crate::store::feed::SharedFeed;
use crate::StoreError;

/// The store's subscription, once a waiter has opened it.
pub(super) type Subscriber = SharedFeed<Vec<u8>>;

/// A receiver of every message on `channel` from now on, subscribing if nothing runs.
pub(super) async fn subscribe(
    subscriber: &Subscriber,
    backend: &Backend,
    channel: &[u8],
) -> Result<tokio::sync::broadcast::Receiver<Vec<u8>>, StoreError> {
    subscriber
        .subscribe(|sender| async move {
            let mut pubsub = backend.pubsub().await?;
            pubsub
                .subscribe(channel)
                .await
                .map_err(|err| error("subscribe", err))?;
            Ok(tokio::spawn(async move {
                let mut stream = pubsub.into_on_message();
                while let Some(message) = stream.next().await {
                    let _ = sender.send(message.get_payload_bytes().to_vec());
                }
            }))
        })
        .await
}
