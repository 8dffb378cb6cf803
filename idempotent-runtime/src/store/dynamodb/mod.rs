//! `DynamoDbStore`: records in a DynamoDB table, shared by a fleet on AWS (or on anything that
//! speaks DynamoDB's API). Feature `dynamodb`.
//!
//! Each record is one item (see `item.rs` for its attributes) whose partition key is the
//! record's key. Every step is one conditional request: `begin` is one `PutItem` that writes
//! only if no live record is there and otherwise answers the record it found
//! (`ReturnValuesOnConditionCheckFailure = ALL_OLD`), so a first call costs two requests
//! (with `complete`) and a replay or a mismatch one. `complete`, `release` and `renew` are
//! conditional on the owner's fence.
//!
//! DynamoDB has no clock of its own to offer a condition, so leases and TTLs are this
//! machine's wall-clock milliseconds, as with `SqliteStore`: a fleet's clocks must agree (NTP)
//! to well within a lease. DynamoDB's own TTL deletes expired items lazily (within days), so
//! every read checks the record's deadline itself. It has no notifications either: a waiter
//! (`concurrent = "wait"`) polls with a consistent read, from 10 ms backing off to 200 ms.

mod errors;
mod item;

use std::sync::Arc;
use std::time::{Duration, Instant};

pub use aws_sdk_dynamodb;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ReturnValue,
    ReturnValuesOnConditionCheckFailure, ScalarAttributeType, TableStatus, TimeToLiveSpecification,
};
use aws_sdk_dynamodb::Client;

use super::durable::{self, millis_i64, unix_millis_now, FenceSource};
use super::{AsyncStore, Begin, Fence, Finish};
use crate::{Fingerprint, Key, StoreError, StoreErrorKind};
use errors::error;
use item::{Item, EXPIRES, ITEM_LIMIT, ITEM_OVERHEAD, PK};

/// The condition of every step after `begin`: the record is in progress under the fence.
const OWNED: &str = "#fence = :fence AND #state = :p";

/// `request` (an `UpdateItem` or a `DeleteItem`) conditioned on [`OWNED`] for `fence`.
macro_rules! owned_by {
    ($request:expr, $fence:expr) => {
        $request
            .condition_expression(OWNED)
            .expression_attribute_names("#fence", "fence")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":fence", item::number($fence.0))
            .expression_attribute_values(":p", item::text("p"))
    };
}

/// A store in a DynamoDB table, for a fleet on AWS.
///
/// Build it from an [`aws_sdk_dynamodb::Client`] (re-exported as
/// [`store::dynamodb::aws_sdk_dynamodb`](aws_sdk_dynamodb), so the versions match) and the
/// table's name. The table needs a partition key `pk` of type binary and nothing else;
/// on-demand capacity suits it, and DynamoDB's TTL on the attribute `expires` keeps it small.
/// [`create_table`](Self::create_table) makes exactly that (for tests and first deployments;
/// production tables usually come from infrastructure code):
///
/// ```text
/// aws dynamodb create-table --table-name idempotency \
///     --attribute-definitions AttributeName=pk,AttributeType=B \
///     --key-schema AttributeName=pk,KeyType=HASH --billing-mode PAY_PER_REQUEST
/// aws dynamodb update-time-to-live --table-name idempotency \
///     --time-to-live-specification Enabled=true,AttributeName=expires
/// ```
///
/// Async handlers only. An output larger than an item holds (400 KB with the record's other
/// attributes) is not recorded: the caller gets its result, the token is released, and the
/// call emits a `Store` error of kind [`TooLarge`](StoreErrorKind::TooLarge). A key over
/// DynamoDB's 2,048-byte partition key limit (a very long `scope`) fails closed.
///
/// ```no_run
/// # #[cfg(feature = "dynamodb")] {
/// use idempotent_runtime::store::dynamodb::aws_sdk_dynamodb::{config, Client, Config};
/// use idempotent_runtime::{idempotent, DynamoDbStore};
///
/// struct Service { store: DynamoDbStore }
///
/// impl Service {
///     #[idempotent(token = "token", store = self.store, name = "CreateVolume")]
///     async fn create_volume(&self, size: u32, token: String) -> u32 {
///         size
///     }
/// }
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// // With `aws-config`: `Client::new(&aws_config::load_from_env().await)`.
/// let config = Config::builder()
///     .behavior_version(config::BehaviorVersion::latest())
///     .region(config::Region::new("eu-west-1"))
///     .build();
/// let service = Service { store: DynamoDbStore::new(Client::from_conf(config), "idempotency") };
/// assert_eq!(service.create_volume(8, "t-1".into()).await?, 8);
/// # Ok(()) }
/// # }
/// ```
#[derive(Clone)]
pub struct DynamoDbStore {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    table: String,
    fences: FenceSource,
}

impl DynamoDbStore {
    /// A store in `table`, through `client`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            inner: Arc::new(Inner {
                client,
                table: table.into(),
                fences: FenceSource::new(),
            }),
        }
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.inner.table
    }

    /// The client the store sends its requests through.
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// Creates the table (partition key `pk`, binary; on-demand capacity), waits until it is
    /// active, and turns on DynamoDB's TTL on `expires`. A table that exists already is left
    /// as it is.
    pub async fn create_table(&self) -> Result<(), StoreError> {
        let client = &self.inner.client;
        let definition = AttributeDefinition::builder()
            .attribute_name(PK)
            .attribute_type(ScalarAttributeType::B)
            .build()
            .map_err(|err| built("the key's definition", err))?;
        let key = KeySchemaElement::builder()
            .attribute_name(PK)
            .key_type(KeyType::Hash)
            .build()
            .map_err(|err| built("the key schema", err))?;
        let created = client
            .create_table()
            .table_name(self.table())
            .attribute_definitions(definition)
            .key_schema(key)
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await;
        if let Err(err) = created {
            let exists = err
                .as_service_error()
                .is_some_and(|err| err.is_resource_in_use_exception());
            if !exists {
                return Err(error("create the table", err));
            }
        }
        self.until_active().await?;
        let ttl = TimeToLiveSpecification::builder()
            .enabled(true)
            .attribute_name(EXPIRES)
            .build()
            .map_err(|err| built("the TTL setting", err))?;
        let enabled = client
            .update_time_to_live()
            .table_name(self.table())
            .time_to_live_specification(ttl)
            .send()
            .await;
        match enabled {
            // Already on: DynamoDB refuses to turn it on twice.
            Err(err) if err.code() != Some("ValidationException") => {
                Err(error("turn on the table's TTL", err))
            }
            _ => Ok(()),
        }
    }

    async fn until_active(&self) -> Result<(), StoreError> {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let table = self
                .inner
                .client
                .describe_table()
                .table_name(self.table())
                .send()
                .await
                .map_err(|err| error("describe the table", err))?;
            let status = table.table().and_then(|table| table.table_status());
            if status == Some(&TableStatus::Active) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(StoreError::new(
                    StoreErrorKind::Unavailable,
                    format!("dynamodb: the table {} did not become active", self.table()),
                ));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let answer = self
            .inner
            .client
            .get_item()
            .table_name(self.table())
            .key(PK, item::key(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|err| error("read the record", err))?;
        Ok(answer.item)
    }

    async fn finish_complete(
        &self,
        key: &Key,
        fence: Fence,
        output: &[u8],
        ttl: Duration,
    ) -> Result<Finish, StoreError> {
        let deadline = unix_millis_now().saturating_add(millis_i64(ttl));
        let answer = self
            .owned_update(key, fence)
            .update_expression(
                "SET #state = :c, #output = :output, #deadline = :deadline, #expires = :expires",
            )
            .expression_attribute_names("#output", "output")
            .expression_attribute_names("#deadline", "deadline")
            .expression_attribute_names("#expires", EXPIRES)
            .expression_attribute_values(":c", item::text("c"))
            .expression_attribute_values(":output", item::bytes(output))
            .expression_attribute_values(":deadline", item::number(deadline))
            .expression_attribute_values(":expires", item::expires(deadline, 0))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match answer {
            Ok(_) => Ok(Finish::Done),
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                    let repeated = failed
                        .item()
                        .is_some_and(|item| item::completed_by(item, fence));
                    Ok(if repeated {
                        Finish::Done
                    } else {
                        Finish::NotOwner
                    })
                }
                _ => Err(error("complete the record", err)),
            },
        }
    }

    /// An `UpdateItem` of the record that applies only while `fence` owns it in progress
    /// ([`OWNED`], with its names and values set).
    fn owned_update(&self, key: &Key, fence: Fence) -> UpdateItemFluentBuilder {
        let update = self.inner.client.update_item();
        owned_by!(
            update.table_name(self.table()).key(PK, item::key(key)),
            fence
        )
    }

    async fn finish_release(&self, key: &Key, fence: Fence) -> Result<Finish, StoreError> {
        let delete = self.inner.client.delete_item();
        let answer = owned_by!(
            delete.table_name(self.table()).key(PK, item::key(key)),
            fence
        )
        .send()
        .await;
        finished(
            answer,
            DeleteItemError::is_conditional_check_failed_exception,
            "release the record",
        )
    }
}

/// A fenced step's answer: done, or not the owner when the condition refused it.
fn finished<T, E, R>(
    answer: Result<T, SdkError<E, R>>,
    refused: fn(&E) -> bool,
    doing: &str,
) -> Result<Finish, StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match answer {
        Ok(_) => Ok(Finish::Done),
        Err(err) if err.as_service_error().is_some_and(refused) => Ok(Finish::NotOwner),
        Err(err) => Err(error(doing, err)),
    }
}

/// A request the SDK could not build (a missing required field): a bug of ours, reported.
fn built(what: &str, err: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::from_driver(
        StoreErrorKind::Other,
        format!("dynamodb: could not build {what}"),
        err,
    )
}

#[diagnostic::do_not_recommend]
impl AsyncStore for DynamoDbStore {
    async fn begin(
        &self,
        key: &Key,
        fingerprint: &Fingerprint,
        lease: Duration,
    ) -> Result<Begin, StoreError> {
        let now = unix_millis_now();
        let fence = self.inner.fences.next();
        let deadline = now.saturating_add(millis_i64(lease));
        let answer = self
            .inner
            .client
            .put_item()
            .table_name(self.table())
            .set_item(Some(item::in_progress(key, fingerprint, fence, deadline)))
            .condition_expression("attribute_not_exists(#pk) OR #deadline <= :now")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#deadline", "deadline")
            .expression_attribute_values(":now", item::number(now))
            .return_values(ReturnValue::AllOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match answer {
            Ok(put) => {
                let took_over = put
                    .attributes()
                    .is_some_and(|old| item::state_of(old) == Some("p"));
                Ok(Begin::Acquired { fence, took_over })
            }
            Err(err) => match err.as_service_error() {
                // The condition is checked atomically against the item it returns, so that
                // item is live (or not one this store wrote, which `existing` reports).
                Some(PutItemError::ConditionalCheckFailedException(failed)) => {
                    match failed.item() {
                        Some(found) => item::existing(found, now),
                        None => Err(StoreError::new(
                            StoreErrorKind::Unavailable,
                            "dynamodb: the condition failed without the record; retry",
                        )),
                    }
                }
                _ => Err(error("begin", err)),
            },
        }
    }

    async fn complete(
        &self,
        key: &Key,
        fence: Fence,
        output: &[u8],
        ttl: Duration,
    ) -> Result<Finish, StoreError> {
        if output.len() + ITEM_OVERHEAD > ITEM_LIMIT {
            // Nothing half-written: the record is released, so a retry runs the handler again.
            let _ = self.release(key, fence).await;
            return Err(StoreError::new(
                StoreErrorKind::TooLarge,
                format!(
                    "dynamodb: the output is {} bytes; an item holds at most {ITEM_LIMIT} bytes with the record's other attributes",
                    output.len()
                ),
            ));
        }
        let (store, key, output) = (self.clone(), key.clone(), output.to_vec());
        durable::run_to_end(async move { store.finish_complete(&key, fence, &output, ttl).await })
            .await
    }

    async fn release(&self, key: &Key, fence: Fence) -> Result<Finish, StoreError> {
        let (store, key) = (self.clone(), key.clone());
        durable::run_to_end(async move { store.finish_release(&key, fence).await }).await
    }

    async fn renew(&self, key: &Key, fence: Fence, lease: Duration) -> Result<Finish, StoreError> {
        let deadline = unix_millis_now().saturating_add(millis_i64(lease));
        let retention = millis_i64(super::ABANDONED_RETENTION);
        let answer = self
            .owned_update(key, fence)
            .update_expression("SET #deadline = :deadline, #expires = :expires")
            .expression_attribute_names("#deadline", "deadline")
            .expression_attribute_names("#expires", EXPIRES)
            .expression_attribute_values(":deadline", item::number(deadline))
            .expression_attribute_values(":expires", item::expires(deadline, retention))
            .send()
            .await;
        finished(
            answer,
            UpdateItemError::is_conditional_check_failed_exception,
            "renew the lease",
        )
    }

    /// Polls the record with a consistent read (DynamoDB sends no notifications), from 10 ms
    /// backing off to 200 ms, until its owner no longer runs it or `timeout` passes.
    async fn wait(&self, key: &Key, owner: Fence, timeout: Duration) -> Result<(), StoreError> {
        let deadline = Instant::now() + timeout;
        let mut pause = Duration::from_millis(10);
        loop {
            let running = self
                .get(key)
                .await?
                .is_some_and(|found| item::running_under(&found, owner, unix_millis_now()));
            let left = deadline.saturating_duration_since(Instant::now());
            if !running || left.is_zero() {
                return Ok(());
            }
            tokio::time::sleep(pause.min(left)).await;
            pause = (pause * 2).min(Duration::from_millis(200));
        }
    }

    fn release_detached(&self, key: Key, fence: Fence) {
        durable::spawn_release(self, key, fence);
    }
}
