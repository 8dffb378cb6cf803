//! Transactional mode on SQLite (`tx = "tx"`): the record is written in the caller's
//! transaction with the handler's own order row, so both commit or neither does.
#![cfg(feature = "sqlite")]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};

use idempotent_runtime::IdempotencyError;
use idempotent_tests::orders::{connection, count, Orders};
use idempotent_tests::stores::sqlite_path;
use rusqlite::TransactionBehavior::Immediate;

/// A committed call writes one order; its retry in a new transaction replays the id and
/// writes nothing, from another connection as from this one.
#[test]
fn a_committed_call_replays_and_writes_its_order_once() {
    let db = sqlite_path("tx_once");
    let orders = Orders::open(&db.store);
    let mut first = connection(&db.store);
    let tx = first.transaction().unwrap();
    let id = orders.create("widget".into(), 3, "o-1", &tx).unwrap();
    tx.commit().unwrap();
    let mut other = connection(&db.store);
    let tx = other.transaction().unwrap();
    assert_eq!(orders.create("widget".into(), 3, "o-1", &tx).unwrap(), id);
    tx.commit().unwrap();
    assert_eq!(count(&db.store), 1);
}

/// The caller's own rollback after a successful handler leaves neither order nor record: the
/// retry runs at once (no lease to wait out) and writes the one order.
#[test]
fn a_rollback_leaves_no_record_and_the_retry_runs_at_once() {
    let db = sqlite_path("tx_rollback");
    let orders = Orders::open(&db.store);
    let mut caller = connection(&db.store);
    let tx = caller.transaction().unwrap();
    orders.create("widget".into(), 3, "o-2", &tx).unwrap();
    tx.rollback().unwrap();
    assert_eq!(count(&db.store), 0);
    let tx = caller.transaction().unwrap();
    let retried = orders
        .create_with_outcome("widget".into(), 3, "o-2", &tx)
        .unwrap();
    assert!(!retried.replayed(), "the retry ran");
    tx.commit().unwrap();
    assert_eq!(count(&db.store), 1);
}

/// A panic after the handler's write unwinds through the caller's transaction, which rolls
/// back: no order, no record, and the retry writes one.
#[test]
fn a_panic_after_the_write_leaves_nothing_and_the_retry_writes_once() {
    let db = sqlite_path("tx_panic");
    let orders = Orders::open(&db.store);
    let mut caller = connection(&db.store);
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let tx = caller.transaction().unwrap();
        orders.create("widget".into(), 3, "o-3", &tx).unwrap();
        panic!("after the write, before the commit");
    }));
    assert!(panicked.is_err());
    assert_eq!(count(&db.store), 0);
    let tx = caller.transaction().unwrap();
    orders.create("widget".into(), 3, "o-3", &tx).unwrap();
    tx.commit().unwrap();
    assert_eq!(count(&db.store), 1);
}

#[test]
fn another_request_under_a_committed_token_is_a_mismatch_inside_the_transaction() {
    let db = sqlite_path("tx_mismatch");
    let orders = Orders::open(&db.store);
    let mut caller = connection(&db.store);
    let tx = caller.transaction().unwrap();
    orders.create("widget".into(), 3, "o-4", &tx).unwrap();
    tx.commit().unwrap();
    let tx = caller.transaction().unwrap();
    let err = orders.create("widget".into(), 4, "o-4", &tx).unwrap_err();
    assert!(
        matches!(err, IdempotencyError::IdempotentParameterMismatch { ref mismatched, .. } if mismatched == &["quantity"]),
        "{err:?}"
    );
    tx.commit().unwrap();
    assert_eq!(count(&db.store), 1);
}

/// An `Err` writes no record (the caller decides what to commit); with `cache_errors` it is
/// recorded in the transaction and replayed.
#[test]
fn an_error_is_recorded_only_with_cache_errors() {
    let db = sqlite_path("tx_errors");
    let orders = Orders::open(&db.store);
    let mut caller = connection(&db.store);
    let tx = caller.transaction().unwrap();
    assert!(orders.create("widget".into(), 0, "o-5", &tx).is_err());
    tx.commit().unwrap();
    let tx = caller.transaction().unwrap();
    assert!(
        orders.create("widget".into(), 1, "o-5", &tx).is_ok(),
        "not recorded: the token is free"
    );
    tx.commit().unwrap();
    let tx = caller.transaction().unwrap();
    let first = orders.create_strict_with_outcome("widget".into(), 0, "o-6", &tx);
    assert!(matches!(first, Err(IdempotencyError::Handler(_))));
    tx.commit().unwrap();
    let tx = caller.transaction().unwrap();
    let replayed = orders
        .create_strict("widget".into(), 0, "o-6", &tx)
        .unwrap_err();
    assert!(
        matches!(replayed, IdempotencyError::Handler(ref e) if e == "quantity must be positive")
    );
    tx.commit().unwrap();
    assert_eq!(count(&db.store), 1);
}

/// 64 threads, each with its own connection and transaction, race with one token: one
/// order is written and 63 callers replay its id.
#[test]
fn sixty_four_racing_transactions_write_one_order() {
    let db = sqlite_path("tx_race");
    let orders = Arc::new(Orders::open(&db.store));
    let start = Arc::new(Barrier::new(64));
    let callers: Vec<_> = (0..64)
        .map(|_| {
            let (orders, start, path) = (orders.clone(), start.clone(), db.store.clone());
            std::thread::spawn(move || {
                let mut own = connection(&path);
                start.wait();
                let tx = own.transaction_with_behavior(Immediate).unwrap();
                let outcome = orders
                    .create_with_outcome("widget".into(), 3, "o-race", &tx)
                    .unwrap();
                tx.commit().unwrap();
                outcome
            })
        })
        .collect();
    let outcomes: Vec<_> = callers.into_iter().map(|c| c.join().unwrap()).collect();
    let fresh: Vec<_> = outcomes.iter().filter(|o| !o.replayed()).collect();
    assert_eq!(fresh.len(), 1, "one caller ran the handler");
    assert!(outcomes.iter().all(|o| *o.value() == *fresh[0].value()));
    assert_eq!(count(&db.store), 1);
}

/// A worker killed (SIGKILL) after its handler wrote the order and before the commit leaves
/// nothing behind: the retry runs at once, and exactly one order exists.
#[test]
fn a_worker_killed_before_its_commit_leaves_nothing_and_the_retry_writes_once() {
    let db = sqlite_path("tx_crash");
    Orders::open(&db.store);
    let database = db.store.to_string_lossy().into_owned();
    let mut doomed = Command::new(env!("CARGO_BIN_EXE_tx-worker"))
        .args(["sqlite", database.as_str(), "o-crash", "hang"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("starts the worker");
    let mut line = String::new();
    BufReader::new(doomed.stdout.take().expect("its stdout"))
        .read_line(&mut line)
        .expect("reads the worker");
    assert_eq!(line.trim(), "written", "the handler wrote its order");
    doomed.kill().expect("kills the worker");
    doomed.wait().expect("reaps the worker");
    let retry = Command::new(env!("CARGO_BIN_EXE_tx-worker"))
        .args(["sqlite", database.as_str(), "o-crash", "commit"])
        .output()
        .expect("runs the retry");
    let answer = String::from_utf8_lossy(&retry.stdout);
    assert!(answer.ends_with("(created)\n"), "{answer}");
    assert_eq!(count(&db.store), 1);
}
