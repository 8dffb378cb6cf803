//! `PostgresStore`: records in PostgreSQL, beside a fleet's own data. Feature `postgres`.
//!
//! One table per schema (default `idempotent`), created by [`PostgresStore::migrate`] or by
//! your own migrations ([`PostgresStore::migration_sql`]). `begin` is one statement that
//! inserts a new key or takes over a dead record, and otherwise reads the live record without
//! writing (a replay costs no WAL and no commit wait); `complete` and `release` are single
//! statements conditioned on the fence. Waiters register on the record and `LISTEN` on the
//! schema's channel (`idempotent_{schema}`) rather than poll; `complete` and `release`
//! `NOTIFY` only a record that has waiters, since a notification serialises the commits of
//! the whole cluster. Expired rows stay until
//! [`PostgresStore::purge_expired`] removes them (call it from a periodic job); a dead row is
//! also replaced when its key is used again.
//!
//! Transactional mode (`#[idempotent(tx = "tx")]` on an async handler) runs the same statements
//! on the caller's open transaction, `&tokio_postgres::Transaction<'_>` or
//! `&deadpool_postgres::Transaction<'_>`: see [`AsyncInTransaction`](super::AsyncInTransaction).

mod errors;
mod listen;
mod sql;
mod transaction;

/// The pool this store is built on, for `tx: &deadpool_postgres::Transaction<'_>`.
pub use deadpool_postgres;
/// The driver this store is built on, so a handler's `tx: &tokio_postgres::Transaction<'_>`
/// (transactional mode) is of the version the store implements it for.
pub use tokio_postgres;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;

use super::durable::{self, FenceSource, StoredRecord};
use super::record::encode_params;
use super::{AsyncStore, Begin, Fence, Finish};
use crate::{Fingerprint, Key, StoreError, StoreErrorKind};
use errors::{error, pool_error};
use sql::Statements;

/// The schema when none is given.
pub const DEFAULT_SCHEMA: &str = "idempotent";

/// Connections in the pool when none is given.
pub const DEFAULT_POOL_SIZE: usize = 16;

/// A store in PostgreSQL, for a fleet recording idempotency beside its own data.
///
/// Async handlers only: `#[idempotent(store = ...)]` on a sync handler is a compile error.
///
/// ```no_run
/// # #[cfg(feature = "postgres")] {
/// use idempotent_runtime::{idempotent, PostgresStore};
///
/// struct Service { store: PostgresStore }
///
/// impl Service {
///     #[idempotent(token = "token", store = self.store, name = "CreateVolume")]
///     async fn create_volume(&self, size: u32, token: String) -> u32 {
///         size
///     }
/// }
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// let store = PostgresStore::new("postgres://postgres@127.0.0.1/app")?.with_schema("billing")?;
/// store.migrate().await?;
/// let service = Service { store };
/// assert_eq!(service.create_volume(8, "t-1".into()).await?, 8);
/// # Ok(()) }
/// # }
/// ```
#[derive(Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    config: tokio_postgres::Config,
    schema: String,
    pool_size: usize,
    sql: Statements,
    fences: FenceSource,
    /// The one connection all of this store's waiters listen on.
    listener: listen::Listener,
}

impl PostgresStore {
    /// A store for the database at `url` (`postgres://user@host:port/db` or `host=.. user=..`),
    /// in the schema [`DEFAULT_SCHEMA`]. Connections are made on first use, in a pool of
    /// [`DEFAULT_POOL_SIZE`].
    pub fn new(url: &str) -> Result<Self, StoreError> {
        let mut config = tokio_postgres::Config::from_str(url).map_err(|err| {
            StoreError::from_driver(
                StoreErrorKind::Other,
                "postgres: the URL does not parse",
                err,
            )
        })?;
        config.connect_timeout(Duration::from_secs(5));
        Self::with_config(config, DEFAULT_SCHEMA, DEFAULT_POOL_SIZE)
    }

    /// Puts the table in `schema`, to share a database between services or tests. The name
    /// is a lowercase identifier (`a-z`, `0-9`, `_`, not starting with a digit, at most 48
    /// characters); SQL keywords such as `user` or `order` are fine, as names are quoted.
    pub fn with_schema(self, schema: &str) -> Result<Self, StoreError> {
        Self::with_config(self.inner.config.clone(), schema, self.inner.pool_size)
    }

    /// Keeps up to `size` connections (at least one), for as many statements at once; more
    /// than the server has cores seldom helps.
    ///
    /// ```
    /// # #[cfg(feature = "postgres")] {
    /// use idempotent_runtime::PostgresStore;
    /// let store = PostgresStore::new("postgres://localhost/app").unwrap().with_pool_size(32).unwrap();
    /// assert_eq!(store.pool_size(), 32);
    /// # }
    /// ```
    pub fn with_pool_size(self, size: usize) -> Result<Self, StoreError> {
        let schema = self.inner.schema.clone();
        Self::with_config(self.inner.config.clone(), &schema, size.max(1))
    }

    /// How many connections the pool keeps at most.
    pub fn pool_size(&self) -> usize {
        self.inner.pool_size
    }

    fn with_config(
        config: tokio_postgres::Config,
        schema: &str,
        pool_size: usize,
    ) -> Result<Self, StoreError> {
        if !sql::is_identifier(schema) {
            return Err(StoreError::new(
                StoreErrorKind::Other,
                format!(
                    "postgres: the schema {schema:?} must be a lowercase identifier (a-z, 0-9, _)"
                ),
            ));
        }
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(pool_size)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(5)))
            .create_timeout(Some(Duration::from_secs(5)))
            .recycle_timeout(Some(Duration::from_secs(5)))
            .build()
            .map_err(|err| {
                StoreError::from_driver(
                    StoreErrorKind::Other,
                    "postgres: could not build the pool",
                    err,
                )
            })?;
        Ok(Self {
            inner: Arc::new(Inner {
                pool,
                config,
                schema: schema.to_owned(),
                pool_size,
                sql: Statements::new(schema),
                fences: FenceSource::new(),
                listener: listen::Listener::default(),
            }),
        })
    }

    /// The SQL that creates this store's schema and table, for your own migrations.
    ///
    /// ```
    /// # #[cfg(feature = "postgres")] {
    /// use idempotent_runtime::PostgresStore;
    /// let store = PostgresStore::new("postgres://localhost/app").unwrap();
    /// assert!(store.migration_sql().contains("CREATE TABLE IF NOT EXISTS \"idempotent\".records"));
    /// # }
    /// ```
    pub fn migration_sql(&self) -> &str {
        &self.inner.sql.migrate
    }

    /// Creates the schema and table if they do not exist.
    ///
    /// Safe to run from every instance of a fleet at once (each deploy's first start, say): it
    /// runs in one transaction under a PostgreSQL advisory lock, so the instances take turns
    /// and all but the first find everything in place.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let failed = |err| error("create the table", err);
        // A transaction of the driver's: if a statement fails, it is rolled back when dropped,
        // so the connection goes back to the pool usable, not stuck in an aborted transaction.
        let transaction = client.transaction().await.map_err(failed)?;
        transaction
            .batch_execute(sql::LOCK_FOR_MIGRATE)
            .await
            .map_err(failed)?;
        transaction
            .batch_execute(&self.inner.sql.migrate)
            .await
            .map_err(failed)?;
        transaction.commit().await.map_err(failed)
    }

    /// Deletes completed rows past their TTL, and in-progress rows abandoned past their
    /// retention ([`ABANDONED_RETENTION`](crate::store::ABANDONED_RETENTION) after their
    /// lease); returns how many.
    pub async fn purge_expired(&self) -> Result<u64, StoreError> {
        let client = self.client().await?;
        client
            .execute(self.inner.sql.purge.as_str(), &[])
            .await
            .map_err(|err| error("purge expired records", err))
    }

    /// The schema the table lives in.
    pub fn schema(&self) -> &str {
        &self.inner.schema
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.inner.pool.get().await.map_err(pool_error)
    }

    /// Runs a fenced statement that answers one row when it changed the record.
    async fn finish(
        &self,
        sql: &str,
        values: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Finish, StoreError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(sql)
            .await
            .map_err(|err| error("prepare", err))?;
        let rows = client
            .query(&statement, values)
            .await
            .map_err(|err| error("update the record", err))?;
        Ok(finished(&rows))
    }

    /// Registers a waiter on the record, if `owner` still runs it: whether it does.
    async fn watch(&self, key: &Key, owner: Fence) -> Result<bool, StoreError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(&self.inner.sql.watch)
            .await
            .map_err(|err| error("prepare", err))?;
        let rows = client
            .query(&statement, &[&key.as_bytes(), &(owner.0 as i64)])
            .await
            .map_err(|err| error("register a waiter", err))?;
        Ok(!rows.is_empty())
    }
}

/// Reads one row of the `begin` statement.
fn begin_row(row: &tokio_postgres::Row, fence: Fence) -> Result<Begin, StoreError> {
    let corrupt = |err: tokio_postgres::Error| {
        StoreError::corrupt("the record's columns do not decode").with_source(err)
    };
    if row.try_get::<_, bool>(0).map_err(corrupt)? {
        return Ok(Begin::Acquired {
            fence,
            took_over: row.try_get(1).map_err(corrupt)?,
        });
    }
    let fingerprint: Vec<u8> = row.try_get(2).map_err(corrupt)?;
    let params: Vec<u8> = row.try_get(3).map_err(corrupt)?;
    let output: Option<Vec<u8>> = row.try_get(7).map_err(corrupt)?;
    durable::existing(StoredRecord {
        fingerprint: &fingerprint,
        params: &params,
        completed: row.try_get(5).map_err(corrupt)?,
        output: output.as_deref(),
        owner: row.try_get::<_, i64>(4).map_err(corrupt)? as u64,
        lease_remaining_ms: row.try_get(6).map_err(corrupt)?,
    })
}

/// A fenced statement answers one row when it changed the record.
fn finished(rows: &[tokio_postgres::Row]) -> Finish {
    if rows.is_empty() {
        Finish::NotOwner
    } else {
        Finish::Done
    }
}

/// What `NOTIFY` carries for a key: a fixed-size digest, so a long key (a large `scope`) can
/// never exceed PostgreSQL's 8,000-byte payload limit. A collision only wakes a waiter early.
pub(super) fn notify_payload(key: &Key) -> String {
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(key.as_bytes()))
}

/// `duration` in milliseconds, as the statements take it.
fn millis(duration: Duration) -> f64 {
    durable::millis(duration) as f64
}

#[diagnostic::do_not_recommend]
impl AsyncStore for PostgresStore {
    async fn begin(
        &self,
        key: &Key,
        fingerprint: &Fingerprint,
        lease: Duration,
    ) -> Result<Begin, StoreError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(&self.inner.sql.begin)
            .await
            .map_err(|err| error("prepare", err))?;
        let (params, lease) = (encode_params(fingerprint), millis(lease));
        // A concurrent writer's row may be invisible to one statement's snapshot: run it again.
        for _ in 0..8 {
            let fence = self.inner.fences.next();
            let values: [&(dyn tokio_postgres::types::ToSql + Sync); 5] = [
                &key.as_bytes(),
                &&fingerprint.digest()[..],
                &params,
                &(fence.0 as i64),
                &lease,
            ];
            let rows = client
                .query(&statement, &values)
                .await
                .map_err(|err| error("begin", err))?;
            if let Some(row) = rows.first() {
                return begin_row(row, fence);
            }
        }
        Err(StoreError::new(
            StoreErrorKind::Unavailable,
            "postgres: the record kept changing under begin; retry",
        ))
    }

    async fn complete(
        &self,
        key: &Key,
        fence: Fence,
        output: &[u8],
        ttl: Duration,
    ) -> Result<Finish, StoreError> {
        let (store, key, output) = (self.clone(), key.clone(), output.to_vec());
        durable::run_to_end(async move {
            let payload = notify_payload(&key);
            let values: [&(dyn tokio_postgres::types::ToSql + Sync); 5] = [
                &key.as_bytes(),
                &(fence.0 as i64),
                &output,
                &millis(ttl),
                &payload,
            ];
            store.finish(&store.inner.sql.complete, &values).await
        })
        .await
    }

    async fn release(&self, key: &Key, fence: Fence) -> Result<Finish, StoreError> {
        let (store, key) = (self.clone(), key.clone());
        durable::run_to_end(async move {
            let payload = notify_payload(&key);
            store
                .finish(
                    &store.inner.sql.release,
                    &[&key.as_bytes(), &(fence.0 as i64), &payload],
                )
                .await
        })
        .await
    }

    async fn renew(&self, key: &Key, fence: Fence, lease: Duration) -> Result<Finish, StoreError> {
        let values: [&(dyn tokio_postgres::types::ToSql + Sync); 3] =
            [&key.as_bytes(), &(fence.0 as i64), &millis(lease)];
        self.finish(&self.inner.sql.renew, &values).await
    }

    async fn wait(&self, key: &Key, owner: Fence, timeout: Duration) -> Result<(), StoreError> {
        listen::wait(self, key, owner, timeout).await
    }

    fn release_detached(&self, key: Key, fence: Fence) {
        durable::spawn_release(self, key, fence);
    }
}
