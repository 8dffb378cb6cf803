//! `decide`, the one state machine both drivers share: what a caller does with each answer of
//! `begin`.

use std::time::{Duration, Instant};

use super::*;
use crate::codec::Serde;
use crate::store::Existing;
use crate::{Fingerprinter, Operation};

fn key() -> Key {
    Key::new(Operation::Named("op"), None, "token").expect("a valid token")
}

fn fingerprint(size: u32) -> Fingerprint {
    let mut fp = Fingerprinter::new();
    fp.param("size", &size);
    fp.finish().expect("fingerprints")
}

fn in_progress(size: u32, lease_remaining: Duration) -> Begin {
    Begin::Existing(Existing {
        fingerprint: fingerprint(size),
        state: ExistingState::InProgress {
            owner: Fence(7),
            lease_remaining,
        },
    })
}

fn decided(begin: Begin, deadline: Option<Instant>) -> Step<u32, ()> {
    let key = key();
    let codec = Codec::ok_only(Serde::<u32>::new());
    decide(
        &codec,
        Call::new(&key),
        &fingerprint(1),
        begin,
        deadline,
        Duration::from_secs(60),
    )
}

#[test]
fn a_waiter_waits_no_longer_than_the_owners_lease() {
    let deadline = Instant::now() + Duration::from_secs(30);
    match decided(in_progress(1, Duration::from_millis(100)), Some(deadline)) {
        Step::Wait { owner, timeout } => {
            assert_eq!(owner, Fence(7));
            assert!(timeout <= Duration::from_millis(100), "{timeout:?}");
        }
        _ => panic!("expected to wait"),
    }
}

#[test]
fn a_waiter_waits_no_longer_than_its_own_deadline() {
    let deadline = Instant::now() + Duration::from_millis(50);
    match decided(in_progress(1, Duration::from_secs(60)), Some(deadline)) {
        Step::Wait { timeout, .. } => assert!(timeout <= Duration::from_millis(50), "{timeout:?}"),
        _ => panic!("expected to wait"),
    }
}

#[test]
fn a_waiter_past_its_deadline_gives_up() {
    let past = Instant::now() - Duration::from_millis(1);
    assert!(matches!(
        decided(in_progress(1, Duration::from_secs(60)), Some(past)),
        Step::Return(Err(IdempotencyError::RequestInProgress { .. }))
    ));
}

#[test]
fn reject_mode_answers_in_progress_at_once() {
    assert!(matches!(
        decided(in_progress(1, Duration::from_secs(60)), None),
        Step::Return(Err(IdempotencyError::RequestInProgress { .. }))
    ));
}

#[test]
fn a_duplicate_is_told_to_retry_when_the_lease_ends_but_never_later_than_one_lease() {
    let retry_after = |lease_remaining| match decided(in_progress(1, lease_remaining), None) {
        Step::Return(Err(IdempotencyError::RequestInProgress { retry_after, .. })) => retry_after,
        _ => panic!("expected in progress"),
    };
    assert_eq!(
        retry_after(Duration::from_secs(12)),
        Duration::from_secs(12)
    );
    // A record held by an in-process store has no lease end: the handler's lease bounds it.
    assert_eq!(retry_after(crate::store::HELD), Duration::from_secs(60));
}

#[test]
fn a_mismatch_wins_over_in_progress() {
    let deadline = Some(Instant::now() + Duration::from_secs(30));
    match decided(in_progress(2, Duration::from_secs(60)), deadline) {
        Step::Return(Err(IdempotencyError::IdempotentParameterMismatch { mismatched, .. })) => {
            assert_eq!(mismatched, ["size"]);
        }
        _ => panic!("expected a mismatch"),
    }
}

#[test]
fn the_wait_deadline_is_one_lease_from_now_and_only_for_waiters() {
    let wait = Options {
        concurrent: Concurrent::Wait,
        lease: Duration::from_secs(5),
        ..Options::DEFAULT
    };
    let before = Instant::now();
    let deadline = wait_deadline(&wait).expect("a waiter has a deadline");
    assert!(deadline >= before + Duration::from_secs(5));
    assert!(deadline <= Instant::now() + Duration::from_secs(5));
    assert!(wait_deadline(&Options::DEFAULT).is_none());
}
