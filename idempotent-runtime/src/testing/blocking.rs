//! `Blocking`: runs a blocking `Store` through the async interface, so one suite covers both.

use std::future::{ready, Future};
use std::time::Duration;

use crate::store::{Begin, Fence, Finish};
use crate::{AsyncStore, Fingerprint, Key, Store, StoreError};

/// A blocking store seen through [`AsyncStore`]: each step runs in place on the caller's
/// thread (fine for tests, not for production async code, which should use the store's own
/// async interface).
///
/// ```
/// # #[cfg(feature = "testing")] {
/// use idempotent_runtime::testing::Blocking;
/// use idempotent_runtime::MemoryStore;
/// let store = Blocking(MemoryStore::new());
/// # let _ = store;
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Blocking<S>(pub S);

#[diagnostic::do_not_recommend]
impl<S: Store + Clone + 'static> AsyncStore for Blocking<S> {
    fn begin(
        &self,
        key: &Key,
        fingerprint: &Fingerprint,
        lease: Duration,
    ) -> impl Future<Output = Result<Begin, StoreError>> + Send {
        ready(self.0.begin(key, fingerprint, lease))
    }

    fn complete(
        &self,
        key: &Key,
        fence: Fence,
        output: &[u8],
        ttl: Duration,
    ) -> impl Future<Output = Result<Finish, StoreError>> + Send {
        ready(self.0.complete(key, fence, output, ttl))
    }

    fn release(
        &self,
        key: &Key,
        fence: Fence,
    ) -> impl Future<Output = Result<Finish, StoreError>> + Send {
        ready(self.0.release(key, fence))
    }

    fn renew(
        &self,
        key: &Key,
        fence: Fence,
        lease: Duration,
    ) -> impl Future<Output = Result<Finish, StoreError>> + Send {
        ready(self.0.renew(key, fence, lease))
    }

    fn in_process(&self) -> bool {
        self.0.in_process()
    }

    fn wait(
        &self,
        key: &Key,
        owner: Fence,
        timeout: Duration,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let (store, key) = (self.0.clone(), key.clone());
        async move {
            tokio::task::spawn_blocking(move || store.wait(&key, owner, timeout))
                .await
                .unwrap_or(Ok(()))
        }
    }

    fn release_detached(&self, key: Key, fence: Fence) {
        let _ = self.0.release(&key, fence);
    }
}
