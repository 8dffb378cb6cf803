//! The decision hook sees every decision, so mismatches can be counted and alerted on.
//! (The hook is process-wide: this file is its own test binary with one test.)

use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use idempotent_runtime::fingerprint::Fingerprinter;
use idempotent_runtime::monitor::{
    set_decision_hook, Decision, DecisionHook, DecisionKind, OutcomeCounters,
};
use idempotent_runtime::store::{Key, Operation};
use idempotent_runtime::{idempotent, MemoryStore, Store};

static STORE: LazyLock<MemoryStore> = LazyLock::new(MemoryStore::new);

#[idempotent(token = "token", name = "CreateShare", store = &*STORE)]
fn create_share(name: String, token: &str) -> Result<String, String> {
    if name.is_empty() {
        return Err("empty name".into());
    }
    Ok(format!("share-{name}"))
}

/// Keeps the mismatched names the hook was given, beside the counters.
#[derive(Default)]
struct Recorder {
    counters: OutcomeCounters,
    mismatched: Mutex<Vec<Vec<String>>>,
}

impl DecisionHook for Recorder {
    fn record(&self, decision: &Decision<'_>) {
        self.counters.record(decision);
        if decision.kind == DecisionKind::Mismatch {
            self.mismatched
                .lock()
                .unwrap()
                .push(decision.mismatched.to_vec());
            assert_eq!(
                decision.operation.map(|op| op.to_string()),
                Some("CreateShare".into())
            );
            assert_eq!(decision.token, "m-1");
        }
    }
}

#[test]
fn every_decision_reaches_the_hook_once() {
    let recorder = Arc::new(Recorder::default());
    set_decision_hook(Arc::clone(&recorder)).expect("first hook");
    assert!(
        set_decision_hook(OutcomeCounters::default()).is_err(),
        "the hook is set once"
    );

    create_share("data".into(), "m-1").unwrap(); // executed
    create_share("data".into(), "m-1").unwrap(); // replayed
    create_share("other".into(), "m-1").unwrap_err(); // mismatch
    create_share(String::new(), "m-2").unwrap_err(); // released
    create_share("data".into(), "").unwrap_err(); // invalid token

    // A record held in progress by someone else.
    let key = Key::new(Operation::Named("CreateShare"), None, "m-3").unwrap();
    let mut fp = Fingerprinter::new();
    fp.param("name", "data");
    Store::begin(
        &*STORE,
        &key,
        &fp.finish().unwrap(),
        Duration::from_secs(60),
    )
    .unwrap();
    create_share("data".into(), "m-3").unwrap_err(); // in progress

    let counts = &recorder.counters;
    for (kind, expected) in [
        (DecisionKind::Executed, 1),
        (DecisionKind::Replayed, 1),
        (DecisionKind::Mismatch, 1),
        (DecisionKind::Released, 1),
        (DecisionKind::InvalidToken, 1),
        (DecisionKind::InProgress, 1),
        (DecisionKind::TakenOver, 0),
        (DecisionKind::StoreError, 0),
    ] {
        assert_eq!(counts.get(kind), expected, "{kind}");
    }
    assert_eq!(
        *recorder.mismatched.lock().unwrap(),
        [vec!["name".to_string()]]
    );
}
