//! The state machine, written once: begin, then run and complete or release, replay, reject
//! or wait. `decide` turns each answer of `begin` into the next step; the blocking and async
//! drivers share it and differ in how they call the store, how they wait, how the heartbeat
//! runs beside the body (a scoped thread or a timer in the same task) and how a cancelled call
//! is cleaned up (async only).

mod asynchronous;
mod blocking;
mod finish;
mod heartbeat;
mod transactional;

pub(crate) use asynchronous::drive_async;
pub(crate) use blocking::drive_sync;
pub(crate) use transactional::{drive_async_in_tx, drive_sync_in_tx};

use std::time::{Duration, Instant};

use crate::codec::Codec;
use crate::events::{self, Call};
use crate::request::{Concurrent, Options, Prepared, Request};
use crate::store::{Begin, ExistingState, Fence};
use crate::{Fingerprint, IdempotencyError, Key, Outcome, StoreError};

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
    Keyed(&'r Key, &'r Fingerprint, &'r Options),
    Unkeyed,
    Fail(IdempotencyError<E>),
}

pub(crate) fn start<E>(request: &Request) -> Start<'_, E> {
    match &request.prepared {
        Prepared::Keyed(key, fingerprint) => Start::Keyed(key, fingerprint, &request.options),
        Prepared::Unkeyed => Start::Unkeyed,
        Prepared::InvalidToken(reason) => {
            events::invalid_token(reason);
            Start::Fail(IdempotencyError::InvalidToken {
                reason: reason.clone(),
            })
        }
        Prepared::Unfingerprintable(err) => Start::Fail(IdempotencyError::Store(StoreError::new(
            crate::StoreErrorKind::Codec,
            format!("an input could not be fingerprinted, so the handler did not run: {err}"),
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

/// Decides what a `begin` answer means for this caller; `lease` is the handler's, the longest
/// a duplicate is told to wait before retrying.
pub(crate) fn decide<T, E>(
    codec: &Codec<T, E>,
    call: Call<'_>,
    fingerprint: &Fingerprint,
    begin: Begin,
    deadline: Option<Instant>,
    lease: Duration,
) -> Step<T, E> {
    let existing = match begin {
        Begin::Acquired { fence, took_over } => {
            if took_over {
                events::taken_over(call);
            }
            return Step::Run(fence);
        }
        Begin::Existing(existing) => existing,
    };
    if !fingerprint.matches(&existing.fingerprint) {
        let mismatched = fingerprint.mismatched(&existing.fingerprint);
        events::mismatch(call, &mismatched);
        return Step::Return(Err(IdempotencyError::IdempotentParameterMismatch {
            operation: call.key.operation().to_string(),
            token: call.key.token().to_owned(),
            mismatched,
        }));
    }
    match existing.state {
        ExistingState::Completed { output } => Step::Return(replay(codec, call, &output)),
        ExistingState::InProgress {
            owner,
            lease_remaining,
        } => match deadline.map(|at| at.saturating_duration_since(Instant::now())) {
            Some(left) if !left.is_zero() => Step::Wait {
                owner,
                timeout: left.min(lease_remaining),
            },
            _ => {
                events::in_progress(call);
                Step::Return(Err(IdempotencyError::RequestInProgress {
                    operation: call.key.operation().to_string(),
                    token: call.key.token().to_owned(),
                    // A held record (in-process store) has no lease end; its handler's lease
                    // is the honest bound.
                    retry_after: lease_remaining.min(lease),
                }))
            }
        },
    }
}

fn replay<T, E>(
    codec: &Codec<T, E>,
    call: Call<'_>,
    output: &[u8],
) -> Result<Outcome<T>, IdempotencyError<E>> {
    match codec.decode(output) {
        Ok(result) => {
            events::replayed(call);
            result
                .map(Outcome::replayed_value)
                .map_err(IdempotencyError::Handler)
        }
        Err(err) => Err(store_failed(call, err)),
    }
}

/// Reports a store failure and turns it into the caller's error.
pub(crate) fn store_failed<E>(call: Call<'_>, err: StoreError) -> IdempotencyError<E> {
    events::store_error(call, &err);
    IdempotencyError::Store(err)
}

/// The caller's answer once the handler ran.
pub(crate) fn fresh<T, E>(result: Result<T, E>) -> Result<Outcome<T>, IdempotencyError<E>> {
    result
        .map(Outcome::fresh)
        .map_err(IdempotencyError::Handler)
}

#[cfg(test)]
mod tests;
