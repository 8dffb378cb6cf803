//! What releases a token (an `Err`, a panic), what is cached (`cache_errors`), and failures
//! of the store itself: unreachable, full, or holding a corrupt record. The store failing
//! means the handler does not run (fail closed).

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::LazyLock;
use std::time::Duration;

use idempotent_runtime::fingerprint::{Fingerprint, Fingerprinter};
use idempotent_runtime::store::{Begin, Fence, Finish};
use idempotent_runtime::store::{Key, Operation};
use idempotent_runtime::{
    idempotent, IdempotencyError, ManualClock, MemoryStore, Store, StoreError, StoreErrorKind,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, PartialEq, Serialize, Deserialize)]
enum QuotaError {
    Exceeded { limit: u32 },
}

#[test]
fn an_error_releases_the_token_so_a_retry_runs_again() {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    #[idempotent(token = "token")]
    fn create(size: u32, token: &str) -> Result<u32, QuotaError> {
        if RUNS.fetch_add(1, SeqCst) == 0 {
            return Err(QuotaError::Exceeded { limit: 1 });
        }
        Ok(size)
    }
    assert!(matches!(
        create(5, "err-1"),
        Err(IdempotencyError::Handler(QuotaError::Exceeded { limit: 1 }))
    ));
    assert_eq!(create(5, "err-1").unwrap(), 5);
    assert_eq!(create(5, "err-1").unwrap(), 5);
    assert_eq!(RUNS.load(SeqCst), 2);
}

#[test]
fn cache_errors_replays_the_error() {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    #[idempotent(token = "token", cache_errors)]
    fn create(size: u32, token: &str) -> Result<u32, QuotaError> {
        RUNS.fetch_add(1, SeqCst);
        Err(QuotaError::Exceeded { limit: size })
    }
    for _ in 0..3 {
        let err = create(9, "cached-err").unwrap_err();
        assert_eq!(
            err.handler_error(),
            Some(&QuotaError::Exceeded { limit: 9 })
        );
    }
    assert_eq!(RUNS.load(SeqCst), 1);
}

#[test]
fn a_panic_releases_the_token_and_propagates() {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    #[idempotent(token = "token")]
    fn create(size: u32, token: &str) -> u32 {
        if RUNS.fetch_add(1, SeqCst) == 0 {
            panic!("first run fails");
        }
        size
    }
    let panicked = std::panic::catch_unwind(|| create(3, "panic-1"));
    assert!(panicked.is_err(), "the panic must reach the caller");
    assert_eq!(create(3, "panic-1").unwrap(), 3);
    assert_eq!(RUNS.load(SeqCst), 2);
}

static CORRUPT_STORE: LazyLock<MemoryStore> = LazyLock::new(MemoryStore::new);

#[test]
fn a_corrupt_record_is_a_store_error_and_the_handler_does_not_run() {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    #[idempotent(token = "token", name = "Corrupt", store = &*CORRUPT_STORE)]
    fn create(size: u32, token: &str) -> u32 {
        RUNS.fetch_add(1, SeqCst);
        size
    }
    let key = Key::new(Operation::Named("Corrupt"), None, "corrupt-1").unwrap();
    let mut fp = Fingerprinter::new();
    fp.param("size", &4u32);
    let fingerprint: Fingerprint = fp.finish().unwrap();
    let store: &MemoryStore = &CORRUPT_STORE;
    let Ok(Begin::Acquired { fence, .. }) =
        Store::begin(store, &key, &fingerprint, Duration::from_secs(60))
    else {
        panic!("the key is fresh");
    };
    let garbage = b"\x01O\xc1 not msgpack";
    assert_eq!(
        Store::complete(store, &key, fence, garbage, Duration::from_secs(60)).unwrap(),
        Finish::Done
    );

    let err = create(4, "corrupt-1").unwrap_err();
    let IdempotencyError::Store(store_err) = &err else {
        panic!("expected a store error, got {err:?}");
    };
    assert_eq!(store_err.kind(), StoreErrorKind::Corrupt);
    assert!(!err.is_retryable());
    assert_eq!(RUNS.load(SeqCst), 0);
}

/// A store that is always down, as a user-written backend would be when its server is.
#[derive(Clone)]
struct DownStore;

impl Store for DownStore {
    fn begin(&self, _: &Key, _: &Fingerprint, _: Duration) -> Result<Begin, StoreError> {
        Err(StoreError::new(
            StoreErrorKind::Unavailable,
            "connection refused",
        ))
    }
    fn complete(&self, _: &Key, _: Fence, _: &[u8], _: Duration) -> Result<Finish, StoreError> {
        Err(StoreError::new(
            StoreErrorKind::Unavailable,
            "connection refused",
        ))
    }
    fn release(&self, _: &Key, _: Fence) -> Result<Finish, StoreError> {
        Err(StoreError::new(
            StoreErrorKind::Unavailable,
            "connection refused",
        ))
    }
    fn renew(&self, _: &Key, _: Fence, _: Duration) -> Result<Finish, StoreError> {
        Err(StoreError::new(
            StoreErrorKind::Unavailable,
            "connection refused",
        ))
    }
}

#[test]
fn an_unreachable_store_fails_closed_with_a_retryable_error() {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    #[idempotent(token = "token", store = DownStore)]
    fn create(size: u32, token: &str) -> u32 {
        RUNS.fetch_add(1, SeqCst);
        size
    }
    let err = create(1, "down-1").unwrap_err();
    assert!(matches!(&err, IdempotencyError::Store(e) if e.kind() == StoreErrorKind::Unavailable));
    assert!(err.is_retryable());
    assert_eq!(
        err.to_string(),
        "idempotency store unavailable: connection refused"
    );
    assert_eq!(RUNS.load(SeqCst), 0);
}

#[test]
fn a_full_store_fails_closed_then_drops_expired_records() {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    static CLOCK: LazyLock<ManualClock> = LazyLock::new(ManualClock::new);
    static SMALL: LazyLock<MemoryStore> = LazyLock::new(|| {
        MemoryStore::builder()
            .capacity(2)
            .shards(1)
            .clock(CLOCK.clone())
            .build()
    });
    #[idempotent(token = "token", store = &*SMALL, ttl = "1h")]
    fn create(size: u32, token: &str) -> u32 {
        RUNS.fetch_add(1, SeqCst);
        size
    }
    create(1, "full-1").unwrap();
    create(1, "full-2").unwrap();
    let err = create(1, "full-3").unwrap_err();
    assert!(
        matches!(&err, IdempotencyError::Store(e) if e.kind() == StoreErrorKind::Capacity),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert_eq!(
        RUNS.load(SeqCst),
        2,
        "a full store must not run the handler"
    );
    // Live records are never evicted: both still replay.
    create(1, "full-1").unwrap();
    assert_eq!(RUNS.load(SeqCst), 2);

    CLOCK.advance(Duration::from_secs(3601));
    create(1, "full-3").unwrap();
    assert_eq!(RUNS.load(SeqCst), 3);
}

/// An output whose `Serialize` panics, after the handler ran.
#[derive(Debug, serde::Deserialize)]
struct Explodes;

impl serde::Serialize for Explodes {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        panic!("this output cannot be serialized")
    }
}

/// Review finding: the release guard was disarmed before the result was encoded, so a
/// panicking `Serialize` left the token taken (for ever, on an in-process store).
#[test]
fn a_panicking_output_serialize_releases_the_token() {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    #[idempotent(token = "token")]
    fn create(token: &str) -> Explodes {
        RUNS.fetch_add(1, SeqCst);
        Explodes
    }
    for _ in 0..2 {
        let panicked = std::panic::catch_unwind(|| create("explodes"));
        assert!(panicked.is_err(), "the Serialize panic reaches the caller");
    }
    assert_eq!(
        RUNS.load(SeqCst),
        2,
        "the retry ran: the token was released"
    );
}

/// A value whose `Serialize` fails (an error, not a panic).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
struct Refuses(u32);

impl serde::Serialize for Refuses {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("refuses to be serialized"))
    }
}

#[test]
fn a_parameter_that_cannot_be_serialized_is_reported_as_an_input() {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    #[idempotent(token = "token")]
    fn create(payload: Refuses, token: &str) -> u32 {
        RUNS.fetch_add(1, SeqCst);
        payload.0
    }
    let err = create(Refuses(1), "input").unwrap_err();
    let IdempotencyError::Store(store_err) = &err else {
        panic!("expected a store error, got {err:?}");
    };
    assert_eq!(store_err.kind(), StoreErrorKind::Codec);
    let text = err.to_string();
    assert!(text.contains("an input"), "{text}");
    assert!(text.contains("`payload`"), "{text}");
    assert!(text.contains("did not run"), "{text}");
    assert!(!err.is_retryable());
    assert_eq!(RUNS.load(SeqCst), 0);
}

#[test]
fn an_output_that_cannot_be_serialized_is_returned_and_not_recorded() {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    #[idempotent(token = "token")]
    fn create(size: u32, token: &str) -> Refuses {
        RUNS.fetch_add(1, SeqCst);
        Refuses(size)
    }
    let captured = idempotent_tests::captured::Captured::default();
    let first = tracing::subscriber::with_default(captured.subscriber(), || create(4, "output"));
    assert_eq!(first.unwrap(), Refuses(4), "the caller gets its result");
    let errors = captured.outcomes("store_error");
    assert!(
        errors.iter().any(|line| line.contains("an output")),
        "{}",
        captured.text()
    );
    assert_eq!(create(4, "output").unwrap(), Refuses(4));
    assert_eq!(RUNS.load(SeqCst), 2, "nothing was recorded: the retry ran");
}
