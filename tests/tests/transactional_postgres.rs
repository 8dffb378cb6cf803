//! Transactional mode on PostgreSQL (`tx = "tx"` on async handlers): the record is written in
//! the caller's transaction with the handler's own order row, so both commit or neither does.
#![cfg(feature = "postgres")]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;

use idempotent_runtime::store::postgres::deadpool_postgres;
use idempotent_runtime::{IdempotencyError, Outcome};
use idempotent_tests::orders_pg::{connect, Orders};
use idempotent_tests::stores::{postgres, within_timeout};
use tokio::sync::{Barrier, Mutex, MutexGuard};

/// The tests that open 64 connections take turns: together they would pass the server's
/// `max_connections` (100 by default).
async fn sixty_four_connections() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::const_new(());
    TURN.lock().await
}

/// A committed call writes one order; its retry in a new transaction on another connection
/// replays the id and writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_committed_call_replays_and_writes_its_order_once() {
    let db = postgres("tx_once").await;
    let orders = Orders::open(db.store.clone()).await;
    let mut first = connect().await;
    let tx = first.transaction().await.unwrap();
    let id = orders.create("widget".into(), 3, "o-1", &tx).await.unwrap();
    tx.commit().await.unwrap();
    let mut other = connect().await;
    let tx = other.transaction().await.unwrap();
    let again = orders
        .create_with_outcome("widget".into(), 3, "o-1", &tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(again.replayed());
    assert_eq!(*again.value(), id);
    assert_eq!(orders.count().await, 1);
}

/// The caller's own rollback after a successful handler leaves neither order nor record: the
/// retry runs at once (no lease to wait out) and writes the one order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollback_leaves_no_record_and_the_retry_runs_at_once() {
    let db = postgres("tx_rollback").await;
    let orders = Orders::open(db.store.clone()).await;
    let mut caller = connect().await;
    let tx = caller.transaction().await.unwrap();
    orders.create("widget".into(), 3, "o-2", &tx).await.unwrap();
    tx.rollback().await.unwrap();
    assert_eq!((orders.count().await, orders.records().await), (0, 0));
    let tx = caller.transaction().await.unwrap();
    let retried = orders
        .create_with_outcome("widget".into(), 3, "o-2", &tx)
        .await
        .unwrap();
    assert!(!retried.replayed(), "the retry ran");
    tx.commit().await.unwrap();
    assert_eq!((orders.count().await, orders.records().await), (1, 1));
}

/// A handler that panics after its write unwinds through the caller's transaction, which
/// rolls back when dropped: no order, no record, and the retry writes one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_after_the_write_leaves_nothing_and_the_retry_writes_once() {
    let db = postgres("tx_panic").await;
    let orders = Arc::new(Orders::open(db.store.clone()).await);
    orders.panic_after_the_next_write();
    let caller = {
        let orders = orders.clone();
        tokio::spawn(async move {
            let mut client = connect().await;
            let tx = client.transaction().await.unwrap();
            let _ = orders.create("widget".into(), 3, "o-3", &tx).await;
            tx.commit().await.unwrap();
        })
    };
    assert!(caller.await.unwrap_err().is_panic());
    let mut client = connect().await;
    let tx = client.transaction().await.unwrap();
    let retried = orders
        .create_with_outcome("widget".into(), 3, "o-3", &tx)
        .await
        .unwrap();
    assert!(!retried.replayed(), "the retry ran at once");
    tx.commit().await.unwrap();
    assert_eq!((orders.count().await, orders.records().await), (1, 1));
}

/// A call dropped (cancelled) after the handler's write, its transaction then dropped
/// without a commit, leaves nothing: the retry runs at once and writes one order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_call_leaves_nothing_and_the_retry_writes_once() {
    let db = postgres("tx_dropped").await;
    let orders = Orders::open(db.store.clone()).await;
    let written = orders.park_after_the_next_write();
    let mut client = connect().await;
    {
        let tx = client.transaction().await.unwrap();
        let call = orders.create("widget".into(), 3, "o-8", &tx);
        tokio::select! {
            answer = call => panic!("the parked handler answered: {answer:?}"),
            _ = written => {} // the call is dropped here, after the write
        }
    }
    let tx = client.transaction().await.unwrap();
    let retried = orders
        .create_with_outcome("widget".into(), 3, "o-8", &tx)
        .await
        .unwrap();
    assert!(!retried.replayed(), "the retry ran at once");
    tx.commit().await.unwrap();
    assert_eq!((orders.count().await, orders.records().await), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_request_under_a_committed_token_is_a_mismatch_inside_the_transaction() {
    let db = postgres("tx_mismatch").await;
    let orders = Orders::open(db.store.clone()).await;
    let mut caller = connect().await;
    let tx = caller.transaction().await.unwrap();
    orders.create("widget".into(), 3, "o-4", &tx).await.unwrap();
    tx.commit().await.unwrap();
    let tx = caller.transaction().await.unwrap();
    let err = orders
        .create("widget".into(), 4, "o-4", &tx)
        .await
        .unwrap_err();
    assert!(
        matches!(err, IdempotencyError::IdempotentParameterMismatch { ref mismatched, .. } if mismatched == &["quantity"]),
        "{err:?}"
    );
    // The mismatch raised no SQL error: the caller's transaction is still usable.
    tx.execute("SELECT 1", &[]).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(orders.count().await, 1);
}

/// An `Err` writes no record (the caller decides what to commit); with `cache_errors` it is
/// recorded in the transaction and replayed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_is_recorded_only_with_cache_errors() {
    let db = postgres("tx_errors").await;
    let orders = Orders::open(db.store.clone()).await;
    let mut caller = connect().await;
    let tx = caller.transaction().await.unwrap();
    assert!(orders.create("widget".into(), 0, "o-5", &tx).await.is_err());
    tx.commit().await.unwrap();
    assert_eq!(orders.records().await, 0);
    let tx = caller.transaction().await.unwrap();
    assert!(
        orders.create("widget".into(), 1, "o-5", &tx).await.is_ok(),
        "not recorded: the token is free"
    );
    tx.commit().await.unwrap();
    let tx = caller.transaction().await.unwrap();
    let first = orders
        .create_strict_with_outcome("widget".into(), 0, "o-6", &tx)
        .await;
    assert!(matches!(first, Err(IdempotencyError::Handler(_))));
    tx.commit().await.unwrap();
    let tx = caller.transaction().await.unwrap();
    let replayed = orders
        .create_strict("widget".into(), 0, "o-6", &tx)
        .await
        .unwrap_err();
    assert!(
        matches!(replayed, IdempotencyError::Handler(ref e) if e == "quantity must be positive")
    );
    tx.commit().await.unwrap();
    assert_eq!((orders.count().await, orders.records().await), (1, 2));
}

/// What one racing caller got.
type Answer = Result<Outcome<i64>, IdempotencyError<String>>;

/// 64 tasks, each with its own connection and transaction, call with one token at once
/// (`concurrent = "wait"` or the default `"reject"`) and commit.
async fn race(orders: &Arc<Orders>, wait: bool) -> Vec<Answer> {
    let start = Arc::new(Barrier::new(64));
    let callers: Vec<_> = (0..64)
        .map(|_| {
            let (orders, start) = (orders.clone(), start.clone());
            tokio::spawn(async move {
                let mut own = connect().await;
                start.wait().await;
                let tx = own.transaction().await.unwrap();
                let (item, token) = (String::from("widget"), "o-race");
                let answer = if wait {
                    orders
                        .create_waiting_with_outcome(item, 3, token, &tx)
                        .await
                } else {
                    orders.create_with_outcome(item, 3, token, &tx).await
                };
                tx.commit().await.unwrap();
                answer
            })
        })
        .collect();
    let mut answers = Vec::new();
    for caller in callers {
        answers.push(caller.await.unwrap());
    }
    answers
}

/// Under `concurrent = "wait"` the duplicates wait on the record's key until the first
/// commits, then replay it: one order, and 63 replays of its id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_racing_transactions_write_one_order_and_wait_for_it() {
    within_timeout(async {
        let _turn = sixty_four_connections().await;
        let db = postgres("tx_race_wait").await;
        let orders = Arc::new(Orders::open(db.store.clone()).await);
        let outcomes: Vec<_> = race(&orders, true)
            .await
            .into_iter()
            .map(|answer| answer.unwrap())
            .collect();
        let fresh: Vec<_> = outcomes.iter().filter(|o| !o.replayed()).collect();
        assert_eq!(fresh.len(), 1, "one caller ran the handler");
        assert!(outcomes.iter().all(|o| *o.value() == *fresh[0].value()));
        assert_eq!(orders.count().await, 1);
    })
    .await;
}

/// The same race under `concurrent = "reject"`: every caller is answered (none waits past the
/// others' commits), one order is written, and each other caller either replays it or was
/// told `RequestInProgress` while the first was still open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_racing_transactions_under_reject_write_one_order() {
    within_timeout(async {
        let _turn = sixty_four_connections().await;
        let db = postgres("tx_race_reject").await;
        let orders = Arc::new(Orders::open(db.store.clone()).await);
        let (mut created, mut replayed, mut busy) = (0, 0, 0);
        for answer in race(&orders, false).await {
            match answer {
                Ok(outcome) if outcome.replayed() => replayed += 1,
                Ok(_) => created += 1,
                Err(IdempotencyError::RequestInProgress { .. }) => busy += 1,
                Err(other) => panic!("unexpected answer: {other:?}"),
            }
        }
        assert_eq!(created, 1, "one caller ran the handler");
        assert_eq!(replayed + busy, 63);
        assert_eq!(orders.count().await, 1);
    })
    .await;
}

/// Under `reject`, while the first caller's transaction is open (its order written, not yet
/// committed), 63 duplicates on their own connections are all told `RequestInProgress`: none
/// waits on the first's row. Once it commits, a retry replays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_of_an_open_transaction_are_rejected_at_once() {
    within_timeout(async {
        let _turn = sixty_four_connections().await;
        let db = postgres("tx_reject_open").await;
        let orders = Arc::new(Orders::open(db.store.clone()).await);
        let mut owner = connect().await;
        let open = owner.transaction().await.unwrap();
        let id = orders
            .create("widget".into(), 3, "o-open", &open)
            .await
            .unwrap();
        let duplicates: Vec<_> = (0..63)
            .map(|_| {
                let orders = orders.clone();
                tokio::spawn(async move {
                    let mut own = connect().await;
                    let tx = own.transaction().await.unwrap();
                    let answer = orders.create("widget".into(), 3, "o-open", &tx).await;
                    // The caller's transaction is still usable after the answer.
                    tx.execute("SELECT 1", &[]).await.unwrap();
                    tx.rollback().await.unwrap();
                    answer
                })
            })
            .collect();
        for duplicate in duplicates {
            let answer = duplicate.await.unwrap();
            assert!(
                matches!(answer, Err(IdempotencyError::RequestInProgress { .. })),
                "{answer:?}"
            );
        }
        open.commit().await.unwrap();
        let mut client = connect().await;
        let tx = client.transaction().await.unwrap();
        assert_eq!(
            orders
                .create("widget".into(), 3, "o-open", &tx)
                .await
                .unwrap(),
            id
        );
        tx.commit().await.unwrap();
        assert_eq!(orders.count().await, 1);
    })
    .await;
}

/// A `reject` duplicate of an open `wait` caller is answered at once too: every caller in
/// transactional mode claims the key, whatever its own setting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reject_duplicate_of_an_open_wait_caller_is_answered_at_once() {
    within_timeout(async {
        let db = postgres("tx_mixed").await;
        let orders = Orders::open(db.store.clone()).await;
        let mut owner = connect().await;
        let open = owner.transaction().await.unwrap();
        orders
            .create_waiting("widget".into(), 3, "o-mixed", &open)
            .await
            .unwrap();
        let mut other = connect().await;
        let tx = other.transaction().await.unwrap();
        let answer = orders.create("widget".into(), 3, "o-mixed", &tx).await;
        assert!(
            matches!(answer, Err(IdempotencyError::RequestInProgress { .. })),
            "{answer:?}"
        );
        tx.rollback().await.unwrap();
        open.commit().await.unwrap();
        assert_eq!(orders.count().await, 1);
    })
    .await;
}

/// A record past its TTL is taken over by the next caller; while that caller's transaction is
/// open, a `reject` duplicate is answered at once (it does not wait on the row being
/// rewritten), and after the commit it replays the new run's id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_takeover_in_an_open_transaction_rejects_duplicates_at_once() {
    within_timeout(async {
        let db = postgres("tx_takeover").await;
        let orders = Orders::open(db.store.clone()).await;
        let mut owner = connect().await;
        let tx = owner.transaction().await.unwrap();
        let first = orders
            .create("widget".into(), 3, "o-ttl", &tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        // The TTL passes (set back rather than waited for).
        let expire = format!(
            "UPDATE \"{}\".records SET deadline = now() - interval '1 second'",
            db.store.schema()
        );
        owner.batch_execute(&expire).await.unwrap();
        let open = owner.transaction().await.unwrap();
        let second = orders
            .create_with_outcome("widget".into(), 3, "o-ttl", &open)
            .await
            .unwrap();
        assert!(!second.replayed(), "the expired record was taken over");
        assert_ne!(*second.value(), first);
        let mut other = connect().await;
        let tx = other.transaction().await.unwrap();
        let answer = orders.create("widget".into(), 3, "o-ttl", &tx).await;
        assert!(
            matches!(answer, Err(IdempotencyError::RequestInProgress { .. })),
            "{answer:?}"
        );
        tx.rollback().await.unwrap();
        open.commit().await.unwrap();
        let tx = other.transaction().await.unwrap();
        assert_eq!(
            orders
                .create("widget".into(), 3, "o-ttl", &tx)
                .await
                .unwrap(),
            *second.value()
        );
        tx.commit().await.unwrap();
        assert_eq!(orders.count().await, 2, "one order per TTL");
    })
    .await;
}

/// Under `wait`, a duplicate waits on the open transaction's row; when that transaction rolls
/// back, the duplicate runs the handler itself and writes the one order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_duplicate_runs_when_the_first_rolls_back() {
    within_timeout(async {
        let db = postgres("tx_wait_rollback").await;
        let orders = Arc::new(Orders::open(db.store.clone()).await);
        let mut owner = connect().await;
        let open = owner.transaction().await.unwrap();
        orders.create_waiting("widget".into(), 3, "o-wait", &open).await.unwrap();
        let (pid_tx, pid_rx) = tokio::sync::oneshot::channel();
        let duplicate = {
            let orders = orders.clone();
            tokio::spawn(async move {
                let mut own = connect().await;
                let pid: i32 = own.query_one("SELECT pg_backend_pid()", &[]).await.unwrap().get(0);
                let _ = pid_tx.send(pid);
                let tx = own.transaction().await.unwrap();
                let answer = orders
                    .create_waiting_with_outcome("widget".into(), 3, "o-wait", &tx)
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
                answer
            })
        };
        // Roll back only once the duplicate is seen waiting on the first's lock.
        let pid = pid_rx.await.unwrap();
        let watcher = connect().await;
        loop {
            let waiting: bool = watcher
                .query_one(
                    "SELECT coalesce(bool_or(wait_event_type = 'Lock'), false) FROM pg_stat_activity WHERE pid = $1",
                    &[&pid],
                )
                .await
                .unwrap()
                .get(0);
            if waiting {
                break;
            }
            tokio::task::yield_now().await;
        }
        open.rollback().await.unwrap();
        let outcome = duplicate.await.unwrap();
        assert!(!outcome.replayed(), "the duplicate ran the handler");
        assert_eq!(orders.count().await, 1);
    })
    .await;
}

/// A record written in transactional mode is the same record the store's ordinary mode reads:
/// on a deadpool transaction, then outside any transaction, the first call is replayed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadpool_transactions_and_the_ordinary_mode_share_the_table() {
    let db = postgres("tx_shared").await;
    let orders = Orders::open(db.store.clone()).await;
    let mut config = deadpool_postgres::Config::new();
    config.url = Some(idempotent_tests::postgres_server::url());
    let pool = config
        .create_pool(
            Some(deadpool_postgres::Runtime::Tokio1),
            idempotent_runtime::store::postgres::tokio_postgres::NoTls,
        )
        .unwrap();
    let mut pooled = pool.get().await.unwrap();
    for attempt in 0..2 {
        let tx = pooled.transaction().await.unwrap();
        let outcome = orders
            .create_pooled_with_outcome("widget".into(), 3, "o-7", &tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(outcome.replayed(), attempt == 1);
    }
    let outside = orders
        .create_outside_with_outcome("widget".into(), 3, "o-7".into())
        .await
        .unwrap();
    assert!(outside.replayed());
    assert_eq!(orders.count().await, 1);
}

/// Runs the worker process; answers its first line.
fn worker(schema: &str, token: &str, mode: &str) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_tx-worker"))
        .args(["postgres", schema, token, mode])
        .stdout(Stdio::piped())
        .spawn()
        .expect("starts the worker")
}

fn first_line(child: &mut std::process::Child) -> String {
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("its stdout"))
        .read_line(&mut line)
        .expect("reads the worker");
    line.trim().to_owned()
}

/// A worker killed (SIGKILL) after its handler wrote the order and before the commit leaves
/// nothing behind: the retry in another process runs at once, a third process replays, and
/// exactly one order exists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_before_its_commit_leaves_nothing_and_the_retry_writes_once() {
    let db = postgres("tx_crash").await;
    let orders = Orders::open(db.store.clone()).await;
    let schema = db.store.schema().to_owned();
    let crash = schema.clone();
    let (retry, replay) = tokio::task::spawn_blocking(move || {
        let mut doomed = worker(&crash, "o-crash", "hang");
        assert_eq!(
            first_line(&mut doomed),
            "written",
            "the handler wrote its order"
        );
        doomed.kill().expect("kills the worker");
        doomed.wait().expect("reaps the worker");
        let mut retry = worker(&crash, "o-crash", "commit");
        let retry = first_line(&mut retry);
        let mut replay = worker(&crash, "o-crash", "commit");
        (retry, first_line(&mut replay))
    })
    .await
    .unwrap();
    assert!(retry.ends_with("(created)"), "{retry}");
    assert_eq!(
        replay,
        retry.replace("created", "replayed"),
        "replayed across processes"
    );
    assert_eq!(orders.count().await, 1);
}
