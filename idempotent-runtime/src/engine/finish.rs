//! After the handler: encode its result, then complete or release the record, and report how
//! it went. The work is done by then, so a transient store failure is retried a few times with
//! a short backoff before the record is left to its lease; the caller gets its own result
//! either way.

use std::time::Duration;

use super::heartbeat::{tokio_sleep, Keep};
use crate::codec::Codec;
use crate::events::{self, Call};
use crate::store::{AsyncStore, Fence, Finish, Store};
use crate::{Options, StoreError};

/// The pauses before the second and third attempt at completing or releasing.
const RETRY_PAUSES: [Duration; 2] = [Duration::from_millis(25), Duration::from_millis(100)];

/// The call's ownership of its record, once `begin` acquired it.
#[derive(Clone, Copy)]
pub(crate) struct Owner<'a> {
    pub(crate) call: Call<'a>,
    pub(crate) fence: Fence,
    /// How long a completed record is kept.
    pub(crate) ttl: Duration,
    pub(crate) keep: Keep,
}

impl<'a> Owner<'a> {
    pub(crate) fn new(call: Call<'a>, fence: Fence, options: &Options, keep: Keep) -> Self {
        Self {
            call,
            fence,
            ttl: options.ttl,
            keep,
        }
    }
}

/// What to store once the handler returned: encoded bytes, or nothing (release).
pub(crate) enum Record {
    Complete(Vec<u8>),
    Release,
}

/// Encodes the handler's result; an output that cannot be encoded releases the record.
pub(crate) fn record_of<T, E>(
    codec: &Codec<T, E>,
    call: Call<'_>,
    result: &Result<T, E>,
) -> Record {
    match codec.encode(result) {
        Some(Ok(bytes)) => Record::Complete(bytes),
        Some(Err(err)) => {
            events::store_error(call, &err);
            Record::Release
        }
        None => Record::Release,
    }
}

/// Completes or releases the record on a blocking store.
pub(crate) fn finish_sync<S: Store + ?Sized>(store: &S, owner: Owner<'_>, record: &Record) {
    let (key, fence) = (owner.call.key, owner.fence);
    let attempt = || match record {
        Record::Complete(bytes) => store.complete(key, fence, bytes, owner.ttl),
        Record::Release => store.release(key, fence),
    };
    let mut finish = attempt();
    for pause in RETRY_PAUSES {
        if !worth_retrying(owner.call, &finish) {
            break;
        }
        std::thread::sleep(pause);
        finish = retried(record, attempt());
    }
    if let (Err(_), Keep::Held(lease)) = (&finish, owner.keep) {
        let _ = store.renew(key, fence, lease);
    }
    report(owner.call, record, finish);
}

/// Completes or releases the record on an async store.
pub(crate) async fn finish_async<S: AsyncStore + ?Sized>(
    store: &S,
    owner: Owner<'_>,
    record: &Record,
) {
    let (key, fence) = (owner.call.key, owner.fence);
    let attempt = || async {
        match record {
            Record::Complete(bytes) => store.complete(key, fence, bytes, owner.ttl).await,
            Record::Release => store.release(key, fence).await,
        }
    };
    // Cancelled while retrying, the record is not left held for ever: its lease starts.
    let unhold = UnholdOnDrop { store, owner };
    let mut finish = attempt().await;
    for pause in RETRY_PAUSES {
        if !worth_retrying(owner.call, &finish) {
            break;
        }
        // Pausing needs a Tokio timer; without one the answer so far stands.
        let Some(pause) = tokio_sleep(pause) else {
            break;
        };
        pause.await;
        finish = retried(record, attempt().await);
    }
    std::mem::forget(unhold);
    if let (Err(_), Keep::Held(lease)) = (&finish, owner.keep) {
        let _ = store.renew(key, fence, lease).await;
    }
    report(owner.call, record, finish);
}

/// Starts the lease of a held record whose finishing was dropped half-way (a cancelled call),
/// by releasing it as a cancelled handler's record is released.
struct UnholdOnDrop<'a, S: AsyncStore + ?Sized> {
    store: &'a S,
    owner: Owner<'a>,
}

impl<S: AsyncStore + ?Sized> Drop for UnholdOnDrop<'_, S> {
    fn drop(&mut self) {
        if let Keep::Held(_) = self.owner.keep {
            self.store
                .release_detached(self.owner.call.key.clone(), self.owner.fence);
        }
    }
}

/// Whether a failed attempt is worth another: only a transient failure is.
fn worth_retrying(call: Call<'_>, finish: &Result<Finish, StoreError>) -> bool {
    match finish {
        Err(err) if err.is_transient() => {
            events::finish_retried(call, err);
            true
        }
        _ => false,
    }
}

/// A retried release that finds nothing to release: the first attempt did it, and only its
/// answer was lost. (If instead the first attempt never arrived and another caller took over
/// in the meantime, this reports `released` where `lease_lost` was the truth; the store's state
/// is right either way. A retried complete needs no such rule: a store answers `Done` to the
/// owner that already completed.)
fn retried(record: &Record, finish: Result<Finish, StoreError>) -> Result<Finish, StoreError> {
    match (record, finish) {
        (Record::Release, Ok(Finish::NotOwner)) => Ok(Finish::Done),
        (_, finish) => finish,
    }
}

/// Reports how completing or releasing went.
fn report(call: Call<'_>, record: &Record, finish: Result<Finish, StoreError>) {
    match (record, finish) {
        (Record::Complete(_), Ok(Finish::Done)) => events::executed(call),
        (Record::Release, Ok(Finish::Done)) => events::released(call),
        (_, Ok(Finish::NotOwner)) => events::lease_lost(call),
        (_, Err(err)) => events::store_error(call, &err),
    }
}

/// Releases on a blocking store because the handler panicked or its result could not be
/// encoded: one attempt (it may run while unwinding). A held record that could not be released
/// gets a lease instead, so it is not held for ever.
pub(crate) fn release_at_once<S: Store + ?Sized>(store: &S, owner: Owner<'_>) {
    let finish = store.release(owner.call.key, owner.fence);
    if let (Err(_), Keep::Held(lease)) = (&finish, owner.keep) {
        let _ = store.renew(owner.call.key, owner.fence, lease);
    }
    report(owner.call, &Record::Release, finish);
}
