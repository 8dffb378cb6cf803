//! Token rules: 1 to 64 visible ASCII characters, case-sensitive; a bad token fails before
//! anything is stored and the handler does not run.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use idempotent_runtime::{idempotent, ClientToken, IdempotencyError, InvalidTokenReason};

/// Runs of `create`, which the tests call only with bad tokens (tests run in parallel).
static RUNS: AtomicUsize = AtomicUsize::new(0);

#[idempotent(token = "token")]
fn create(size: u32, token: &str) -> u32 {
    RUNS.fetch_add(1, SeqCst);
    size
}

#[idempotent(token = "token")]
fn create_valid(size: u32, token: &str) -> u32 {
    size
}

fn reason(token: &str) -> InvalidTokenReason {
    let before = RUNS.load(SeqCst);
    match create(1, token) {
        Err(IdempotencyError::InvalidToken { reason }) => {
            assert_eq!(RUNS.load(SeqCst), before, "the handler ran for a bad token");
            reason
        }
        other => panic!("expected InvalidToken for {token:?}, got {other:?}"),
    }
}

#[test]
fn an_empty_token_is_rejected() {
    assert_eq!(reason(""), InvalidTokenReason::Empty);
}

#[test]
fn sixty_four_characters_pass_and_sixty_five_fail() {
    assert_eq!(create_valid(1, &"6".repeat(64)).unwrap(), 1);
    assert_eq!(
        reason(&"6".repeat(65)),
        InvalidTokenReason::TooLong { len: 65, limit: 64 }
    );
}

#[test]
fn non_ascii_and_control_characters_are_rejected() {
    for (token, found) in [
        ("tok\u{e9}n", 'é'),
        ("tok\nen", '\n'),
        ("tok en", ' '),
        ("tok\u{7f}", '\u{7f}'),
    ] {
        assert_eq!(
            reason(token),
            InvalidTokenReason::NotVisibleAscii { position: 3, found }
        );
    }
    let err = create(1, "a b").unwrap_err();
    assert!(err.to_string().contains("not visible ASCII"), "{err}");
    assert!(!err.is_retryable());
}

#[test]
fn tokens_are_case_sensitive() {
    static CASE_RUNS: AtomicUsize = AtomicUsize::new(0);
    #[idempotent(token = "token")]
    fn create_case(size: u32, token: &str) -> u32 {
        CASE_RUNS.fetch_add(1, SeqCst);
        size
    }
    create_case(1, "CaseToken").unwrap();
    create_case(1, "casetoken").unwrap();
    create_case(1, "CaseToken").unwrap();
    assert_eq!(CASE_RUNS.load(SeqCst), 2);
}

#[test]
fn client_token_and_option_of_str_are_token_types() {
    static TYPED_RUNS: AtomicUsize = AtomicUsize::new(0);
    #[idempotent(token = "token")]
    fn typed(size: u32, token: ClientToken) -> u32 {
        TYPED_RUNS.fetch_add(1, SeqCst);
        size
    }
    #[idempotent(token = "token")]
    fn optional(size: u32, token: Option<&str>) -> u32 {
        size
    }
    let token = ClientToken::parse("typed-token").unwrap();
    assert_eq!(typed(3, token.clone()).unwrap(), 3);
    assert_eq!(typed(3, token).unwrap(), 3);
    assert_eq!(TYPED_RUNS.load(SeqCst), 1);
    assert_eq!(optional(4, Some("opt")).unwrap(), 4);
    assert_eq!(optional(4, None).unwrap(), 4);
}
