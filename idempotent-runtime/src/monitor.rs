//! Monitoring: a hook that sees every decision, for metrics (a counter per outcome, so
//! mismatches can be alerted on), beside the `tracing` events.
//!
//! ```
//! use idempotent_runtime::monitor::{set_decision_hook, DecisionKind, OutcomeCounters};
//! use std::sync::Arc;
//!
//! let counters = Arc::new(OutcomeCounters::default());
//! set_decision_hook(Arc::clone(&counters)).expect("set once, at startup");
//! // ... serve requests ...
//! let mismatches = counters.get(DecisionKind::Mismatch);
//! # let _ = mismatches;
//! ```

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::Operation;

/// What the engine decided for one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DecisionKind {
    /// The handler ran and its result was recorded.
    Executed,
    /// A recorded result was replayed; the handler did not run.
    Replayed,
    /// The token was used with other parameters.
    Mismatch,
    /// A request with the token was still running.
    InProgress,
    /// A record whose lease had ended was taken over (a crashed or stuck worker).
    TakenOver,
    /// The handler failed, panicked or was cancelled; the token was released.
    Released,
    /// The handler finished after another caller took over its lease; its result was not recorded.
    LeaseLost,
    /// The store failed.
    StoreError,
    /// The client token broke the token rules.
    InvalidToken,
}

impl DecisionKind {
    /// Every kind, in a stable order.
    pub const ALL: [DecisionKind; 9] = [
        Self::Executed,
        Self::Replayed,
        Self::Mismatch,
        Self::InProgress,
        Self::TakenOver,
        Self::Released,
        Self::LeaseLost,
        Self::StoreError,
        Self::InvalidToken,
    ];

    /// The `outcome` field of the `tracing` event: `executed`, `replayed`, `mismatch`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Executed => "executed",
            Self::Replayed => "replayed",
            Self::Mismatch => "mismatch",
            Self::InProgress => "in_progress",
            Self::TakenOver => "taken_over",
            Self::Released => "released",
            Self::LeaseLost => "lease_lost",
            Self::StoreError => "store_error",
            Self::InvalidToken => "invalid_token",
        }
    }
}

impl fmt::Display for DecisionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One decision, as a [`DecisionHook`] sees it.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Decision<'a> {
    /// The handler's operation (`None` for an invalid token, which never became a key).
    pub operation: Option<Operation>,
    /// The client token (empty for an invalid one).
    pub token: &'a str,
    /// What was decided.
    pub kind: DecisionKind,
    /// Names of the parameters that differ, for a mismatch.
    pub mismatched: &'a [String],
    /// Time since the call began.
    pub elapsed: Duration,
}

/// Receives every decision of every `#[idempotent]` handler in the process.
pub trait DecisionHook: Send + Sync + 'static {
    /// Called once per decision, on the calling thread; keep it quick.
    fn record(&self, decision: &Decision<'_>);
}

impl<H: DecisionHook> DecisionHook for Arc<H> {
    fn record(&self, decision: &Decision<'_>) {
        (**self).record(decision);
    }
}

/// The hook was already set; it can be set once per process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HookAlreadySet;

impl fmt::Display for HookAlreadySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the idempotency decision hook was already set")
    }
}

impl std::error::Error for HookAlreadySet {}

static HOOK: OnceLock<Box<dyn DecisionHook>> = OnceLock::new();

/// Installs the process-wide decision hook (once, at startup).
pub fn set_decision_hook(hook: impl DecisionHook) -> Result<(), HookAlreadySet> {
    HOOK.set(Box::new(hook)).map_err(|_| HookAlreadySet)
}

pub(crate) fn hook() -> Option<&'static dyn DecisionHook> {
    HOOK.get().map(|hook| &**hook)
}

/// A ready-made hook: one counter per [`DecisionKind`], to export to your metrics system.
#[derive(Debug, Default)]
pub struct OutcomeCounters {
    counts: [AtomicU64; DecisionKind::ALL.len()],
}

impl OutcomeCounters {
    /// How many decisions of `kind` were made so far.
    pub fn get(&self, kind: DecisionKind) -> u64 {
        self.counts[Self::index(kind)].load(Ordering::Relaxed)
    }

    /// Every counter, as `(outcome, count)`.
    pub fn snapshot(&self) -> Vec<(DecisionKind, u64)> {
        DecisionKind::ALL
            .iter()
            .map(|&kind| (kind, self.get(kind)))
            .collect()
    }

    fn index(kind: DecisionKind) -> usize {
        DecisionKind::ALL
            .iter()
            .position(|&k| k == kind)
            .unwrap_or(0)
    }
}

impl DecisionHook for OutcomeCounters {
    fn record(&self, decision: &Decision<'_>) {
        self.counts[Self::index(decision.kind)].fetch_add(1, Ordering::Relaxed);
    }
}
