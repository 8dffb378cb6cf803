//! An orders service in transactional mode on PostgreSQL, shared by the transactional tests and
//! the worker process they kill: each call writes an order row and its idempotency record in
//! the caller's transaction, in the store's own schema.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use tokio::sync::oneshot;

use idempotent_runtime::store::postgres::deadpool_postgres;
use idempotent_runtime::store::postgres::tokio_postgres::{self, NoTls, Transaction};
use idempotent_runtime::{idempotent, PostgresStore};

/// The service: its store, on the database the caller's transactions are on.
pub struct Orders {
    /// The store.
    pub store: PostgresStore,
    /// The orders table, quoted, in the store's schema.
    table: String,
    /// Makes the next handler panic after its write (the tests' fault).
    panic_after_write: AtomicBool,
    /// Makes the next handler say so here after its write, then never finish (to be dropped).
    park_after_write: Mutex<Option<oneshot::Sender<()>>>,
}

impl Orders {
    /// The service on `store`, creating its orders table (the store is migrated already).
    pub async fn open(store: PostgresStore) -> Self {
        let orders = Self::on(store);
        let client = connect().await;
        client
            .batch_execute(&format!(
                "CREATE TABLE IF NOT EXISTS {} (id bigserial PRIMARY KEY, item text NOT NULL, quantity integer NOT NULL)",
                orders.table
            ))
            .await
            .expect("creates the orders table");
        orders
    }

    /// The service on `store`, whose orders table exists.
    pub fn on(store: PostgresStore) -> Self {
        let table = format!("\"{}\".orders", store.schema());
        Self {
            store,
            table,
            panic_after_write: AtomicBool::new(false),
            park_after_write: Mutex::new(None),
        }
    }

    /// Makes the next call's handler panic once it has written its order.
    pub fn panic_after_the_next_write(&self) {
        self.panic_after_write.store(true, Ordering::SeqCst);
    }

    /// Makes the next call's handler stop for good once it has written its order; the answer
    /// resolves then, so the test can drop the call (cancel it) at that point.
    pub fn park_after_the_next_write(&self) -> oneshot::Receiver<()> {
        let (written, parked) = oneshot::channel();
        *self.park_after_write.lock().expect("not poisoned") = Some(written);
        parked
    }

    /// Writes an order inside `tx` with its record; answers the order's id. A duplicate in
    /// another open transaction is answered `RequestInProgress` (the default, `reject`).
    #[idempotent(token = "token", store = self.store, tx = "tx", name = "CreateOrder")]
    pub async fn create(
        &self,
        item: String,
        quantity: i32,
        token: &str,
        tx: &Transaction<'_>,
    ) -> Result<i64, String> {
        self.write_order(tx, &item, quantity).await
    }

    /// [`create`](Self::create), where a duplicate waits for the other transaction to end.
    #[idempotent(token = "token", store = self.store, tx = "tx", name = "CreateOrder", concurrent = "wait")]
    pub async fn create_waiting(
        &self,
        item: String,
        quantity: i32,
        token: &str,
        tx: &Transaction<'_>,
    ) -> Result<i64, String> {
        self.write_order(tx, &item, quantity).await
    }

    /// [`create`](Self::create), recording an error too (`cache_errors`).
    #[idempotent(token = "token", store = self.store, tx = "tx", name = "CreateOrderStrict", cache_errors)]
    pub async fn create_strict(
        &self,
        item: String,
        quantity: i32,
        token: &str,
        tx: &Transaction<'_>,
    ) -> Result<i64, String> {
        self.write_order(tx, &item, quantity).await
    }

    /// [`create`](Self::create) on a transaction of a deadpool pool.
    #[idempotent(token = "token", store = self.store, tx = "tx", name = "CreateOrder")]
    pub async fn create_pooled(
        &self,
        item: String,
        quantity: i32,
        token: &str,
        tx: &deadpool_postgres::Transaction<'_>,
    ) -> Result<i64, String> {
        self.write_order(tx, &item, quantity).await
    }

    /// The same operation outside transactional mode: the store's own steps, on its own
    /// connections, in the same table.
    #[idempotent(token = "token", store = self.store, name = "CreateOrder")]
    pub async fn create_outside(
        &self,
        item: String,
        quantity: i32,
        token: String,
    ) -> Result<i64, String> {
        Err(format!("not run in this test: {item} x {quantity}"))
    }

    /// The handlers' own write: one order row in `tx`.
    async fn write_order(
        &self,
        tx: &Transaction<'_>,
        item: &str,
        quantity: i32,
    ) -> Result<i64, String> {
        if quantity <= 0 {
            return Err("quantity must be positive".into());
        }
        let row = tx
            .query_one(
                &format!(
                    "INSERT INTO {} (item, quantity) VALUES ($1, $2) RETURNING id",
                    self.table
                ),
                &[&item, &quantity],
            )
            .await
            .map_err(|err| err.to_string())?;
        if self.panic_after_write.swap(false, Ordering::SeqCst) {
            panic!("the handler panics after its write");
        }
        let park = self.park_after_write.lock().expect("not poisoned").take();
        if let Some(written) = park {
            let _ = written.send(());
            std::future::pending::<()>().await;
        }
        Ok(row.get(0))
    }

    /// How many orders the table holds, as committed.
    pub async fn count(&self) -> i64 {
        self.count_of(&self.table).await
    }

    /// How many idempotency records the store's table holds, as committed.
    pub async fn records(&self) -> i64 {
        self.count_of(&format!("\"{}\".records", self.store.schema()))
            .await
    }

    async fn count_of(&self, table: &str) -> i64 {
        connect()
            .await
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .await
            .expect("counts the rows")
            .get(0)
    }
}

/// A connection of the caller's own to the test database, its driver running in a task.
pub async fn connect() -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(&crate::postgres_server::url(), NoTls)
        .await
        .expect("connects to PostgreSQL");
    tokio::spawn(connection);
    client
}
