//! What a PostgreSQL failure means to the caller: transient (retry with the same token) or
//! not, decided by the server's SQLSTATE where it sent one, with the server's own message in
//! the error's Display.

use tokio_postgres::error::SqlState;

use crate::{StoreError, StoreErrorKind};

/// The pool's error: a connection that could not be made, or waited for too long.
pub(super) type PoolError = deadpool_postgres::PoolError;

/// Maps a PostgreSQL error met while doing `doing`.
pub(super) fn error(doing: &str, err: tokio_postgres::Error) -> StoreError {
    let (kind, hint) = classify(&err);
    StoreError::from_driver(kind, format!("postgres: could not {doing}{hint}"), err)
}

/// Maps a failure to get a pooled connection.
pub(super) fn pool_error(err: PoolError) -> StoreError {
    match err {
        PoolError::Backend(err) => error("connect", err),
        PoolError::PostCreateHook(deadpool_postgres::HookError::Backend(err)) => {
            error("connect", err)
        }
        err @ PoolError::Timeout(_) => StoreError::from_driver(
            StoreErrorKind::Unavailable,
            "postgres: no connection came free in time",
            err,
        ),
        err => StoreError::from_driver(
            StoreErrorKind::Other,
            "postgres: could not get a connection",
            err,
        ),
    }
}

/// A server's answer by its SQLSTATE; no answer at all (refused, reset, timed out) is transient.
fn classify(err: &tokio_postgres::Error) -> (StoreErrorKind, &'static str) {
    let Some(code) = err.code() else {
        return if err.as_db_error().is_none() {
            (StoreErrorKind::Unavailable, "")
        } else {
            (StoreErrorKind::Other, "")
        };
    };
    let class = &code.code()[..2.min(code.code().len())];
    match class {
        // Connection exceptions, insufficient resources (too many connections, disk full),
        // operator intervention (shutdown, restart, a cancelled statement).
        "08" | "53" | "57" => (StoreErrorKind::Unavailable, ""),
        // Serialization failure and deadlock: the same statement may pass next time.
        "40" => (StoreErrorKind::Unavailable, ""),
        // Lock not available (a lock timeout).
        _ if *code == SqlState::LOCK_NOT_AVAILABLE => (StoreErrorKind::Unavailable, ""),
        // Bad credentials or no such database: a misconfiguration no retry will fix.
        "28" => (
            StoreErrorKind::Other,
            " (the server refused these credentials)",
        ),
        _ if *code == SqlState::INVALID_CATALOG_NAME => {
            (StoreErrorKind::Other, " (no such database: check the URL)")
        }
        _ if *code == SqlState::UNDEFINED_TABLE || *code == SqlState::INVALID_SCHEMA_NAME => (
            StoreErrorKind::Other,
            " (run PostgresStore::migrate, or its migration_sql)",
        ),
        _ => (StoreErrorKind::Other, ""),
    }
}
