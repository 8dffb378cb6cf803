//! The PostgreSQL table and the statements on it, for one schema.
//!
//! `deadline` is the lease's end while a record is in progress and its expiry once completed;
//! a record is live while `deadline` is in the future. `waiters` counts the callers that
//! registered to be woken (`concurrent = "wait"`): `complete` and `release` notify only when
//! it is not zero, because a `NOTIFY` serialises every committing transaction of the cluster.
//! A replay or a mismatch writes nothing: `begin` inserts only a new key and updates only a
//! dead record, so reading a live one takes no lock, no transaction id and no WAL. All times are the server's
//! (`clock_timestamp()`), so a fleet shares one clock. The schema's name is always quoted, so
//! a name that is also an SQL keyword (`user`, `order`) works.

/// The statements, with the schema's name filled in.
pub(super) struct Statements {
    pub(super) migrate: String,
    pub(super) begin: String,
    /// `begin` for transactional mode, under `concurrent = "reject"` and `"wait"` (see [`begin`]).
    pub(super) begin_in_tx_reject: String,
    pub(super) begin_in_tx_wait: String,
    /// Seeds the numbers of the advisory locks that claim keys, so that stores in other
    /// schemas never claim each other's keys.
    pub(super) claim_seed: u64,
    pub(super) complete: String,
    pub(super) release: String,
    pub(super) renew: String,
    pub(super) watch: String,
    pub(super) purge: String,
    pub(super) channel: String,
}

/// Whether `schema` is a plain lowercase identifier: quoted, it means itself and nothing more.
pub(super) fn is_identifier(schema: &str) -> bool {
    let mut chars = schema.chars();
    matches!(chars.next(), Some('a'..='z' | '_'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
        && schema.len() <= 48
}

/// The SQL that creates the schema and table; [`PostgresStore::migrate`](super::PostgresStore::migrate)
/// runs it, or run it with your own migrations.
pub(super) fn migration(schema: &str) -> String {
    format!(
        "CREATE SCHEMA IF NOT EXISTS \"{schema}\";
CREATE TABLE IF NOT EXISTS \"{schema}\".records (
    key         bytea PRIMARY KEY,
    fingerprint bytea NOT NULL,
    params      bytea NOT NULL,
    fence       bigint NOT NULL,
    completed   boolean NOT NULL,
    taken_over  boolean NOT NULL,
    deadline    timestamptz NOT NULL,
    output      bytea,
    waiters     integer NOT NULL DEFAULT 0
);
ALTER TABLE \"{schema}\".records ADD COLUMN IF NOT EXISTS waiters integer NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS records_deadline ON \"{schema}\".records (deadline);"
    )
}

/// The advisory lock `migrate` holds, in its transaction: `CREATE .. IF NOT EXISTS` run by two
/// sessions at once can still fail on a unique index, so the fleet's instances take turns.
/// The key is the ASCII of "idempot" followed by the byte 01.
pub(super) const LOCK_FOR_MIGRATE: &str = "SELECT pg_advisory_xact_lock(7594306392365691905)";

/// How `begin` claims a key before writing it.
#[derive(Clone, Copy)]
pub(super) enum Claim {
    /// Not at all: the store's own mode, one statement in a transaction of its own.
    None,
    /// Transactional mode, `concurrent = "reject"`.
    Try,
    /// Transactional mode, `concurrent = "wait"`.
    Wait,
}

/// One statement: insert a new key, or take over a dead record, or else read the live one.
/// The key is looked up once; the insert runs only for a key not seen and the update only for
/// a dead record, so reading a live record writes nothing. When a concurrent writer's row is
/// not yet visible to this statement's snapshot, it answers no row at all and the caller runs
/// it again.
///
/// In transactional mode (`claim`), a key with no live record is first claimed with a
/// transaction-scoped advisory lock on `$6`, held until the caller's transaction ends: under
/// [`Claim::Try`] taken without waiting, so a key another open transaction is writing answers
/// one row of NULLs after `false` (busy) instead of waiting on that transaction's row; under
/// [`Claim::Wait`] waited for, so the duplicate then finds the first's committed record (or
/// none, if it rolled back). A live record is read without claiming, so replays in
/// transactions running side by side never turn each other away.
fn begin(table: &str, claim: Claim) -> String {
    let lock = match claim {
        Claim::None => None,
        Claim::Try => Some("pg_try_advisory_xact_lock($6::bigint)"),
        // The function answers `void`: as text it is never NULL, so this is `true` once held.
        Claim::Wait => Some("pg_advisory_xact_lock($6::bigint)::text IS NOT NULL"),
    };
    let (claim_cte, claimed, busy) = if let Some(lock) = lock {
        (
            format!(
                ", claim AS (
                    SELECT CASE WHEN EXISTS (SELECT 1 FROM existing WHERE live) THEN true
                                ELSE {lock} END AS free
                )"
            ),
            " AND (SELECT free FROM claim)",
            "
                UNION ALL
                SELECT false, NULL::boolean, NULL::bytea, NULL::bytea, NULL::bigint, NULL::boolean, NULL::bigint, NULL::bytea
                FROM claim WHERE NOT free",
        )
    } else {
        (String::new(), "", "")
    };
    format!(
        "WITH existing AS (
                    SELECT fingerprint, params, fence, completed, deadline, output,
                           deadline > clock_timestamp() AS live
                    FROM {table} WHERE key = $1::bytea
                ){claim_cte}, inserted AS (
                    INSERT INTO {table} (key, fingerprint, params, fence, completed, taken_over, deadline, output, waiters)
                    SELECT $1::bytea, $2::bytea, $3::bytea, $4::bigint, false, false,
                           clock_timestamp() + $5::float8 * interval '1 millisecond', NULL, 0
                    WHERE NOT EXISTS (SELECT 1 FROM existing){claimed}
                    ON CONFLICT (key) DO NOTHING
                    RETURNING taken_over
                ), taken AS (
                    UPDATE {table} AS r
                    SET fingerprint = $2::bytea, params = $3::bytea, fence = $4::bigint, completed = false,
                        taken_over = NOT r.completed, output = NULL, waiters = 0,
                        deadline = clock_timestamp() + $5::float8 * interval '1 millisecond'
                    WHERE r.key = $1::bytea AND r.deadline <= clock_timestamp()
                      AND EXISTS (SELECT 1 FROM existing WHERE NOT live){claimed}
                    RETURNING r.taken_over
                ), acquired AS (
                    SELECT taken_over FROM inserted UNION ALL SELECT taken_over FROM taken
                )
                SELECT true, taken_over, NULL::bytea, NULL::bytea, NULL::bigint, NULL::boolean, NULL::bigint, NULL::bytea
                FROM acquired
                UNION ALL
                SELECT false, false, fingerprint, params, fence, completed,
                       greatest(0, (extract(epoch FROM deadline - clock_timestamp()) * 1000)::bigint), output
                FROM existing WHERE live AND NOT EXISTS (SELECT 1 FROM acquired){busy}"
    )
}

impl Statements {
    pub(super) fn new(schema: &str) -> Self {
        let table = format!("\"{schema}\".records");
        let channel = format!("idempotent_{schema}");
        Self {
            migrate: migration(schema),
            begin: begin(&table, Claim::None),
            begin_in_tx_reject: begin(&table, Claim::Try),
            begin_in_tx_wait: begin(&table, Claim::Wait),
            claim_seed: xxhash_rust::xxh3::xxh3_64(schema.as_bytes()),
            // Completes, or finds the record already completed under this fence (a retried
            // complete whose first answer was lost): either way one row comes back. Waiters,
            // if any registered, are notified.
            complete: format!(
                "WITH done AS (
                    UPDATE {table} SET completed = true, output = $3,
                        deadline = clock_timestamp() + $4 * interval '1 millisecond'
                    WHERE key = $1 AND fence = $2 AND NOT completed
                    RETURNING waiters
                )
                SELECT CASE WHEN waiters > 0 THEN pg_notify('{channel}', $5) END FROM done
                UNION ALL
                SELECT NULL FROM {table}
                WHERE key = $1 AND fence = $2 AND completed AND NOT EXISTS (SELECT 1 FROM done)"
            ),
            release: format!(
                "WITH gone AS (
                    DELETE FROM {table} WHERE key = $1 AND fence = $2 AND NOT completed RETURNING waiters
                )
                SELECT CASE WHEN waiters > 0 THEN pg_notify('{channel}', $3) END FROM gone"
            ),
            renew: format!(
                "UPDATE {table} SET deadline = clock_timestamp() + $3 * interval '1 millisecond'
                 WHERE key = $1 AND fence = $2 AND NOT completed
                 RETURNING key"
            ),
            // A waiter registers (so the owner's `complete` or `release` notifies) and learns
            // in the same statement whether the owner still runs: no row means it is done.
            watch: format!(
                "UPDATE {table} SET waiters = waiters + 1
                 WHERE key = $1 AND fence = $2 AND NOT completed AND deadline > clock_timestamp()
                 RETURNING key"
            ),
            // Completed rows past their TTL; in-progress rows abandoned past their retention
            // (a worker that late could still complete, if nobody took over).
            purge: format!(
                "DELETE FROM {table}
                 WHERE deadline <= clock_timestamp() - CASE WHEN completed THEN interval '0'
                     ELSE {retention} * interval '1 millisecond' END",
                retention = crate::store::ABANDONED_RETENTION.as_millis()
            ),
            channel,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_identifiers_are_schemas() {
        for good in ["idempotent", "app_1", "_private"] {
            assert!(is_identifier(good), "{good}");
        }
        for bad in ["", "1app", "App", "a-b", "a;drop table x", "a.b", "\"x\""] {
            assert!(!is_identifier(bad), "{bad}");
        }
    }
}
