//! Transactional mode (`#[idempotent(tx = "param")]`): a store that writes its record inside
//! the caller's own database transaction, so the record commits or rolls back together with
//! the handler's own writes. [`InTransaction`] serves sync handlers, [`AsyncInTransaction`]
//! async ones.

use std::future::Future;
use std::time::Duration;

use super::{Begin, Fence, Finish};
use crate::{Concurrent, Fingerprint, Key, StoreError};

/// A store that can keep its record inside a caller's open transaction of type `Tx` (the type
/// of the handler's `tx` parameter, such as `&rusqlite::Transaction<'_>` for `SqliteStore`).
///
/// The steps are those of [`Store`](super::Store), run on the caller's transaction and never
/// committed by the store: the caller commits the record with its own writes, or rolls both
/// back. Without a commit nobody else ever sees the record in progress, so no lease applies:
/// a duplicate waits on the record's unique key until the first transaction ends.
///
/// ```no_run
/// # #[cfg(feature = "sqlite")] {
/// use idempotent_runtime::{idempotent, SqliteStore};
///
/// struct Orders { store: SqliteStore }
///
/// impl Orders {
///     // `SqliteStore: InTransaction<&rusqlite::Transaction<'_>>` makes `tx = "tx"` work here.
///     #[idempotent(token = "token", store = self.store, tx = "tx")]
///     fn create(&self, item: String, token: &str, tx: &rusqlite::Transaction<'_>) -> i64 {
///         tx.last_insert_rowid()
///     }
/// }
/// # }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot keep its record inside a `{Tx}`",
    label = "this store has no transactional mode for that type",
    note = "on a sync handler, `tx` names a `&rusqlite::Transaction<'_>` open on a `SqliteStore`'s database (feature `sqlite`); a PostgreSQL transaction needs an `async fn` handler"
)]
pub trait InTransaction<Tx> {
    /// Step 1 inside `tx`: acquire the key, or report the live record under it.
    fn begin_in(
        &self,
        tx: Tx,
        key: &Key,
        fingerprint: &Fingerprint,
        lease: Duration,
    ) -> Result<Begin, StoreError>;

    /// Step 2 inside `tx`: store `output` for `ttl`, if `fence` still owns the record.
    fn complete_in(
        &self,
        tx: Tx,
        key: &Key,
        fence: Fence,
        output: &[u8],
        ttl: Duration,
    ) -> Result<Finish, StoreError>;

    /// Step 3 inside `tx`: delete the record, if `fence` still owns it.
    fn release_in(&self, tx: Tx, key: &Key, fence: Fence) -> Result<Finish, StoreError>;

    /// The store itself: generated code reaches the store through this, naming the
    /// transaction's type, so a store without a transactional mode for it is reported once,
    /// on the user's expression.
    #[doc(hidden)]
    fn __checked_in(&self) -> &Self
    where
        Self: Sized,
    {
        self
    }
}

/// What [`AsyncInTransaction::begin_in`] found.
#[derive(Debug)]
pub enum TxBegin {
    /// The answer [`AsyncStore::begin`](super::AsyncStore::begin) would give.
    Answer(Begin),
    /// Asked with [`Concurrent::Reject`]: another open transaction is writing a record under
    /// this key. It is in progress, and what it holds cannot be read until that transaction
    /// commits or rolls back.
    Busy,
}

/// A store that can keep its record inside a caller's open transaction of type `Tx`, for
/// async handlers (such as `&tokio_postgres::Transaction<'_>` for `PostgresStore`).
///
/// The same steps as [`InTransaction`], as futures. A duplicate in another transaction waits
/// for the first to commit or roll back ([`Concurrent::Wait`]), or is told the key is
/// [`Busy`](TxBegin::Busy) at once ([`Concurrent::Reject`]).
///
/// ```no_run
/// # #[cfg(feature = "postgres")] {
/// use idempotent_runtime::store::postgres::tokio_postgres::{self, Transaction};
/// use idempotent_runtime::{idempotent, PostgresStore};
///
/// struct Orders { store: PostgresStore }
///
/// impl Orders {
///     // `PostgresStore: AsyncInTransaction<&Transaction<'_>>` makes `tx = "tx"` work here.
///     #[idempotent(token = "token", store = self.store, tx = "tx")]
///     async fn create(&self, item: String, token: &str, tx: &Transaction<'_>) -> Result<i64, tokio_postgres::Error> {
///         let row = tx.query_one("INSERT INTO orders (item) VALUES ($1) RETURNING id", &[&item]).await?;
///         Ok(row.get(0))
///     }
/// }
/// # }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot keep its record inside a `{Tx}`",
    label = "this store has no transactional mode for that type",
    note = "on an async handler, `tx` names a `&tokio_postgres::Transaction<'_>` or a `&deadpool_postgres::Transaction<'_>` open on a `PostgresStore`'s database (feature `postgres`); a `&rusqlite::Transaction<'_>` needs a sync handler"
)]
pub trait AsyncInTransaction<Tx>: Sync {
    /// Step 1 inside `tx`: acquire the key, or report the record under it.
    fn begin_in(
        &self,
        tx: Tx,
        key: &Key,
        fingerprint: &Fingerprint,
        lease: Duration,
        concurrent: Concurrent,
    ) -> impl Future<Output = Result<TxBegin, StoreError>> + Send;

    /// Step 2 inside `tx`: store `output` for `ttl`, if `fence` still owns the record.
    fn complete_in(
        &self,
        tx: Tx,
        key: &Key,
        fence: Fence,
        output: &[u8],
        ttl: Duration,
    ) -> impl Future<Output = Result<Finish, StoreError>> + Send;

    /// Step 3 inside `tx`: delete the record, if `fence` still owns it.
    fn release_in(
        &self,
        tx: Tx,
        key: &Key,
        fence: Fence,
    ) -> impl Future<Output = Result<Finish, StoreError>> + Send;

    /// The store itself, for generated code (see [`InTransaction`]).
    #[doc(hidden)]
    fn __checked_in(&self) -> &Self
    where
        Self: Sized,
    {
        self
    }
}
