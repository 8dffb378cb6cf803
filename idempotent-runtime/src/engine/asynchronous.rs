//! The engine's driver for async handlers over an [`AsyncStore`].

use std::future::Future;

use super::finish::{finish_async, record_of, Owner};
use super::heartbeat::{self, Keep};
use super::{decide, fresh, start, store_failed, wait_deadline, Start, Step};
use crate::codec::Codec;
use crate::events::Call;
use crate::store::{AsyncStore, Fence};
use crate::{IdempotencyError, Outcome, Request};

/// Runs `body` at most once per key, replaying or rejecting duplicates.
pub(crate) async fn drive_async<S, T, E, F>(
    store: &S,
    request: &Request,
    codec: &Codec<T, E>,
    body: F,
) -> Result<Outcome<T>, IdempotencyError<E>>
where
    S: AsyncStore + ?Sized,
    F: Future<Output = Result<T, E>>,
{
    let (key, fingerprint, options) = match start(request) {
        Start::Keyed(key, fingerprint, options) => (key, fingerprint, options),
        Start::Unkeyed => return fresh(body.await),
        Start::Fail(err) => return Err(err),
    };
    let call = Call::new(key);
    let deadline = wait_deadline(options);
    let (lease, keep) = heartbeat::keeping(options, store.in_process());
    loop {
        let begin = store
            .begin(key, fingerprint, lease)
            .await
            .map_err(|err| store_failed(call, err))?;
        match decide(codec, call, fingerprint, begin, deadline, options.lease) {
            Step::Run(fence) => {
                let owner = Owner::new(call, fence, options, keep);
                return run_owned(store, codec, owner, body).await;
            }
            Step::Return(answer) => return answer,
            Step::Wait { owner, timeout } => store
                .wait(key, owner, timeout)
                .await
                .map_err(|err| store_failed(call, err))?,
        }
    }
}

/// Runs the body as the record's owner (with the heartbeat beside it, if its lease is
/// renewed), then completes or releases the record.
async fn run_owned<S, T, E, F>(
    store: &S,
    codec: &Codec<T, E>,
    owner: Owner<'_>,
    body: F,
) -> Result<Outcome<T>, IdempotencyError<E>>
where
    S: AsyncStore + ?Sized,
    F: Future<Output = Result<T, E>>,
{
    let guard = ReleaseOnDrop {
        store,
        call: owner.call,
        fence: owner.fence,
    };
    let result = match owner.keep {
        Keep::Renewed(lease) => {
            heartbeat::beside_async(store, owner.call, owner.fence, lease, body).await
        }
        Keep::Held(_) | Keep::Lapsing => body.await,
    };
    // Armed until the result is encoded: a panicking `Serialize` releases the record too.
    let record = record_of(codec, owner.call, &result);
    std::mem::forget(guard);
    finish_async(store, owner, &record).await;
    fresh(result)
}

/// Releases the record if the handler panics or its future is dropped (cancelled).
struct ReleaseOnDrop<'a, S: AsyncStore + ?Sized> {
    store: &'a S,
    call: Call<'a>,
    fence: Fence,
}

impl<S: AsyncStore + ?Sized> Drop for ReleaseOnDrop<'_, S> {
    fn drop(&mut self) {
        self.store
            .release_detached(self.call.key.clone(), self.fence);
        crate::events::released(self.call);
    }
}
