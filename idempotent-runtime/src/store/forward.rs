//! A store behind a reference, an `Arc` or a `Box` is the same store: `store = &*STORE`, or
//! `store = self.store` holding an `Arc<RedisStore>` or a `Box<SqliteStore>`, all work.
//!
//! Every impl here and on the built-in stores is `#[diagnostic::do_not_recommend]`, so a type
//! that is not a store gets one short error naming the interface it lacks, not a list of
//! every store the compiler knows.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::{AsyncStore, Begin, Fence, Finish, Store};
use crate::{Fingerprint, Key, StoreError};

/// Implements `Store` and `AsyncStore` for a pointer to a store by forwarding every step.
macro_rules! forward {
    ($($pointer:ty),*) => {$(
        #[diagnostic::do_not_recommend]
        impl<S: Store + ?Sized> Store for $pointer {
            fn begin(
                &self,
                key: &Key,
                fingerprint: &Fingerprint,
                lease: Duration,
            ) -> Result<Begin, StoreError> {
                (**self).begin(key, fingerprint, lease)
            }
            fn complete(
                &self,
                key: &Key,
                fence: Fence,
                output: &[u8],
                ttl: Duration,
            ) -> Result<Finish, StoreError> {
                (**self).complete(key, fence, output, ttl)
            }
            fn release(&self, key: &Key, fence: Fence) -> Result<Finish, StoreError> {
                (**self).release(key, fence)
            }
            fn renew(&self, key: &Key, fence: Fence, lease: Duration) -> Result<Finish, StoreError> {
                (**self).renew(key, fence, lease)
            }
            fn in_process(&self) -> bool {
                (**self).in_process()
            }
            fn wait(&self, key: &Key, owner: Fence, timeout: Duration) -> Result<(), StoreError> {
                (**self).wait(key, owner, timeout)
            }
        }

        #[diagnostic::do_not_recommend]
        impl<S: AsyncStore + ?Sized> AsyncStore for $pointer {
            fn begin(
                &self,
                key: &Key,
                fingerprint: &Fingerprint,
                lease: Duration,
            ) -> impl Future<Output = Result<Begin, StoreError>> + Send {
                (**self).begin(key, fingerprint, lease)
            }
            fn complete(
                &self,
                key: &Key,
                fence: Fence,
                output: &[u8],
                ttl: Duration,
            ) -> impl Future<Output = Result<Finish, StoreError>> + Send {
                (**self).complete(key, fence, output, ttl)
            }
            fn release(
                &self,
                key: &Key,
                fence: Fence,
            ) -> impl Future<Output = Result<Finish, StoreError>> + Send {
                (**self).release(key, fence)
            }
            fn renew(
                &self,
                key: &Key,
                fence: Fence,
                lease: Duration,
            ) -> impl Future<Output = Result<Finish, StoreError>> + Send {
                (**self).renew(key, fence, lease)
            }
            fn in_process(&self) -> bool {
                (**self).in_process()
            }
            fn wait(
                &self,
                key: &Key,
                owner: Fence,
                timeout: Duration,
            ) -> impl Future<Output = Result<(), StoreError>> + Send {
                (**self).wait(key, owner, timeout)
            }
            fn release_detached(&self, key: Key, fence: Fence) {
                (**self).release_detached(key, fence)
            }
        }
    )*};
}

forward!(&S, Arc<S>, Box<S>);
