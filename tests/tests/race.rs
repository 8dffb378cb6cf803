//! The race: 64 threads (and 64 Tokio tasks) call with one token while the handler is slow.
//! The body runs exactly once per token; every other caller gets the replay or
//! `RequestInProgress` (`reject`), or the replay (`wait`). Repeated over 1,000 tokens.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier, LazyLock, Mutex};

use idempotent_runtime::{idempotent, IdempotencyError};

const CALLERS: usize = 64;
const TOKENS: usize = 1_000;

/// Executions per token, and the value each caller saw.
struct Tally {
    runs: Vec<AtomicUsize>,
    values: Mutex<Vec<Vec<String>>>,
    in_progress: AtomicUsize,
}

impl Tally {
    fn new() -> Self {
        Self {
            runs: (0..TOKENS).map(|_| AtomicUsize::new(0)).collect(),
            values: Mutex::new(vec![Vec::new(); TOKENS]),
            in_progress: AtomicUsize::new(0),
        }
    }

    /// The body of every handler: count the run, dawdle so callers overlap, answer.
    fn run(&self, token: usize) -> String {
        let run = self.runs[token].fetch_add(1, SeqCst);
        for _ in 0..20 {
            std::thread::yield_now();
        }
        format!("token-{token}-run-{run}")
    }

    fn record(&self, token: usize, result: Result<String, IdempotencyError>, wait: bool) {
        match result {
            Ok(value) => self.values.lock().unwrap()[token].push(value),
            Err(IdempotencyError::RequestInProgress { .. }) if !wait => {
                self.in_progress.fetch_add(1, SeqCst);
            }
            Err(other) => panic!("token {token}: unexpected {other:?}"),
        }
    }

    fn check(&self, wait: bool) {
        for (token, runs) in self.runs.iter().enumerate() {
            assert_eq!(
                runs.load(SeqCst),
                1,
                "token {token} ran {} times",
                runs.load(SeqCst)
            );
        }
        let values = self.values.lock().unwrap();
        let mut answered = self.in_progress.load(SeqCst);
        for (token, seen) in values.iter().enumerate() {
            let expected = format!("token-{token}-run-0");
            assert!(
                seen.iter().all(|value| *value == expected),
                "token {token}: {seen:?}"
            );
            answered += seen.len();
            if wait {
                assert_eq!(
                    seen.len(),
                    CALLERS,
                    "token {token}: every waiter gets the result"
                );
            }
        }
        assert_eq!(answered, CALLERS * TOKENS);
    }
}

fn token_text(token: usize) -> String {
    format!("race-{token}")
}

fn token_index(token: &str) -> usize {
    token
        .trim_start_matches("race-")
        .parse()
        .unwrap_or(usize::MAX)
}

fn race_threads(
    tally: &'static Tally,
    call: fn(usize) -> Result<String, IdempotencyError>,
    wait: bool,
) {
    let barrier = Arc::new(Barrier::new(CALLERS));
    let threads: Vec<_> = (0..CALLERS)
        .map(|_| {
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                for token in 0..TOKENS {
                    barrier.wait();
                    tally.record(token, call(token), wait);
                }
            })
        })
        .collect();
    threads
        .into_iter()
        .for_each(|thread| thread.join().unwrap());
    tally.check(wait);
}

static SYNC_REJECT: LazyLock<Tally> = LazyLock::new(Tally::new);
static SYNC_WAIT: LazyLock<Tally> = LazyLock::new(Tally::new);
static ASYNC_REJECT: LazyLock<Tally> = LazyLock::new(Tally::new);
static ASYNC_WAIT: LazyLock<Tally> = LazyLock::new(Tally::new);

#[idempotent(token = "token")]
fn create_rejecting(token: String) -> String {
    SYNC_REJECT.run(token_index(&token))
}

#[idempotent(token = "token", concurrent = "wait")]
fn create_waiting(token: String) -> String {
    SYNC_WAIT.run(token_index(&token))
}

#[test]
fn sixty_four_threads_reject_mode_run_once_per_token() {
    race_threads(
        &SYNC_REJECT,
        |token| create_rejecting(token_text(token)),
        false,
    );
}

#[test]
fn sixty_four_threads_wait_mode_all_get_the_one_result() {
    race_threads(&SYNC_WAIT, |token| create_waiting(token_text(token)), true);
}

#[idempotent(token = "token")]
async fn create_rejecting_async(token: String) -> String {
    tokio::task::yield_now().await;
    let value = ASYNC_REJECT.run(token_index(&token));
    tokio::task::yield_now().await;
    value
}

#[idempotent(token = "token", concurrent = "wait")]
async fn create_waiting_async(token: String) -> String {
    tokio::task::yield_now().await;
    let value = ASYNC_WAIT.run(token_index(&token));
    tokio::task::yield_now().await;
    value
}

async fn race_tasks<F, Fut>(tally: &'static Tally, call: F, wait: bool)
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<String, IdempotencyError>> + Send + 'static,
{
    for token in 0..TOKENS {
        let tasks: Vec<_> = (0..CALLERS)
            .map(|_| tokio::spawn(call(token_text(token))))
            .collect();
        for task in tasks {
            tally.record(token, task.await.unwrap(), wait);
        }
    }
    tally.check(wait);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_tasks_reject_mode_run_once_per_token() {
    race_tasks(&ASYNC_REJECT, create_rejecting_async, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_tasks_wait_mode_all_get_the_one_result() {
    race_tasks(&ASYNC_WAIT, create_waiting_async, true).await;
}
