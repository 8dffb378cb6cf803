//! The engine's drivers for transactional mode: the record is written inside the caller's
//! transaction, in progress before the body and completed after it, and committed (or rolled
//! back) by the caller with the body's own writes.
//!
//! What differs from [`drive_sync`](super::drive_sync) and [`drive_async`](super::drive_async):
//! nothing is released on failure, panic or cancellation (the caller's rollback removes the
//! record with everything else); a record that could not be completed fails the call, so the
//! caller does not commit effects without their record; and a record seen in progress is
//! answered `RequestInProgress` at once. Such a record was either committed in progress by a
//! caller outside transactional mode (waiting for it inside an open transaction could hold a
//! lock its owner needs, as SQLite's write lock does), or it is being written by another open
//! transaction right now ([`TxBegin::Busy`], under `concurrent = "reject"`), which ends on the
//! scale of a transaction: its `retry_after` is [`BUSY_RETRY_AFTER`] at most.

use std::future::Future;
use std::time::Duration;

use super::finish::{record_of, Record};
use super::{decide, fresh, start, store_failed, Start, Step};
use crate::codec::Codec;
use crate::events::{self, Call};
use crate::request::Options;
use crate::store::{AsyncInTransaction, Begin, Fence, Finish, InTransaction, TxBegin};
use crate::{Fingerprint, IdempotencyError, Outcome, Request, StoreError};

/// The `retry_after` told to a duplicate that found another open transaction writing the key.
pub(crate) const BUSY_RETRY_AFTER: Duration = Duration::from_secs(1);

/// Runs `body` at most once per key among committed transactions, replaying or rejecting
/// duplicates; every write goes into `tx`.
pub(crate) fn drive_sync_in_tx<S, Tx, T, E, F>(
    store: &S,
    tx: Tx,
    request: &Request,
    codec: &Codec<T, E>,
    body: F,
) -> Result<Outcome<T>, IdempotencyError<E>>
where
    S: InTransaction<Tx> + ?Sized,
    Tx: Copy,
    F: FnOnce() -> Result<T, E>,
{
    let (key, fingerprint, options) = match start(request) {
        Start::Keyed(key, fingerprint, options) => (key, fingerprint, options),
        Start::Unkeyed => return fresh(body()),
        Start::Fail(err) => return Err(err),
    };
    let call = Call::new(key);
    let begin = store.begin_in(tx, key, fingerprint, options.lease);
    let fence = match owned(
        codec,
        call,
        fingerprint,
        options,
        begin.map(TxBegin::Answer),
    ) {
        Ok(fence) => fence,
        Err(answer) => return answer,
    };
    let result = body();
    let record = record_of(codec, call, &result);
    let finish = match &record {
        Record::Complete(bytes) => store.complete_in(tx, key, fence, bytes, options.ttl),
        Record::Release => store.release_in(tx, key, fence),
    };
    recorded(call, &record, finish)?;
    fresh(result)
}

/// [`drive_sync_in_tx`] for an async handler; a duplicate in another open transaction waits
/// for it to end or is answered at once, as `options.concurrent` says.
pub(crate) async fn drive_async_in_tx<S, Tx, T, E, F>(
    store: &S,
    tx: Tx,
    request: &Request,
    codec: &Codec<T, E>,
    body: F,
) -> Result<Outcome<T>, IdempotencyError<E>>
where
    S: AsyncInTransaction<Tx> + ?Sized,
    Tx: Copy,
    F: Future<Output = Result<T, E>>,
{
    let (key, fingerprint, options) = match start(request) {
        Start::Keyed(key, fingerprint, options) => (key, fingerprint, options),
        Start::Unkeyed => return fresh(body.await),
        Start::Fail(err) => return Err(err),
    };
    let call = Call::new(key);
    let begin = store
        .begin_in(tx, key, fingerprint, options.lease, options.concurrent)
        .await;
    let fence = match owned(codec, call, fingerprint, options, begin) {
        Ok(fence) => fence,
        Err(answer) => return answer,
    };
    let result = body.await;
    let record = record_of(codec, call, &result);
    let finish = match &record {
        Record::Complete(bytes) => store.complete_in(tx, key, fence, bytes, options.ttl).await,
        Record::Release => store.release_in(tx, key, fence).await,
    };
    recorded(call, &record, finish)?;
    fresh(result)
}

/// The fence this caller runs the body under, or the call's answer (a replay, a mismatch,
/// `RequestInProgress`, a store failure).
#[allow(clippy::type_complexity)]
fn owned<T, E>(
    codec: &Codec<T, E>,
    call: Call<'_>,
    fingerprint: &Fingerprint,
    options: &Options,
    begin: Result<TxBegin, StoreError>,
) -> Result<Fence, Result<Outcome<T>, IdempotencyError<E>>> {
    let in_progress = |retry_after| {
        events::in_progress(call);
        Err(Err(IdempotencyError::RequestInProgress {
            operation: call.key.operation().to_string(),
            token: call.key.token().to_owned(),
            retry_after,
        }))
    };
    let begin: Begin = match begin {
        Ok(TxBegin::Answer(begin)) => begin,
        Ok(TxBegin::Busy) => return in_progress(BUSY_RETRY_AFTER.min(options.lease)),
        Err(err) => return Err(Err(store_failed(call, err))),
    };
    // No wait deadline: a record in progress is answered at once (see the module docs).
    match decide(codec, call, fingerprint, begin, None, options.lease) {
        Step::Run(fence) => Ok(fence),
        Step::Return(answer) => Err(answer),
        Step::Wait { timeout, .. } => in_progress(timeout),
    }
}

/// Reports how the record's last write went; a failed write fails the call.
fn recorded<E>(
    call: Call<'_>,
    record: &Record,
    finish: Result<Finish, StoreError>,
) -> Result<(), IdempotencyError<E>> {
    match (record, finish) {
        (Record::Complete(_), Ok(Finish::Done)) => events::executed(call),
        (Record::Release, Ok(Finish::Done)) => events::released(call),
        // Acquired in this very transaction, the record has no other owner; report it if so.
        (_, Ok(Finish::NotOwner)) => events::lease_lost(call),
        // Not recorded: fail the call, so the caller does not commit effects without it.
        (_, Err(err)) => return Err(store_failed(call, err)),
    }
    Ok(())
}
