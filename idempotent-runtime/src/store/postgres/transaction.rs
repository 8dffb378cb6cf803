//! Transactional mode on PostgreSQL: `PostgresStore`'s statements, run on the caller's open
//! transaction (tokio-postgres's or deadpool's) and never committed here.
//!
//! `begin` first claims a key that has no live record with a transaction-scoped advisory lock,
//! held until the caller's transaction ends: under `concurrent = "wait"` a duplicate in another
//! transaction waits for it (`pg_advisory_xact_lock`), then reads the first's committed record
//! and replays, or finds none (the first rolled back) and runs; under `"reject"` it is told at
//! once that the key is busy (`pg_try_advisory_xact_lock`), and no SQL error is raised, so the
//! caller's transaction stays usable. The record is then inserted with `ON CONFLICT DO
//! NOTHING`, so a caller outside transactional mode still meets the unique key. The lock's
//! number is a 64-bit hash of the schema and the record's key, in the same space as the
//! application's own advisory locks (a collision only makes a duplicate wait or be busy).

use std::time::Duration;

use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::Row;

use super::{begin_row, error, finished, millis, notify_payload, PostgresStore};
use crate::store::record::encode_params;
use crate::store::{AsyncInTransaction, Fence, Finish, TxBegin};
use crate::{Concurrent, Fingerprint, Key, StoreError, StoreErrorKind};

/// The caller's transaction, in either driver's type.
#[derive(Clone, Copy)]
enum Tx<'t> {
    /// A plain tokio-postgres transaction: each statement goes out with its parameters' types,
    /// one round trip, parsed by the server every time (there is no cache to keep it in).
    Plain(&'t tokio_postgres::Transaction<'t>),
    /// deadpool's transaction: each statement is prepared once per connection, in its cache.
    Pooled(&'t deadpool_postgres::Transaction<'t>),
}

impl Tx<'_> {
    async fn query(
        self,
        sql: &str,
        values: &[(&(dyn ToSql + Sync), Type)],
    ) -> Result<Vec<Row>, tokio_postgres::Error> {
        match self {
            Tx::Plain(tx) => tx.query_typed(sql, values).await,
            Tx::Pooled(tx) => {
                let statement = tx.prepare_cached(sql).await?;
                let values: Vec<&(dyn ToSql + Sync)> = values.iter().map(|(v, _)| *v).collect();
                tx.query(&statement, &values).await
            }
        }
    }
}

/// The advisory lock that claims `key` in the schema `seed` stands for.
fn claim_lock(seed: u64, key: &Key) -> i64 {
    xxhash_rust::xxh3::xxh3_64_with_seed(key.as_bytes(), seed) as i64
}

impl PostgresStore {
    async fn begin_on(
        &self,
        tx: Tx<'_>,
        key: &Key,
        fingerprint: &Fingerprint,
        lease: Duration,
        concurrent: Concurrent,
    ) -> Result<TxBegin, StoreError> {
        let sql = match concurrent {
            Concurrent::Reject => &self.inner.sql.begin_in_tx_reject,
            Concurrent::Wait => &self.inner.sql.begin_in_tx_wait,
        };
        let lock = claim_lock(self.inner.sql.claim_seed, key);
        let (params, lease) = (encode_params(fingerprint), millis(lease));
        let digest = &fingerprint.digest()[..];
        // A row committed by another transaction after this statement's snapshot was taken
        // (the one it waited for) is invisible to it: run it again, with a new snapshot.
        for _ in 0..8 {
            let fence = self.inner.fences.next();
            let fence_value = fence.0 as i64;
            let values: [(&(dyn ToSql + Sync), Type); 6] = [
                (&key.as_bytes(), Type::BYTEA),
                (&digest, Type::BYTEA),
                (&params, Type::BYTEA),
                (&fence_value, Type::INT8),
                (&lease, Type::FLOAT8),
                (&lock, Type::INT8),
            ];
            let rows = tx
                .query(sql, &values)
                .await
                .map_err(|err| error("begin", err))?;
            if let Some(row) = rows.first() {
                return tx_begin_row(row, fence);
            }
        }
        Err(StoreError::new(
            StoreErrorKind::Unavailable,
            "postgres: the record kept changing under begin; retry",
        ))
    }

    async fn complete_on(
        &self,
        tx: Tx<'_>,
        key: &Key,
        fence: Fence,
        output: &[u8],
        ttl: Duration,
    ) -> Result<Finish, StoreError> {
        let (fence, ttl, payload) = (fence.0 as i64, millis(ttl), notify_payload(key));
        let values: [(&(dyn ToSql + Sync), Type); 5] = [
            (&key.as_bytes(), Type::BYTEA),
            (&fence, Type::INT8),
            (&output, Type::BYTEA),
            (&ttl, Type::FLOAT8),
            (&payload, Type::TEXT),
        ];
        let rows = tx
            .query(&self.inner.sql.complete, &values)
            .await
            .map_err(|err| error("complete the record", err))?;
        Ok(finished(&rows))
    }

    async fn release_on(&self, tx: Tx<'_>, key: &Key, fence: Fence) -> Result<Finish, StoreError> {
        let (fence, payload) = (fence.0 as i64, notify_payload(key));
        let values: [(&(dyn ToSql + Sync), Type); 3] = [
            (&key.as_bytes(), Type::BYTEA),
            (&fence, Type::INT8),
            (&payload, Type::TEXT),
        ];
        let rows = tx
            .query(&self.inner.sql.release, &values)
            .await
            .map_err(|err| error("release the record", err))?;
        Ok(finished(&rows))
    }
}

/// Reads one row of `begin`, where a claim that failed is a row of NULLs after `false`.
fn tx_begin_row(row: &Row, fence: Fence) -> Result<TxBegin, StoreError> {
    let busy = matches!(row.try_get::<_, bool>(0), Ok(false))
        && matches!(row.try_get::<_, Option<&[u8]>>(2), Ok(None));
    if busy {
        return Ok(TxBegin::Busy);
    }
    begin_row(row, fence).map(TxBegin::Answer)
}

/// Transactional mode on a tokio-postgres transaction.
impl<'t, 'c> AsyncInTransaction<&'t tokio_postgres::Transaction<'c>> for PostgresStore {
    async fn begin_in(
        &self,
        tx: &'t tokio_postgres::Transaction<'c>,
        key: &Key,
        fingerprint: &Fingerprint,
        lease: Duration,
        concurrent: Concurrent,
    ) -> Result<TxBegin, StoreError> {
        let tx = Tx::Plain(tx);
        self.begin_on(tx, key, fingerprint, lease, concurrent).await
    }

    async fn complete_in(
        &self,
        tx: &'t tokio_postgres::Transaction<'c>,
        key: &Key,
        fence: Fence,
        output: &[u8],
        ttl: Duration,
    ) -> Result<Finish, StoreError> {
        let tx = Tx::Plain(tx);
        self.complete_on(tx, key, fence, output, ttl).await
    }

    async fn release_in(
        &self,
        tx: &'t tokio_postgres::Transaction<'c>,
        key: &Key,
        fence: Fence,
    ) -> Result<Finish, StoreError> {
        self.release_on(Tx::Plain(tx), key, fence).await
    }
}

/// Transactional mode on a deadpool transaction (statements cached per connection).
impl<'t, 'c> AsyncInTransaction<&'t deadpool_postgres::Transaction<'c>> for PostgresStore {
    async fn begin_in(
        &self,
        tx: &'t deadpool_postgres::Transaction<'c>,
        key: &Key,
        fingerprint: &Fingerprint,
        lease: Duration,
        concurrent: Concurrent,
    ) -> Result<TxBegin, StoreError> {
        let tx = Tx::Pooled(tx);
        self.begin_on(tx, key, fingerprint, lease, concurrent).await
    }

    async fn complete_in(
        &self,
        tx: &'t deadpool_postgres::Transaction<'c>,
        key: &Key,
        fence: Fence,
        output: &[u8],
        ttl: Duration,
    ) -> Result<Finish, StoreError> {
        let tx = Tx::Pooled(tx);
        self.complete_on(tx, key, fence, output, ttl).await
    }

    async fn release_in(
        &self,
        tx: &'t deadpool_postgres::Transaction<'c>,
        key: &Key,
        fence: Fence,
    ) -> Result<Finish, StoreError> {
        self.release_on(Tx::Pooled(tx), key, fence).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_differ_by_key_and_schema_and_are_stable() {
        let key =
            |token: &str| Key::new(crate::store::Operation::Named("CreateOrder"), None, token);
        let (a, b) = (
            key("a").expect("a valid token"),
            key("b").expect("a valid token"),
        );
        assert_eq!(claim_lock(1, &a), claim_lock(1, &a.clone()));
        assert_ne!(claim_lock(1, &a), claim_lock(1, &b));
        assert_ne!(
            claim_lock(1, &a),
            claim_lock(2, &a),
            "another schema, another lock"
        );
    }
}
