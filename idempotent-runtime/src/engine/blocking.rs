//! The engine's driver for sync handlers over a blocking [`Store`].

use super::{
    decide, fresh, record_of, report_finish, start, store_failed, wait_deadline, Record, Start,
    Step,
};
use crate::codec::Codec;
use crate::store::{Fence, Store};
use crate::{IdempotencyError, Key, Outcome, Request};

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
    let deadline = wait_deadline(options);
    loop {
        let begin = store
            .begin(key, fingerprint, options.lease)
            .map_err(|err| store_failed(key, err))?;
        match decide(codec, key, fingerprint, begin, deadline) {
            Step::Run(fence) => return run_owned(store, codec, key, fence, options.ttl, body),
            Step::Return(answer) => return answer,
            Step::Wait { owner, timeout } => store
                .wait(key, owner, timeout)
                .map_err(|err| store_failed(key, err))?,
        }
    }
}

fn run_owned<S, T, E, F>(
    store: &S,
    codec: &Codec<T, E>,
    key: &Key,
    fence: Fence,
    ttl: std::time::Duration,
    body: F,
) -> Result<Outcome<T>, IdempotencyError<E>>
where
    S: Store + ?Sized,
    F: FnOnce() -> Result<T, E>,
{
    let guard = ReleaseOnUnwind { store, key, fence };
    let result = body();
    std::mem::forget(guard);
    let record = record_of(codec, key, &result);
    let finish = match &record {
        Record::Complete(bytes) => store.complete(key, fence, bytes, ttl),
        Record::Release => store.release(key, fence),
    };
    report_finish(key, &record, finish);
    fresh(result)
}

/// Releases the record if the handler panics, so a retry can run.
struct ReleaseOnUnwind<'a, S: Store + ?Sized> {
    store: &'a S,
    key: &'a Key,
    fence: Fence,
}

impl<S: Store + ?Sized> Drop for ReleaseOnUnwind<'_, S> {
    fn drop(&mut self) {
        let finish = self.store.release(self.key, self.fence);
        report_finish(self.key, &Record::Release, finish);
    }
}
