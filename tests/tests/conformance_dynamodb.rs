//! The conformance suite on `DynamoDbStore`, against a DynamoDB-compatible server (moto, which
//! `scripts/test` starts), and what DynamoDB adds: one request for a replay, two for a first
//! call; an output too large for an item; an item this store did not write.
#![cfg(feature = "dynamodb")]

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

use idempotent_runtime::store::dynamodb::aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use idempotent_runtime::store::dynamodb::aws_sdk_dynamodb::config::{
    ConfigBag, Intercept, RuntimeComponents,
};
use idempotent_runtime::store::dynamodb::aws_sdk_dynamodb::error::BoxError;
use idempotent_runtime::store::dynamodb::aws_sdk_dynamodb::primitives::Blob;
use idempotent_runtime::store::dynamodb::aws_sdk_dynamodb::types::AttributeValue;
use idempotent_runtime::store::dynamodb::aws_sdk_dynamodb::Client;
use idempotent_runtime::store::Key;
use idempotent_runtime::testing::Harness;
use idempotent_runtime::{idempotent, DynamoDbStore, IdempotencyError};
use idempotent_tests::dynamodb_server;

/// A table per test, deleted when the test's harness is dropped.
struct DynamoDb {
    table: String,
}

impl DynamoDb {
    fn new() -> Self {
        dynamodb_server::require();
        Self {
            table: dynamodb_server::unique_table("conformance"),
        }
    }
}

impl Drop for DynamoDb {
    fn drop(&mut self) {
        dynamodb_server::delete_table(&self.table);
    }
}

impl Harness for DynamoDb {
    type Store = DynamoDbStore;

    async fn store(&self) -> DynamoDbStore {
        dynamodb_server::store(&self.table).await
    }

    async fn corrupt(&self, store: &DynamoDbStore, key: &Key) -> bool {
        store
            .client()
            .put_item()
            .table_name(store.table())
            .item("pk", AttributeValue::B(Blob::new(key.as_bytes())))
            .item("state", AttributeValue::S("not a record".into()))
            .send()
            .await
            .expect("overwrites the record");
        true
    }

    async fn unreachable(&self) -> Option<DynamoDbStore> {
        // Port 1 on loopback: nothing listens there.
        let client = dynamodb_server::client_for("http://127.0.0.1:1");
        Some(DynamoDbStore::new(client, "unreachable"))
    }
}

idempotent_runtime::store_conformance!(dynamodb_async, DynamoDb::new());

/// Counts the requests a client sends (each attempt, retries included).
#[derive(Debug, Default, Clone)]
struct Requests(Arc<AtomicUsize>);

impl Intercept for Requests {
    fn name(&self) -> &'static str {
        "count requests"
    }

    fn read_before_transmit(
        &self,
        _: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.fetch_add(1, SeqCst);
        Ok(())
    }
}

struct Volumes {
    store: DynamoDbStore,
    created: AtomicUsize,
}

impl Volumes {
    #[idempotent(token = "token", store = self.store, name = "CreateVolume")]
    async fn create(&self, size: u32, token: String) -> u32 {
        self.created.fetch_add(1, SeqCst);
        size
    }

    #[idempotent(token = "token", store = self.store, name = "Snapshot")]
    async fn snapshot(&self, bytes: usize, token: String) -> String {
        self.created.fetch_add(1, SeqCst);
        "x".repeat(bytes)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_call_is_two_requests_and_a_replay_or_a_mismatch_one() {
    let table = DynamoDb::new();
    dynamodb_server::store(&table.table).await;
    let requests = Requests::default();
    let config = dynamodb_server::client()
        .config()
        .to_builder()
        .interceptor(requests.clone())
        .build();
    let volumes = Volumes {
        store: DynamoDbStore::new(Client::from_conf(config), &table.table),
        created: AtomicUsize::new(0),
    };
    let sent = || requests.0.swap(0, SeqCst);
    assert_eq!(volumes.create(8, "r-1".into()).await.unwrap(), 8);
    assert_eq!(sent(), 2, "a first call: PutItem, then UpdateItem");
    assert_eq!(volumes.create(8, "r-1".into()).await.unwrap(), 8);
    assert_eq!(sent(), 1, "a replay: one PutItem answered with the record");
    assert!(matches!(
        volumes.create(9, "r-1".into()).await,
        Err(IdempotencyError::IdempotentParameterMismatch { .. })
    ));
    assert_eq!(sent(), 1, "a mismatch: the same one request");
    assert_eq!(volumes.created.load(SeqCst), 1);
}

/// An output larger than an item holds: the caller gets its result, nothing is recorded (no
/// half-written item), and the token is free again, so a retry runs the handler again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_output_too_large_for_an_item_is_returned_and_not_recorded() {
    let table = DynamoDb::new();
    let volumes = Volumes {
        store: dynamodb_server::store(&table.table).await,
        created: AtomicUsize::new(0),
    };
    let large = 500 * 1024;
    let captured = idempotent_tests::captured::Captured::default();
    let _events = tracing::subscriber::set_default(captured.subscriber());
    assert_eq!(
        volumes.snapshot(large, "big".into()).await.unwrap().len(),
        large
    );
    assert_eq!(
        volumes.snapshot(large, "big".into()).await.unwrap().len(),
        large
    );
    assert_eq!(
        volumes.created.load(SeqCst),
        2,
        "not recorded: the retry ran again"
    );
    let items = volumes
        .store
        .client()
        .scan()
        .table_name(&table.table)
        .send()
        .await
        .expect("scans");
    assert_eq!(items.count(), 0, "nothing half-written");
    assert!(
        captured.text().contains("idempotency record too large"),
        "the error is reported: {}",
        captured.text()
    );
}
