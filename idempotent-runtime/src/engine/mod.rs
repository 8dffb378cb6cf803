//! The state machine, written once: begin, then run and complete or release, replay, reject
//! or wait. The blocking and async drivers differ only in how they call the store.

mod asynchronous;
mod blocking;

pub(crate) use asynchronous::drive_async;
pub(crate) use blocking::drive_sync;

use std::time::{Duration, Instant};

use crate::codec::Codec;
use crate::request::{Concurrent, Options, Prepared, Request};
use crate::store::{Begin, ExistingState, Fence, Finish};
use crate::{events, Fingerprint, IdempotencyError, Key, Outcome, StoreError};

/// What the engine does after one `begin`.
pub(crate) enum Step<T, E> {
    /// This caller owns the record: run the handler.
    Run(Fence),
    /// Another caller owns it: wait for a change, at most `timeout`, then begin again.
    Wait { owner: Fence, timeout: Duration },
    /// The call ends here.
    Return(Result<Outcome<T>, IdempotencyError<E>>),
}

/// The request's key and fingerprint, or the call's end if it needs no store.
pub(crate) enum Start<'r, E> {
    Keyed(&'r Key, &'r Fingerprint, &'static Options),
    Unkeyed,
    Fail(IdempotencyError<E>),
}

pub(crate) fn start<E>(request: &Request) -> Start<'_, E> {
    match &request.prepared {
        Prepared::Keyed(key, fingerprint) => Start::Keyed(key, fingerprint, request.options),
        Prepared::Unkeyed => Start::Unkeyed,
        Prepared::InvalidToken(reason) => {
            tracing::info!(target: events::TARGET, outcome = "invalid_token", %reason, "rejected an invalid client token");
            Start::Fail(IdempotencyError::InvalidToken {
                reason: reason.clone(),
            })
        }
        Prepared::Unfingerprintable(err) => Start::Fail(IdempotencyError::Store(StoreError::new(
            crate::StoreErrorKind::Codec,
            err.to_string(),
        ))),
    }
}

/// When a waiter gives up: one lease after it arrived.
pub(crate) fn wait_deadline(options: &Options) -> Option<Instant> {
    match options.concurrent {
        Concurrent::Reject => None,
        Concurrent::Wait => Some(Instant::now() + options.lease),
    }
}

/// Decides what a `begin` answer means for this caller.
pub(crate) fn decide<T, E>(
    codec: &Codec<T, E>,
    key: &Key,
    fingerprint: &Fingerprint,
    begin: Begin,
    deadline: Option<Instant>,
) -> Step<T, E> {
    let existing = match begin {
        Begin::Acquired { fence, took_over } => {
            if took_over {
                events::taken_over(key);
            }
            return Step::Run(fence);
        }
        Begin::Existing(existing) => existing,
    };
    if *existing.fingerprint != *fingerprint {
        let mismatched = fingerprint.mismatched(&existing.fingerprint);
        events::mismatch(key, &mismatched);
        return Step::Return(Err(IdempotencyError::IdempotentParameterMismatch {
            operation: key.operation().to_string(),
            token: key.token().to_owned(),
            mismatched,
        }));
    }
    match existing.state {
        ExistingState::Completed { output } => Step::Return(replay(codec, key, &output)),
        ExistingState::InProgress {
            owner,
            lease_remaining,
        } => match deadline.map(|at| at.saturating_duration_since(Instant::now())) {
            Some(left) if !left.is_zero() => Step::Wait {
                owner,
                timeout: left.min(lease_remaining),
            },
            _ => {
                events::in_progress(key);
                Step::Return(Err(IdempotencyError::RequestInProgress {
                    operation: key.operation().to_string(),
                    token: key.token().to_owned(),
                }))
            }
        },
    }
}

fn replay<T, E>(
    codec: &Codec<T, E>,
    key: &Key,
    output: &[u8],
) -> Result<Outcome<T>, IdempotencyError<E>> {
    match codec.decode(output) {
        Ok(result) => {
            events::replayed(key);
            result
                .map(Outcome::replayed_value)
                .map_err(IdempotencyError::Handler)
        }
        Err(err) => Err(store_failed(key, err)),
    }
}

/// Reports a store failure and turns it into the caller's error.
pub(crate) fn store_failed<E>(key: &Key, err: StoreError) -> IdempotencyError<E> {
    events::store_error(key, &err);
    IdempotencyError::Store(err)
}

/// What to store once the handler returned: encoded bytes, or nothing (release).
pub(crate) enum Record {
    Complete(Vec<u8>),
    Release,
}

/// Encodes the handler's result; an output that cannot be encoded releases the record.
pub(crate) fn record_of<T, E>(codec: &Codec<T, E>, key: &Key, result: &Result<T, E>) -> Record {
    match codec.encode(result) {
        Some(Ok(bytes)) => Record::Complete(bytes),
        Some(Err(err)) => {
            events::unrecorded(key, &err);
            Record::Release
        }
        None => Record::Release,
    }
}

/// Reports how completing or releasing went. The caller gets its own result either way.
pub(crate) fn report_finish(key: &Key, record: &Record, finish: Result<Finish, StoreError>) {
    match (record, finish) {
        (Record::Complete(_), Ok(Finish::Done)) => events::executed(key),
        (Record::Release, Ok(Finish::Done)) => events::released(key),
        (_, Ok(Finish::NotOwner)) => events::lease_lost(key),
        (_, Err(err)) => events::unrecorded(key, &err),
    }
}

/// The caller's answer once the handler ran.
pub(crate) fn fresh<T, E>(result: Result<T, E>) -> Result<Outcome<T>, IdempotencyError<E>> {
    result
        .map(Outcome::fresh)
        .map_err(IdempotencyError::Handler)
}
