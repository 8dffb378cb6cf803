//! The engine's driver for sync handlers over a blocking [`Store`].

use super::finish::{finish_sync, record_of, release_at_once, Owner};
use super::heartbeat::{self, Keep};
use super::{decide, fresh, start, store_failed, wait_deadline, Start, Step};
use crate::codec::Codec;
use crate::events::Call;
use crate::store::Store;
use crate::{IdempotencyError, Outcome, Request};

/// Runs `body` at most once per key, replaying or rejecting duplicates.
pub(crate) fn drive_sync<S, T, E, F>(
    store: &S,
    request: &Request,
    codec: &Codec<T, E>,
    body: F,
) -> Result<Outcome<T>, IdempotencyError<E>>
where
    S: Store + ?Sized,
    F: FnOnce() -> Result<T, E>,
{
    let (key, fingerprint, options) = match start(request) {
        Start::Keyed(key, fingerprint, options) => (key, fingerprint, options),
        Start::Unkeyed => return fresh(body()),
        Start::Fail(err) => return Err(err),
    };
    let call = Call::new(key);
    let deadline = wait_deadline(options);
    let (lease, keep) = heartbeat::keeping(options, store.in_process());
    loop {
        let begin = store
            .begin(key, fingerprint, lease)
            .map_err(|err| store_failed(call, err))?;
        match decide(codec, call, fingerprint, begin, deadline, options.lease) {
            Step::Run(fence) => {
                let owner = Owner::new(call, fence, options, keep);
                return run_owned(store, codec, owner, body);
            }
            Step::Return(answer) => return answer,
            Step::Wait { owner, timeout } => store
                .wait(key, owner, timeout)
                .map_err(|err| store_failed(call, err))?,
        }
    }
}

/// Runs the body as the record's owner (with the heartbeat beside it, if its lease is
/// renewed), then completes or releases the record.
fn run_owned<S, T, E, F>(
    store: &S,
    codec: &Codec<T, E>,
    owner: Owner<'_>,
    body: F,
) -> Result<Outcome<T>, IdempotencyError<E>>
where
    S: Store + ?Sized,
    F: FnOnce() -> Result<T, E>,
{
    let guard = ReleaseOnUnwind { store, owner };
    let result = match owner.keep {
        Keep::Renewed(lease) => heartbeat::beside_sync(store, owner.call, owner.fence, lease, body),
        Keep::Held(_) | Keep::Lapsing => body(),
    };
    // Armed until the result is encoded: a panicking `Serialize` releases the record too.
    let record = record_of(codec, owner.call, &result);
    std::mem::forget(guard);
    finish_sync(store, owner, &record);
    fresh(result)
}

/// Releases the record if the handler (or its output's `Serialize`) panics, so a retry can run.
struct ReleaseOnUnwind<'a, S: Store + ?Sized> {
    store: &'a S,
    owner: Owner<'a>,
}

impl<S: Store + ?Sized> Drop for ReleaseOnUnwind<'_, S> {
    fn drop(&mut self) {
        release_at_once(self.store, self.owner);
    }
}
