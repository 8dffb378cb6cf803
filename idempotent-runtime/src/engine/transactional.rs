//! The engine's driver for transactional mode: the record is written inside the caller's
//! transaction, in progress before the body and completed after it, and committed (or rolled
//! back) by the caller with the body's own writes.
//!
//! What differs from [`drive_sync`](super::drive_sync): nothing is released on failure (the
//! caller's rollback removes the record with everything else); a record that could not be
//! completed fails the call, so the caller does not commit effects without their record; and a
//! record seen in progress is answered `RequestInProgress` at once (it was committed by a caller
//! outside transactional mode: waiting for it inside a transaction that holds the database's
//! write lock would keep its owner from completing).

use super::finish::{record_of, Record};
use super::{decide, fresh, start, store_failed, Start, Step};
use crate::codec::Codec;
use crate::events::{self, Call};
use crate::store::{Finish, InTransaction};
use crate::{IdempotencyError, Outcome, Request};

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
    let begin = store
        .begin_in(tx, key, fingerprint, options.lease)
        .map_err(|err| store_failed(call, err))?;
    // No wait deadline: a record in progress is answered at once (see the module docs).
    let fence = match decide(codec, call, fingerprint, begin, None, options.lease) {
        Step::Run(fence) => fence,
        Step::Return(answer) => return answer,
        Step::Wait { timeout, .. } => {
            return Err(IdempotencyError::RequestInProgress {
                operation: key.operation().to_string(),
                token: key.token().to_owned(),
                retry_after: timeout,
            })
        }
    };
    let result = body();
    let record = record_of(codec, call, &result);
    let finish = match &record {
        Record::Complete(bytes) => store.complete_in(tx, key, fence, bytes, options.ttl),
        Record::Release => store.release_in(tx, key, fence),
    };
    match (&record, finish) {
        (Record::Complete(_), Ok(Finish::Done)) => events::executed(call),
        (Record::Release, Ok(Finish::Done)) => events::released(call),
        // Acquired in this very transaction, the record has no other owner; report it if so.
        (_, Ok(Finish::NotOwner)) => events::lease_lost(call),
        // Not recorded: fail the call, so the caller does not commit effects without it.
        (_, Err(err)) => return Err(store_failed(call, err)),
    }
    fresh(result)
}
