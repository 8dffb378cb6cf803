//! The lease heartbeat on every store: a handler that runs for five leases is never taken over
//! and its result is recorded; with `heartbeat = false`, an owner that outlives its lease
//! several times over, with nobody else calling, still records its result (issue 7's first
//! defect: Redis dropped the record at twice the lease).

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use idempotent_runtime::{idempotent, AsyncStore, IdempotencyError};
use idempotent_tests::on_every_store;

const LEASE: Duration = Duration::from_millis(600);

struct Service<S> {
    store: S,
    runs: AtomicUsize,
}

impl<S: AsyncStore + Clone> Service<S> {
    fn new(store: S) -> Arc<Self> {
        Arc::new(Self {
            store,
            runs: AtomicUsize::new(0),
        })
    }

    /// Runs for `leases` leases, renewing its own.
    #[idempotent(token = "token", store = self.store, name = "Long", lease = "600ms")]
    async fn long(&self, leases: u32, token: String) -> usize {
        let run = self.runs.fetch_add(1, SeqCst);
        tokio::time::sleep(LEASE * leases).await;
        run
    }

    /// Runs for `leases` leases on a lease that is never renewed.
    #[idempotent(token = "token", store = self.store, name = "Late", lease = "600ms", heartbeat = false)]
    async fn late(&self, leases: u32, token: String) -> usize {
        let run = self.runs.fetch_add(1, SeqCst);
        tokio::time::sleep(LEASE * leases).await;
        run
    }
}

async fn a_long_handler_is_never_taken_over<S>(store: S)
where
    S: AsyncStore + Clone + Send + Sync + 'static,
{
    let service = Service::new(store);
    let running = tokio::spawn({
        let service = service.clone();
        async move { service.long(5, "five-leases".into()).await }
    });
    while service.runs.load(SeqCst) == 0 {
        assert!(!running.is_finished(), "the call ended before its body ran");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut duplicates = 0;
    while !running.is_finished() {
        match service.long(5, "five-leases".into()).await {
            Err(IdempotencyError::RequestInProgress { .. }) => duplicates += 1,
            Ok(run) if running.is_finished() => assert_eq!(run, 0, "the replay differs"),
            other => panic!("a duplicate got {other:?} while the first still ran"),
        }
        tokio::time::sleep(LEASE / 3).await;
    }
    assert!(duplicates >= 6, "only {duplicates} duplicates were tried");
    assert_eq!(running.await.unwrap().unwrap(), 0);
    assert_eq!(service.long(5, "five-leases".into()).await.unwrap(), 0);
    assert_eq!(service.runs.load(SeqCst), 1, "the handler ran twice");
}

on_every_store!(a_long_handler_is_never_taken_over);

async fn without_the_heartbeat_a_late_owner_still_records_its_result<S: AsyncStore + Clone>(
    store: S,
) {
    let service = Service::new(store);
    assert_eq!(service.late(4, "four-leases".into()).await.unwrap(), 0);
    assert_eq!(
        service.late(4, "four-leases".into()).await.unwrap(),
        0,
        "the late owner's result was lost"
    );
    assert_eq!(
        service.runs.load(SeqCst),
        1,
        "the retry ran the handler again"
    );
}

on_every_store!(without_the_heartbeat_a_late_owner_still_records_its_result);
