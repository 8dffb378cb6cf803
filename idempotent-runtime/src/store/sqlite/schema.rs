//! The SQLite table and the statements on it.
//!
//! `deadline_ms` is the lease's end while a record is in progress and its expiry once it is
//! completed: a record is live while `deadline_ms` is in the future.

use rusqlite::Connection;

/// Creates the table, in WAL mode with `synchronous = FULL` (a recorded result survives a power
/// loss, not only a process crash), with a busy timeout so concurrent writers queue.
pub(super) fn prepare(connection: &Connection) -> rusqlite::Result<()> {
    connection.busy_timeout(std::time::Duration::from_secs(10))?;
    // `journal_mode` answers with a row; an in-memory database stays in "memory" mode.
    connection.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
    connection.execute_batch(
        "PRAGMA synchronous = FULL;
         CREATE TABLE IF NOT EXISTS idempotency_records (
             key         BLOB PRIMARY KEY,
             fingerprint BLOB NOT NULL,
             params      BLOB NOT NULL,
             fence       INTEGER NOT NULL,
             completed   INTEGER NOT NULL,
             deadline_ms INTEGER NOT NULL,
             output      BLOB
         ) WITHOUT ROWID;",
    )
}

pub(super) const SELECT: &str = "SELECT fingerprint, params, fence, completed, deadline_ms, output
     FROM idempotency_records WHERE key = ?1";

pub(super) const UPSERT: &str = "INSERT OR REPLACE INTO idempotency_records
     (key, fingerprint, params, fence, completed, deadline_ms, output)
     VALUES (?1, ?2, ?3, ?4, 0, ?5, NULL)";

pub(super) const COMPLETE: &str =
    "UPDATE idempotency_records SET completed = 1, output = ?1, deadline_ms = ?2
     WHERE key = ?3 AND fence = ?4 AND completed = 0";

pub(super) const COMPLETED_BY: &str =
    "SELECT 1 FROM idempotency_records WHERE key = ?1 AND fence = ?2 AND completed = 1";

pub(super) const RENEW: &str = "UPDATE idempotency_records SET deadline_ms = ?1
     WHERE key = ?2 AND fence = ?3 AND completed = 0";

pub(super) const RELEASE: &str =
    "DELETE FROM idempotency_records WHERE key = ?1 AND fence = ?2 AND completed = 0";

pub(super) const RUNNING: &str = "SELECT 1 FROM idempotency_records
     WHERE key = ?1 AND fence = ?2 AND completed = 0 AND deadline_ms > ?3";

/// Completed records past their TTL (`?1` is now), and in-progress records abandoned past their
/// retention (`?2` is now less the retention): a worker that late could still have completed,
/// if nobody took over.
pub(super) const PURGE: &str = "DELETE FROM idempotency_records
     WHERE (completed = 1 AND deadline_ms <= ?1) OR (completed = 0 AND deadline_ms <= ?2)";
