//! An orders service in transactional mode on SQLite, shared by the transactional tests and
//! the worker process they kill: each call writes an order row and its idempotency record in
//! the caller's transaction.

use idempotent_runtime::{idempotent, SqliteStore};

/// The orders table, beside the store's own in the same database file.
pub const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    item TEXT NOT NULL,
    quantity INTEGER NOT NULL
)";

/// The service: its store, on the database the caller's transactions are on.
pub struct Orders {
    /// The store.
    pub store: SqliteStore,
}

impl Orders {
    /// Opens the store (creating its table) and the orders table in `path`.
    pub fn open(path: &std::path::Path) -> Self {
        let store = SqliteStore::open(path).expect("opens the store");
        let connection = connection(path);
        connection
            .execute(SCHEMA, [])
            .expect("creates the orders table");
        Self { store }
    }

    /// Writes an order, inside `tx` with its record; answers the order's id.
    #[idempotent(token = "token", store = self.store, tx = "tx", name = "CreateOrder")]
    pub fn create(
        &self,
        item: String,
        quantity: u32,
        token: &str,
        tx: &rusqlite::Transaction<'_>,
    ) -> Result<i64, String> {
        write_order(tx, &item, quantity)
    }

    /// [`create`](Self::create), recording an error too (`cache_errors`).
    #[idempotent(token = "token", store = self.store, tx = "tx", name = "CreateOrderStrict", cache_errors)]
    pub fn create_strict(
        &self,
        item: String,
        quantity: u32,
        token: &str,
        tx: &rusqlite::Transaction<'_>,
    ) -> Result<i64, String> {
        write_order(tx, &item, quantity)
    }
}

/// The handlers' own write: one order row in `tx`.
fn write_order(tx: &rusqlite::Transaction<'_>, item: &str, quantity: u32) -> Result<i64, String> {
    if quantity == 0 {
        return Err("quantity must be positive".into());
    }
    tx.execute(
        "INSERT INTO orders (item, quantity) VALUES (?1, ?2)",
        rusqlite::params![item, quantity],
    )
    .map_err(|err| err.to_string())?;
    Ok(tx.last_insert_rowid())
}

/// A connection of the caller's own to `path`, waiting (not failing) while another writes.
pub fn connection(path: &std::path::Path) -> rusqlite::Connection {
    let connection = rusqlite::Connection::open(path).expect("opens the database");
    connection
        .busy_timeout(std::time::Duration::from_secs(30))
        .expect("sets the busy timeout");
    connection
}

/// How many orders the database holds.
pub fn count(path: &std::path::Path) -> i64 {
    connection(path)
        .query_row("SELECT count(*) FROM orders", [], |row| row.get(0))
        .expect("counts the orders")
}
