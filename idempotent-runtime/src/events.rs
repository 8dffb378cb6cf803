//! Every decision, reported once: as a `tracing` event under the target `idempotent` and to
//! the [`monitor`](crate::monitor) hook if one is set.
//!
//! Each event carries `operation`, `token`, `outcome` (see
//! [`DecisionKind::as_str`](crate::monitor::DecisionKind::as_str)) and `elapsed_us` (time since
//! the call began); a mismatch also carries `mismatched` (the parameters that differ, comma
//! separated) and a store error `error`.

use std::time::{Duration, Instant};

use tracing::Level;

use crate::monitor::{self, Decision, DecisionKind};
use crate::{Key, StoreError};

/// What every event of one call shares: its key and when it began.
#[derive(Clone, Copy)]
pub(crate) struct Call<'k> {
    pub(crate) key: &'k Key,
    started: Option<Instant>,
}

impl<'k> Call<'k> {
    /// Takes the time only if someone listens: an unobserved call pays no clock read.
    pub(crate) fn new(key: &'k Key) -> Self {
        let listening =
            monitor::hook().is_some() || tracing::enabled!(target: "idempotent", Level::ERROR);
        Self {
            key,
            started: listening.then(Instant::now),
        }
    }

    fn elapsed(&self) -> Duration {
        self.started
            .map(|started| started.elapsed())
            .unwrap_or_default()
    }
}

fn report(call: Call<'_>, kind: DecisionKind, mismatched: &[String], error: Option<&StoreError>) {
    let elapsed = call.elapsed();
    if let Some(hook) = monitor::hook() {
        hook.record(&Decision {
            operation: Some(call.key.operation()),
            token: call.key.token(),
            kind,
            mismatched,
            elapsed,
        });
    }
    let (operation, token, outcome) = (call.key.operation(), call.key.token(), kind.as_str());
    let elapsed_us = elapsed.as_micros() as u64;
    match kind {
        DecisionKind::Executed => {
            tracing::debug!(target: "idempotent", %operation, token, outcome, elapsed_us, "handler ran and its result was recorded")
        }
        DecisionKind::Replayed => {
            tracing::debug!(target: "idempotent", %operation, token, outcome, elapsed_us, "replayed the recorded result")
        }
        DecisionKind::Released => {
            tracing::debug!(target: "idempotent", %operation, token, outcome, elapsed_us, "handler failed or was cancelled; token released")
        }
        DecisionKind::InProgress => {
            tracing::info!(target: "idempotent", %operation, token, outcome, elapsed_us, "a request with this token is still running")
        }
        DecisionKind::Mismatch => {
            let mismatched = mismatched.join(",");
            tracing::warn!(target: "idempotent", %operation, token, outcome, elapsed_us, mismatched, "token reused with other parameters")
        }
        DecisionKind::TakenOver => {
            tracing::warn!(target: "idempotent", %operation, token, outcome, elapsed_us, "took over a record whose lease had ended")
        }
        DecisionKind::LeaseLost => {
            tracing::warn!(target: "idempotent", %operation, token, outcome, elapsed_us, "the lease was taken over while the handler ran; its result was not recorded")
        }
        _ => {
            let error = error.map(ToString::to_string).unwrap_or_default();
            tracing::error!(target: "idempotent", %operation, token, outcome, elapsed_us, error, "idempotency store failed")
        }
    }
}

pub(crate) fn executed(call: Call<'_>) {
    report(call, DecisionKind::Executed, &[], None);
}

pub(crate) fn replayed(call: Call<'_>) {
    report(call, DecisionKind::Replayed, &[], None);
}

pub(crate) fn mismatch(call: Call<'_>, mismatched: &[String]) {
    report(call, DecisionKind::Mismatch, mismatched, None);
}

pub(crate) fn in_progress(call: Call<'_>) {
    report(call, DecisionKind::InProgress, &[], None);
}

pub(crate) fn taken_over(call: Call<'_>) {
    report(call, DecisionKind::TakenOver, &[], None);
}

pub(crate) fn released(call: Call<'_>) {
    report(call, DecisionKind::Released, &[], None);
}

pub(crate) fn lease_lost(call: Call<'_>) {
    report(call, DecisionKind::LeaseLost, &[], None);
}

pub(crate) fn store_error(call: Call<'_>, err: &StoreError) {
    report(call, DecisionKind::StoreError, &[], Some(err));
}

/// A lease renewal failed while the handler runs: not a decision (the call goes on and the next
/// beat tries again), so a `warn` event only, not the monitor hook.
pub(crate) fn heartbeat_failed(call: Call<'_>, err: &StoreError) {
    let (operation, token) = (call.key.operation(), call.key.token());
    let elapsed_us = call.elapsed().as_micros() as u64;
    tracing::warn!(target: "idempotent", %operation, token, outcome = "heartbeat_failed", elapsed_us, error = %err, "could not renew the lease of a running handler; if the lease ends, another caller may take over");
}

/// Completing or releasing failed transiently and is tried again: not a decision yet.
pub(crate) fn finish_retried(call: Call<'_>, err: &StoreError) {
    let (operation, token) = (call.key.operation(), call.key.token());
    let elapsed_us = call.elapsed().as_micros() as u64;
    tracing::warn!(target: "idempotent", %operation, token, outcome = "finish_retried", elapsed_us, error = %err, "could not record the handler's result; trying again");
}

/// A token that broke the rules: no key, so no operation.
pub(crate) fn invalid_token(reason: &crate::InvalidTokenReason) {
    if let Some(hook) = monitor::hook() {
        hook.record(&Decision {
            operation: None,
            token: "",
            kind: DecisionKind::InvalidToken,
            mismatched: &[],
            elapsed: Duration::ZERO,
        });
    }
    tracing::info!(target: "idempotent", outcome = "invalid_token", %reason, "rejected an invalid client token");
}
