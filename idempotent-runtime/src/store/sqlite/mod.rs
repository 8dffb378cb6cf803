//! `SqliteStore`: records in an SQLite file, durable across restarts and shared by every
//! process on the machine that opens the same file. Feature `sqlite`.
//!
//! One table holds the records. `begin` reads and writes the key inside one `BEGIN IMMEDIATE`
//! transaction, which SQLite serialises across threads and processes; `complete` and `release`
//! are single statements conditioned on the fence. Times are wall-clock milliseconds, which
//! every process on one machine shares. SQLite cannot notify other processes, so a waiter
//! (`concurrent = "wait"`) polls with a backoff from 5 ms to 100 ms.
//!
//! The async interface runs each step on Tokio's blocking pool.

mod schema;

use std::future::Future;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::durable::{self, millis_i64, unix_millis_now, FenceSource, StoredRecord};
use super::record::encode_params;
use super::{AsyncStore, Begin, Fence, Finish, Store};
use crate::{Fingerprint, Key, StoreError, StoreErrorKind};

/// A store in an SQLite database file: one machine, durable, shared between processes.
///
/// ```
/// # #[cfg(feature = "sqlite")] {
/// use idempotent_runtime::{idempotent, SqliteStore};
///
/// struct Service { store: SqliteStore }
///
/// impl Service {
///     #[idempotent(token = "token", store = self.store, name = "CreateVolume")]
///     fn create_volume(&self, size: u32, token: &str) -> u32 {
///         size
///     }
/// }
///
/// let service = Service { store: SqliteStore::in_memory().unwrap() };
/// assert_eq!(service.create_volume(8, "t-1").unwrap(), 8);
/// # }
/// ```
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    connection: Mutex<Connection>,
    fences: FenceSource,
}

/// A row as read for `begin`.
struct Row {
    fingerprint: Vec<u8>,
    params: Vec<u8>,
    fence: i64,
    completed: bool,
    deadline_ms: i64,
    output: Option<Vec<u8>>,
}

impl SqliteStore {
    /// Opens (or creates) the database at `path`, in WAL mode, and creates the table if needed.
    /// `path` may be an SQLite URI (`file:name?mode=memory&cache=shared`).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let connection = Connection::open(path).map_err(|err| error("open the database", err))?;
        Self::with_connection(connection)
    }

    /// A private in-memory database: records last as long as the store.
    pub fn in_memory() -> Result<Self, StoreError> {
        let connection =
            Connection::open_in_memory().map_err(|err| error("open the database", err))?;
        Self::with_connection(connection)
    }

    fn with_connection(connection: Connection) -> Result<Self, StoreError> {
        schema::prepare(&connection).map_err(|err| error("prepare the database", err))?;
        Ok(Self {
            inner: Arc::new(Inner {
                connection: Mutex::new(connection),
                fences: FenceSource::new(),
            }),
        })
    }

    /// Deletes completed records past their TTL, and in-progress records abandoned past their
    /// retention ([`ABANDONED_RETENTION`](crate::store::ABANDONED_RETENTION) after their
    /// lease); returns how many. Call it now and then (a dead record is also replaced when its
    /// key is used again).
    pub fn purge_expired(&self) -> Result<usize, StoreError> {
        let now = unix_millis_now();
        let abandoned_before = now.saturating_sub(millis_i64(super::ABANDONED_RETENTION));
        self.connection()
            .execute(schema::PURGE, params![now, abandoned_before])
            .map_err(|err| error("purge expired records", err))
    }

    fn connection(&self) -> MutexGuard<'_, Connection> {
        // No code that can panic runs under this lock; recover rather than propagate a poison.
        self.inner
            .connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn begin_blocking(
        &self,
        key: &Key,
        fingerprint: &Fingerprint,
        lease: Duration,
    ) -> Result<Begin, StoreError> {
        let mut connection = self.connection();
        let tx = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|err| error("start a transaction", err))?;
        let begin = self.acquire_on(&tx, key, fingerprint, lease)?;
        if let Begin::Acquired { .. } = begin {
            tx.commit().map_err(|err| error("commit the record", err))?;
        }
        Ok(begin)
    }

    /// `begin` on `connection` (this store's own transaction, or the caller's in transactional
    /// mode): the live record under `key`, or the key acquired by an in-progress record.
    fn acquire_on(
        &self,
        connection: &Connection,
        key: &Key,
        fingerprint: &Fingerprint,
        lease: Duration,
    ) -> Result<Begin, StoreError> {
        let now = unix_millis_now();
        let row = connection
            .prepare_cached(schema::SELECT)
            .and_then(|mut select| {
                select
                    .query_row(params![key.as_bytes()], read_row)
                    .optional()
            })
            .map_err(|err| error("read the record", err))?;
        let took_over = match row {
            Some(row) if row.deadline_ms > now => return existing(row, now),
            Some(row) => !row.completed,
            None => false,
        };
        let fence = self.inner.fences.next();
        connection
            .prepare_cached(schema::UPSERT)
            .and_then(|mut upsert| {
                upsert.execute(params![
                    key.as_bytes(),
                    &fingerprint.digest()[..],
                    encode_params(fingerprint),
                    fence.0 as i64,
                    now.saturating_add(millis_i64(lease)),
                ])
            })
            .map_err(|err| error("write the record", err))?;
        Ok(Begin::Acquired { fence, took_over })
    }

    fn finish(&self, sql: &str, values: impl rusqlite::Params) -> Result<Finish, StoreError> {
        changed_one(&self.connection(), sql, values)
    }

    /// Whether `fence` completed the record (a retried `complete` finds its own result).
    fn completed_by(&self, key: &Key, fence: Fence) -> Result<bool, StoreError> {
        self.connection()
            .prepare_cached(schema::COMPLETED_BY)
            .and_then(|mut statement| statement.exists(params![key.as_bytes(), fence.0 as i64]))
            .map_err(|err| error("read the record", err))
    }

    /// Whether the record is still in progress under `owner` with its lease running.
    fn still_running(&self, key: &Key, owner: Fence) -> Result<bool, StoreError> {
        self.connection()
            .prepare_cached(schema::RUNNING)
            .and_then(|mut statement| {
                statement.exists(params![key.as_bytes(), owner.0 as i64, unix_millis_now()])
            })
            .map_err(|err| error("read the record", err))
    }
}

fn read_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        fingerprint: row.get(0)?,
        params: row.get(1)?,
        fence: row.get(2)?,
        completed: row.get(3)?,
        deadline_ms: row.get(4)?,
        output: row.get(5)?,
    })
}

fn existing(row: Row, now: i64) -> Result<Begin, StoreError> {
    durable::existing(StoredRecord {
        fingerprint: &row.fingerprint,
        params: &row.params,
        completed: row.completed,
        output: row.output.as_deref(),
        owner: row.fence as u64,
        lease_remaining_ms: row.deadline_ms.saturating_sub(now),
    })
}

/// Maps an SQLite error: busy or locked is transient; a value of the wrong type is corrupt.
fn error(doing: &str, err: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode::{CannotOpen, DatabaseBusy, DatabaseLocked};
    let kind = match &err {
        rusqlite::Error::SqliteFailure(failure, _)
            if matches!(failure.code, DatabaseBusy | DatabaseLocked | CannotOpen) =>
        {
            StoreErrorKind::Unavailable
        }
        rusqlite::Error::InvalidColumnType(..) | rusqlite::Error::FromSqlConversionFailure(..) => {
            StoreErrorKind::Corrupt
        }
        _ => StoreErrorKind::Other,
    };
    StoreError::from_driver(kind, format!("sqlite: could not {doing}"), err)
}

#[diagnostic::do_not_recommend]
impl Store for SqliteStore {
    fn begin(
        &self,
        key: &Key,
        fingerprint: &Fingerprint,
        lease: Duration,
    ) -> Result<Begin, StoreError> {
        self.begin_blocking(key, fingerprint, lease)
    }

    fn complete(
        &self,
        key: &Key,
        fence: Fence,
        output: &[u8],
        ttl: Duration,
    ) -> Result<Finish, StoreError> {
        let expires = unix_millis_now().saturating_add(millis_i64(ttl));
        let finish = self.finish(
            schema::COMPLETE,
            params![output, expires, key.as_bytes(), fence.0 as i64],
        )?;
        if finish == Finish::NotOwner && self.completed_by(key, fence)? {
            return Ok(Finish::Done);
        }
        Ok(finish)
    }

    fn release(&self, key: &Key, fence: Fence) -> Result<Finish, StoreError> {
        self.finish(schema::RELEASE, params![key.as_bytes(), fence.0 as i64])
    }

    fn renew(&self, key: &Key, fence: Fence, lease: Duration) -> Result<Finish, StoreError> {
        let deadline = unix_millis_now().saturating_add(millis_i64(lease));
        self.finish(
            schema::RENEW,
            params![deadline, key.as_bytes(), fence.0 as i64],
        )
    }

    fn wait(&self, key: &Key, owner: Fence, timeout: Duration) -> Result<(), StoreError> {
        let deadline = Instant::now() + timeout;
        let mut backoff = Duration::from_millis(5);
        while self.still_running(key, owner)? {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            std::thread::sleep(backoff.min(left));
            backoff = (backoff * 2).min(Duration::from_millis(100));
        }
        Ok(())
    }
}

#[diagnostic::do_not_recommend]
impl AsyncStore for SqliteStore {
    fn begin(
        &self,
        key: &Key,
        fingerprint: &Fingerprint,
        lease: Duration,
    ) -> impl Future<Output = Result<Begin, StoreError>> + Send {
        let (key, fingerprint) = (key.clone(), fingerprint.clone());
        self.blocking(move |store| store.begin_blocking(&key, &fingerprint, lease))
    }

    fn complete(
        &self,
        key: &Key,
        fence: Fence,
        output: &[u8],
        ttl: Duration,
    ) -> impl Future<Output = Result<Finish, StoreError>> + Send {
        let (key, output) = (key.clone(), output.to_vec());
        self.blocking(move |store| Store::complete(store, &key, fence, &output, ttl))
    }

    fn release(
        &self,
        key: &Key,
        fence: Fence,
    ) -> impl Future<Output = Result<Finish, StoreError>> + Send {
        let key = key.clone();
        self.blocking(move |store| Store::release(store, &key, fence))
    }

    fn renew(
        &self,
        key: &Key,
        fence: Fence,
        lease: Duration,
    ) -> impl Future<Output = Result<Finish, StoreError>> + Send {
        let key = key.clone();
        self.blocking(move |store| Store::renew(store, &key, fence, lease))
    }

    fn wait(
        &self,
        key: &Key,
        owner: Fence,
        timeout: Duration,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let key = key.clone();
        self.blocking(move |store| Store::wait(store, &key, owner, timeout))
    }

    fn release_detached(&self, key: Key, fence: Fence) {
        let store = self.clone();
        let release = move || {
            let _ = Store::release(&store, &key, fence);
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn_blocking(release)),
            Err(_) => release(),
        }
    }
}

impl SqliteStore {
    /// Runs a blocking step on Tokio's blocking pool.
    fn blocking<T: Send + 'static>(
        &self,
        step: impl FnOnce(&SqliteStore) -> Result<T, StoreError> + Send + 'static,
    ) -> impl Future<Output = Result<T, StoreError>> + Send {
        let store = self.clone();
        async move {
            tokio::task::spawn_blocking(move || step(&store))
                .await
                .unwrap_or_else(|err| {
                    Err(StoreError::new(
                        StoreErrorKind::Other,
                        format!("sqlite step failed: {err}"),
                    ))
                })
        }
    }
}

/// Transactional mode: the record is written on the caller's transaction (which must be on
/// this store's database file), never committed here.
impl<'t, 'c> super::InTransaction<&'t rusqlite::Transaction<'c>> for SqliteStore {
    fn begin_in(
        &self,
        tx: &'t rusqlite::Transaction<'c>,
        key: &Key,
        fingerprint: &Fingerprint,
        lease: Duration,
    ) -> Result<Begin, StoreError> {
        self.acquire_on(tx, key, fingerprint, lease)
    }

    fn complete_in(
        &self,
        tx: &'t rusqlite::Transaction<'c>,
        key: &Key,
        fence: Fence,
        output: &[u8],
        ttl: Duration,
    ) -> Result<Finish, StoreError> {
        let expires = unix_millis_now().saturating_add(millis_i64(ttl));
        changed_one(
            tx,
            schema::COMPLETE,
            params![output, expires, key.as_bytes(), fence.0 as i64],
        )
    }

    fn release_in(
        &self,
        tx: &'t rusqlite::Transaction<'c>,
        key: &Key,
        fence: Fence,
    ) -> Result<Finish, StoreError> {
        changed_one(tx, schema::RELEASE, params![key.as_bytes(), fence.0 as i64])
    }
}

/// Runs a statement conditioned on the owner's fence: done if it changed the record.
fn changed_one(
    connection: &Connection,
    sql: &str,
    values: impl rusqlite::Params,
) -> Result<Finish, StoreError> {
    let changed = connection
        .prepare_cached(sql)
        .and_then(|mut statement| statement.execute(values))
        .map_err(|err| error("update the record", err))?;
    Ok(if changed == 1 {
        Finish::Done
    } else {
        Finish::NotOwner
    })
}
