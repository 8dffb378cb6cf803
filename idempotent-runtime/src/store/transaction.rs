//! Transactional mode (`#[idempotent(tx = "param")]`): a store that writes its record inside
//! the caller's own database transaction, so the record commits or rolls back together with
//! the handler's own writes.

use std::time::Duration;

use super::{Begin, Fence, Finish};
use crate::{Fingerprint, Key, StoreError};

/// A store that can keep its record inside a caller's open transaction of type `Tx` (the type
/// of the handler's `tx` parameter, such as `&rusqlite::Transaction<'_>` for `SqliteStore`).
///
/// The steps are those of [`Store`](super::Store), run on the caller's transaction and never
/// committed by the store: the caller commits the record with its own writes, or rolls both
/// back. Without a commit nobody else ever sees the record in progress, so no lease applies:
/// a duplicate waits on the record's unique key until the first transaction ends.
///
/// ```no_run
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
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot keep its record inside a `{Tx}`",
    label = "this store has no transactional mode for that type",
    note = "`tx` names the handler's open transaction: a `&rusqlite::Transaction<'_>` with a `SqliteStore` (sync handlers)"
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
