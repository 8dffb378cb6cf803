//! Client-side retries: the same token on every attempt, exponential backoff with full jitter,
//! and no retry of what cannot succeed (a parameter mismatch, an invalid token, the handler's
//! own error).
//!
//! Delays follow "full jitter": before attempt `n + 1` the client sleeps a uniformly random
//! time between zero and `min(cap, base * 2^(n-1))`, which spreads retries from many clients
//! instead of synchronising them. A retry stops at `max_attempts` or when the next sleep would
//! pass the overall `deadline`; the last error is returned.

use std::collections::hash_map::RandomState;
use std::future::Future;
use std::hash::BuildHasher;
use std::time::{Duration, Instant};

use crate::IdempotencyError;

/// Whether an error is worth retrying with the same token.
///
/// ```
/// use idempotent_runtime::{IdempotencyError, Retryable};
/// let busy: IdempotencyError = IdempotencyError::RequestInProgress {
///     operation: "op".into(),
///     token: "t".into(),
///     retry_after: std::time::Duration::from_secs(1),
/// };
/// assert!(Retryable::is_retryable(&busy));
/// ```
pub trait Retryable {
    /// True if the same request may succeed later.
    fn is_retryable(&self) -> bool;
}

impl<E> Retryable for IdempotencyError<E> {
    fn is_retryable(&self) -> bool {
        IdempotencyError::is_retryable(self)
    }
}

/// How to retry: exponential backoff with full jitter, bounded by attempts and time.
///
/// ```
/// use std::time::Duration;
/// use idempotent_runtime::RetryPolicy;
/// let policy = RetryPolicy::default().max_attempts(3).deadline(Duration::from_secs(5));
/// assert_eq!(policy.max_delay_before(2), Duration::from_millis(100));
/// assert_eq!(policy.max_delay_before(3), Duration::from_millis(200));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    base: Duration,
    cap: Duration,
    max_attempts: u32,
    deadline: Duration,
}

impl Default for RetryPolicy {
    /// 100 ms base, 5 s cap, 5 attempts, 30 s overall.
    fn default() -> Self {
        Self {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(5),
            max_attempts: 5,
            deadline: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The largest delay before the second attempt; it doubles with each attempt after.
    pub fn base(mut self, base: Duration) -> Self {
        self.base = base;
        self
    }

    /// The largest delay between two attempts.
    pub fn cap(mut self, cap: Duration) -> Self {
        self.cap = cap;
        self
    }

    /// Attempts in all, the first included (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// How long all attempts and delays may take together.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// The upper bound of the random delay before attempt `attempt` (2, 3, ...):
    /// `min(cap, base * 2^(attempt - 2))`.
    pub fn max_delay_before(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(2).min(32);
        self.base.saturating_mul(1 << doublings).min(self.cap)
    }
}

/// Where time comes from: the real clock, or a test's.
pub(crate) trait Clock {
    fn now(&self) -> Instant;
    fn random(&mut self) -> u64;
}

struct RealClock(RandomState, u64);

impl Clock for RealClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
    fn random(&mut self) -> u64 {
        self.1 += 1;
        self.0.hash_one(self.1)
    }
}

/// The decision after a failed attempt: the delay before the next one, or give up.
fn next_delay(
    policy: &RetryPolicy,
    clock: &mut impl Clock,
    start: Instant,
    attempt: u32,
) -> Option<Duration> {
    if attempt >= policy.max_attempts {
        return None;
    }
    let max = policy.max_delay_before(attempt + 1);
    let fraction = clock.random() as f64 / u64::MAX as f64;
    let delay = max.mul_f64(fraction);
    let elapsed = clock.now().saturating_duration_since(start);
    (elapsed + delay < policy.deadline).then_some(delay)
}

/// After attempt `attempt` failed with `err`: the delay before the next one, or the error to
/// return (not retryable, or the policy gives up).
fn after_failure<E: Retryable>(
    policy: &RetryPolicy,
    clock: &mut impl Clock,
    start: Instant,
    attempt: u32,
    err: E,
) -> Result<Duration, E> {
    if !err.is_retryable() {
        return Err(err);
    }
    let Some(delay) = next_delay(policy, clock, start, attempt) else {
        return Err(err);
    };
    tracing::debug!(target: "idempotent", attempt, delay_ms = delay.as_millis() as u64, "retrying with the same token");
    Ok(delay)
}

/// Calls `call(attempt)` (attempts count from 1) until it succeeds, fails with an error that
/// is not retryable, or the policy gives up; sleeps between attempts. Keep the same client
/// token in every attempt: that is what makes the retry safe.
///
/// ```
/// use idempotent_runtime::{idempotent, retry, ClientToken, RetryPolicy};
///
/// #[idempotent(token = "token")]
/// fn create_share(name: String, token: &str) -> String {
///     format!("share-{name}")
/// }
///
/// let token = ClientToken::new();
/// let share = retry(&RetryPolicy::default(), |_attempt| create_share("data".into(), token.as_str()));
/// assert_eq!(share.unwrap(), "share-data");
/// ```
pub fn retry<T, E: Retryable>(
    policy: &RetryPolicy,
    call: impl FnMut(u32) -> Result<T, E>,
) -> Result<T, E> {
    retry_with(
        policy,
        &mut RealClock(RandomState::new(), 0),
        call,
        std::thread::sleep,
    )
}

pub(crate) fn retry_with<T, E: Retryable>(
    policy: &RetryPolicy,
    clock: &mut impl Clock,
    mut call: impl FnMut(u32) -> Result<T, E>,
    mut sleep: impl FnMut(Duration),
) -> Result<T, E> {
    let start = clock.now();
    let mut attempt = 1;
    loop {
        match call(attempt) {
            Ok(value) => return Ok(value),
            Err(err) => sleep(after_failure(policy, clock, start, attempt, err)?),
        }
        attempt += 1;
    }
}

/// The async twin of [`retry`]: sleeps on the Tokio timer between attempts.
///
/// ```
/// # async fn demo() {
/// use idempotent_runtime::{idempotent, retry_async, ClientToken, RetryPolicy};
///
/// #[idempotent(token = "token")]
/// async fn create_share(name: String, token: String) -> String {
///     format!("share-{name}")
/// }
///
/// let token = ClientToken::new();
/// let share = retry_async(&RetryPolicy::default(), |_| create_share("data".into(), token.to_string())).await;
/// assert_eq!(share.unwrap(), "share-data");
/// # }
/// ```
pub async fn retry_async<T, E, F, Fut>(policy: &RetryPolicy, mut call: F) -> Result<T, E>
where
    E: Retryable,
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut clock = RealClock(RandomState::new(), 0);
    let start = clock.now();
    let mut attempt = 1;
    loop {
        match call(attempt).await {
            Ok(value) => return Ok(value),
            Err(err) => {
                tokio::time::sleep(after_failure(policy, &mut clock, start, attempt, err)?).await
            }
        }
        attempt += 1;
    }
}

#[cfg(test)]
mod tests;
