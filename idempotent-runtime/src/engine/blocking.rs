//! The engine's driver for sync handlers over a blocking [`Store`].

use super::heartbeat;
use super::{
    decide, fresh, record_of, report_finish, start, store_failed, wait_deadline, Record, Start,
    Step,
};
use std::time::Duration;

use crate::codec::Codec;
use crate::events::Call;
use crate::store::{Fence, Store};
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
    let (lease, renew) = heartbeat::lease_for(options, store.in_process());
    loop {
        let begin = store
            .begin(key, fingerprint, lease)
            .map_err(|err| store_failed(call, err))?;
        match decide(codec, call, fingerprint, begin, deadline) {
            Step::Run(fence) => {
                let renew = renew.then_some(options.lease);
                return run_owned(store, codec, call, fence, options.ttl, renew, body);
            }
            Step::Return(answer) => return answer,
            Step::Wait { owner, timeout } => store
                .wait(key, owner, timeout)
                .map_err(|err| store_failed(call, err))?,
        }
    }
}

/// Runs the body as the record's owner (renewing a lease of `renew` meanwhile, if given), then
/// completes or releases the record.
fn run_owned<S, T, E, F>(
    store: &S,
    codec: &Codec<T, E>,
    call: Call<'_>,
    fence: Fence,
    ttl: Duration,
    renew: Option<Duration>,
    body: F,
) -> Result<Outcome<T>, IdempotencyError<E>>
where
    S: Store + ?Sized,
    F: FnOnce() -> Result<T, E>,
{
    let guard = ReleaseOnUnwind { store, call, fence };
    let result = match renew {
        Some(lease) => heartbeat::beside_sync(store, call, fence, lease, body),
        None => body(),
    };
    std::mem::forget(guard);
    let record = record_of(codec, call, &result);
    let finish = match &record {
        Record::Complete(bytes) => store.complete(call.key, fence, bytes, ttl),
        Record::Release => store.release(call.key, fence),
    };
    report_finish(call, &record, finish);
    fresh(result)
}

/// Releases the record if the handler panics, so a retry can run.
struct ReleaseOnUnwind<'a, S: Store + ?Sized> {
    store: &'a S,
    call: Call<'a>,
    fence: Fence,
}

impl<S: Store + ?Sized> Drop for ReleaseOnUnwind<'_, S> {
    fn drop(&mut self) {
        let finish = self.store.release(self.call.key, self.fence);
        report_finish(self.call, &Record::Release, finish);
    }
}
