//! Async handlers: replay, mismatch, release on error, panic and cancellation, methods and
//! native async trait methods, and `concurrent = "wait"` (replay, run-instead, take-over).

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{LazyLock, Mutex};

use idempotent_runtime::{idempotent, IdempotencyError, MemoryStore};
use tokio::sync::oneshot;

#[idempotent(token = "client_token")]
async fn create_route_table(
    vpc_id: String,
    client_token: Option<String>,
) -> Result<String, String> {
    tokio::task::yield_now().await;
    if vpc_id.is_empty() {
        return Err("missing vpc".into());
    }
    Ok(format!("rtb-for-{vpc_id}"))
}

#[tokio::test]
async fn an_async_handler_replays_and_rejects_other_arguments() {
    let token = Some("async-1".to_string());
    let first = create_route_table("vpc-a".into(), token.clone())
        .await
        .unwrap();
    assert_eq!(
        create_route_table("vpc-a".into(), token.clone())
            .await
            .unwrap(),
        first
    );
    let err: CreateRouteTableError = create_route_table("vpc-b".into(), token).await.unwrap_err();
    assert!(
        matches!(err, IdempotencyError::IdempotentParameterMismatch { ref mismatched, .. } if mismatched == &["vpc_id"])
    );
    assert!(matches!(
        create_route_table(String::new(), None).await,
        Err(IdempotencyError::Handler(_))
    ));
}

/// One-shot signals a test uses to hold an async handler inside its body.
struct Hold {
    started: Option<oneshot::Sender<()>>,
    release: Option<oneshot::Receiver<()>>,
}

static HOLDS: LazyLock<Mutex<Vec<(String, Hold)>>> = LazyLock::new(|| Mutex::new(Vec::new()));

/// Makes the next run with `tag` stop until released; returns (started, release).
fn hold_next(tag: &str) -> (oneshot::Receiver<()>, oneshot::Sender<()>) {
    let (started_tx, started_rx) = oneshot::channel();
    let (release_tx, release_rx) = oneshot::channel();
    let hold = Hold {
        started: Some(started_tx),
        release: Some(release_rx),
    };
    HOLDS.lock().unwrap().push((tag.to_owned(), hold));
    (started_rx, release_tx)
}

/// Called inside handler bodies: stops here if a test asked for it.
async fn maybe_hold(tag: &str) {
    let hold = {
        let mut holds = HOLDS.lock().unwrap();
        let at = holds.iter().position(|(t, _)| t == tag);
        at.map(|at| holds.remove(at).1)
    };
    if let Some(mut hold) = hold {
        if let Some(started) = hold.started.take() {
            let _ = started.send(());
        }
        if let Some(release) = hold.release.take() {
            let _ = release.await;
        }
    }
}

static RUNS: LazyLock<Mutex<Vec<String>>> = LazyLock::new(|| Mutex::new(Vec::new()));

fn runs_of(tag: &str) -> usize {
    RUNS.lock().unwrap().iter().filter(|t| *t == tag).count()
}

#[idempotent(token = "token")]
async fn held(tag: String, token: String) -> String {
    let run = runs_of(&tag);
    RUNS.lock().unwrap().push(tag.clone());
    maybe_hold(&tag).await;
    format!("{tag}-run-{run}")
}

#[idempotent(token = "token", concurrent = "wait")]
async fn held_waiting(tag: String, token: String) -> Result<String, String> {
    let run = runs_of(&tag);
    RUNS.lock().unwrap().push(tag.clone());
    maybe_hold(&tag).await;
    if tag.starts_with("fail") && run == 0 {
        return Err("first run fails".into());
    }
    Ok(format!("{tag}-run-{run}"))
}

// A stuck worker: with the heartbeat off, its lease ends even though it is still running.
#[idempotent(
    token = "token",
    concurrent = "wait",
    lease = "200ms",
    heartbeat = false
)]
async fn held_short_lease(tag: String, token: String) -> String {
    let run = runs_of(&tag);
    RUNS.lock().unwrap().push(tag.clone());
    maybe_hold(&tag).await;
    format!("{tag}-run-{run}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_call_releases_the_token() {
    let (started, _release) = hold_next("cancel");
    let call = tokio::spawn(held("cancel".into(), "cancel-token".into()));
    started.await.unwrap();
    assert!(matches!(
        held("cancel".into(), "cancel-token".into()).await,
        Err(IdempotencyError::RequestInProgress { .. })
    ));
    call.abort();
    assert!(call.await.unwrap_err().is_cancelled());
    assert_eq!(
        held("cancel".into(), "cancel-token".into()).await.unwrap(),
        "cancel-run-1"
    );
    assert_eq!(runs_of("cancel"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_async_handler_releases_the_token() {
    static PANICS: AtomicUsize = AtomicUsize::new(0);
    #[idempotent(token = "token")]
    async fn create(size: u32, token: String) -> u32 {
        if PANICS.fetch_add(1, SeqCst) == 0 {
            panic!("first run panics");
        }
        size
    }
    let first = tokio::spawn(create(2, "async-panic".into())).await;
    assert!(first.unwrap_err().is_panic());
    assert_eq!(create(2, "async-panic".into()).await.unwrap(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiter_replays_the_first_result() {
    let (started, release) = hold_next("wait-replay");
    let first = tokio::spawn(held_waiting("wait-replay".into(), "w-1".into()));
    started.await.unwrap();
    let waiter = tokio::spawn(held_waiting("wait-replay".into(), "w-1".into()));
    tokio::task::yield_now().await;
    release.send(()).unwrap();
    assert_eq!(first.await.unwrap().unwrap(), "wait-replay-run-0");
    assert_eq!(waiter.await.unwrap().unwrap(), "wait-replay-run-0");
    assert_eq!(runs_of("wait-replay"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiter_runs_instead_when_the_first_run_fails() {
    let (started, release) = hold_next("fail-then-run");
    let first = tokio::spawn(held_waiting("fail-then-run".into(), "w-2".into()));
    started.await.unwrap();
    let waiter = tokio::spawn(held_waiting("fail-then-run".into(), "w-2".into()));
    tokio::task::yield_now().await;
    release.send(()).unwrap();
    assert!(matches!(
        first.await.unwrap(),
        Err(IdempotencyError::Handler(_))
    ));
    assert_eq!(waiter.await.unwrap().unwrap(), "fail-then-run-run-1");
    assert_eq!(runs_of("fail-then-run"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiter_takes_over_after_the_lease_and_the_old_owner_is_fenced_off() {
    let (started, release) = hold_next("stuck");
    let stuck = tokio::spawn(held_short_lease("stuck".into(), "w-3".into()));
    started.await.unwrap();
    // The waiter outlives the 200 ms lease of the stuck run, then takes over and runs.
    let taken_over = held_short_lease("stuck".into(), "w-3".into())
        .await
        .unwrap();
    assert_eq!(taken_over, "stuck-run-1");
    release.send(()).unwrap();
    assert_eq!(
        stuck.await.unwrap().unwrap(),
        "stuck-run-0",
        "the old owner answers its caller"
    );
    assert_eq!(
        held_short_lease("stuck".into(), "w-3".into())
            .await
            .unwrap(),
        "stuck-run-1"
    );
    assert_eq!(runs_of("stuck"), 2);
}

struct Accounts {
    store: MemoryStore,
    balance: u64,
}

impl Accounts {
    #[idempotent(token = "token", store = self.store)]
    async fn deposit(&mut self, amount: u64, token: &str) -> u64 {
        tokio::task::yield_now().await;
        self.balance += amount;
        self.balance
    }
}

trait Ledger {
    async fn post(&self, amount: u64, token: String) -> Result<u64, IdempotencyError<String>>;
}

struct Books {
    store: MemoryStore,
    posted: AtomicUsize,
}

impl Ledger for Books {
    #[idempotent(token = "token", store = self.store)]
    async fn post(&self, amount: u64, token: String) -> Result<u64, String> {
        self.posted.fetch_add(1, SeqCst);
        Ok(amount)
    }
}

#[tokio::test]
async fn async_methods_and_native_async_trait_methods_replay() {
    let mut accounts = Accounts {
        store: MemoryStore::new(),
        balance: 0,
    };
    assert_eq!(accounts.deposit(10, "dep-1").await.unwrap(), 10);
    assert_eq!(accounts.deposit(10, "dep-1").await.unwrap(), 10);
    assert_eq!(accounts.balance, 10);

    let books = Books {
        store: MemoryStore::new(),
        posted: AtomicUsize::new(0),
    };
    assert_eq!(books.post(3, "post-1".into()).await.unwrap(), 3);
    assert_eq!(books.post(3, "post-1".into()).await.unwrap(), 3);
    assert_eq!(books.posted.load(SeqCst), 1);
}

static BLOCKING_STARTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Blocks its thread (not awaiting) for five leases.
#[idempotent(token = "token", lease = "100ms")]
async fn blocks_its_thread(token: String) -> u32 {
    BLOCKING_STARTED.store(true, std::sync::atomic::Ordering::SeqCst);
    std::thread::sleep(std::time::Duration::from_millis(500));
    7
}

/// On the in-process default store an async handler's record is held while it runs, even
/// when its task is not polled (here it blocks its thread): no timer has to fire to keep it.
#[test]
fn an_async_handler_on_the_memory_store_holds_its_record_while_it_runs() {
    let runtime = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    };
    let owner =
        std::thread::spawn(move || runtime().block_on(blocks_its_thread("held-async".into())));
    while !BLOCKING_STARTED.load(std::sync::atomic::Ordering::SeqCst) {
        assert!(!owner.is_finished(), "the owner ended before its body ran");
        std::thread::yield_now();
    }
    // Past the owner's 100 ms lease, well before its body returns.
    std::thread::sleep(std::time::Duration::from_millis(200));
    let duplicate = runtime().block_on(blocks_its_thread("held-async".into()));
    assert!(
        matches!(duplicate, Err(IdempotencyError::RequestInProgress { .. })),
        "{duplicate:?}"
    );
    assert_eq!(owner.join().unwrap().unwrap(), 7);
}
