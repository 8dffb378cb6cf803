//! Retries with a fake clock: attempts are counted and every delay checked, without waiting.

use std::cell::Cell;

use super::*;
use crate::{InvalidTokenReason, StoreError, StoreErrorKind};

/// A clock that moves only when the fake sleep says so, with a scripted random source.
struct FakeClock {
    start: Instant,
    elapsed: std::rc::Rc<Cell<Duration>>,
    random: u64,
}

impl Clock for FakeClock {
    fn now(&self) -> Instant {
        self.start + self.elapsed.get()
    }
    fn random(&mut self) -> u64 {
        self.random
    }
}

fn busy() -> IdempotencyError<String> {
    IdempotencyError::RequestInProgress {
        operation: "op".into(),
        token: "t".into(),
        retry_after: std::time::Duration::from_secs(1),
    }
}

/// Runs `call` under `policy`, returning the result, the attempts made and the delays slept.
fn run(
    policy: RetryPolicy,
    random: u64,
    mut call: impl FnMut(u32) -> Result<u32, IdempotencyError<String>>,
) -> (Result<u32, IdempotencyError<String>>, u32, Vec<Duration>) {
    let elapsed = std::rc::Rc::new(Cell::new(Duration::ZERO));
    let mut clock = FakeClock {
        start: Instant::now(),
        elapsed: elapsed.clone(),
        random,
    };
    let mut delays = Vec::new();
    let mut attempts = 0;
    let result = retry_with(
        &policy,
        &mut clock,
        |attempt| {
            attempts = attempt;
            call(attempt)
        },
        |delay| {
            delays.push(delay);
            elapsed.set(elapsed.get() + delay);
        },
    );
    (result, attempts, delays)
}

#[test]
fn a_retryable_error_is_retried_until_success() {
    let (result, attempts, delays) = run(RetryPolicy::default(), u64::MAX / 2, |attempt| {
        if attempt < 3 {
            Err(busy())
        } else {
            Ok(7)
        }
    });
    assert_eq!(result.ok(), Some(7));
    assert_eq!(attempts, 3);
    assert_eq!(delays.len(), 2);
}

#[test]
fn delays_stay_within_the_full_jitter_bounds() {
    let policy = RetryPolicy::default()
        .base(Duration::from_millis(100))
        .cap(Duration::from_millis(350))
        .max_attempts(6)
        .deadline(Duration::from_secs(60));
    let (_, attempts, delays) = run(policy, u64::MAX, |_| Err(busy()));
    assert_eq!(attempts, 6);
    let bounds: Vec<u64> = delays.iter().map(|d| d.as_millis() as u64).collect();
    // With the largest random draw every delay sits at its bound: 100, 200, then capped.
    assert_eq!(bounds, [100, 200, 350, 350, 350]);
    let (_, _, delays) = run(policy, 0, |_| Err(busy()));
    assert!(
        delays.iter().all(|d| d.is_zero()),
        "the smallest draw sleeps not at all"
    );
}

#[test]
fn a_mismatch_an_invalid_token_and_the_handlers_own_error_are_not_retried() {
    let errors = [
        IdempotencyError::IdempotentParameterMismatch {
            operation: "op".into(),
            token: "t".into(),
            mismatched: vec!["a".into()],
        },
        IdempotencyError::InvalidToken {
            reason: InvalidTokenReason::Empty,
        },
        IdempotencyError::Handler("no".to_string()),
        IdempotencyError::Store(StoreError::corrupt("bad")),
    ];
    for error in errors {
        let mut error = Some(error);
        let (result, attempts, delays) = run(RetryPolicy::default(), 1, |_| {
            Err(error.take().unwrap_or_else(busy))
        });
        assert!(result.is_err());
        assert_eq!((attempts, delays.len()), (1, 0));
    }
}

#[test]
fn a_transient_store_error_is_retried() {
    let (result, attempts, _) = run(RetryPolicy::default(), 1, |attempt| {
        if attempt == 1 {
            Err(IdempotencyError::Store(StoreError::new(
                StoreErrorKind::Unavailable,
                "down",
            )))
        } else {
            Ok(1)
        }
    });
    assert_eq!((result.ok(), attempts), (Some(1), 2));
}

#[test]
fn the_policy_gives_up_after_max_attempts_with_the_last_error() {
    let (result, attempts, _) = run(RetryPolicy::default().max_attempts(4), 1, |_| Err(busy()));
    assert!(matches!(
        result,
        Err(IdempotencyError::RequestInProgress { .. })
    ));
    assert_eq!(attempts, 4);
}

#[test]
fn no_sleep_passes_the_deadline() {
    let policy = RetryPolicy::default()
        .base(Duration::from_secs(1))
        .cap(Duration::from_secs(1))
        .max_attempts(100)
        .deadline(Duration::from_millis(3500));
    let (result, attempts, delays) = run(policy, u64::MAX, |_| Err(busy()));
    assert!(result.is_err());
    let total: Duration = delays.iter().sum();
    assert!(total < Duration::from_millis(3500), "slept {total:?}");
    assert_eq!(
        attempts, 4,
        "three one-second sleeps fit in 3.5 s, a fourth does not"
    );
}
