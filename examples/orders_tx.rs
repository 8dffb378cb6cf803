//! Exactly-once effects: an orders service writes each order and its idempotency record in one
//! transaction (`tx = "tx"`), on SQLite and on PostgreSQL. On each database a worker process
//! writes an order and is killed before it commits; the client's retry then creates the order
//! exactly once, and a second retry replays it.
//!
//! ```text
//! cargo run -p idempotent-examples --example orders_tx             # SQLite, then PostgreSQL
//! cargo run -p idempotent-examples --example orders_tx -- sqlite   # one of them
//! cargo run -p idempotent-examples --example orders_tx -- postgres # POSTGRES_URL
//! ```
//!
//! Each database's part ends with `orders created: 1`. PostgreSQL defaults to
//! `postgres://postgres@127.0.0.1:5432/test`; the example works in a schema of its own and drops
//! it at the end.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use idempotent_runtime::store::postgres::tokio_postgres::{self, NoTls};
use idempotent_runtime::{idempotent, Outcome, PostgresStore, SqliteStore};
use rusqlite::{params, Connection, TransactionBehavior};

type Error = Box<dyn std::error::Error>;

/// The service on SQLite: a sync handler, the caller's `rusqlite` transaction.
struct SqliteOrders {
    store: SqliteStore,
}

impl SqliteOrders {
    #[idempotent(token = "token", store = self.store, tx = "tx", name = "CreateOrder")]
    pub(crate) fn create(
        &self,
        item: String,
        token: &str,
        tx: &rusqlite::Transaction<'_>,
    ) -> Result<i64, String> {
        tx.execute("INSERT INTO orders (item) VALUES (?1)", params![item])
            .map_err(|err| err.to_string())?;
        Ok(tx.last_insert_rowid())
    }
}

/// The service on PostgreSQL: an async handler, the caller's `tokio_postgres` transaction.
struct PostgresOrders {
    store: PostgresStore,
}

impl PostgresOrders {
    #[idempotent(token = "token", store = self.store, tx = "tx", name = "CreateOrder")]
    pub(crate) async fn create(
        &self,
        item: String,
        token: &str,
        tx: &tokio_postgres::Transaction<'_>,
    ) -> Result<i64, String> {
        let insert = format!(
            "INSERT INTO \"{}\".orders (item) VALUES ($1) RETURNING id",
            self.store.schema()
        );
        let row = tx
            .query_one(&insert, &[&item])
            .await
            .map_err(|err| err.to_string())?;
        Ok(row.get(0))
    }
}

/// The store and the orders table, side by side in one database file.
fn open_sqlite(path: &str) -> Result<(SqliteOrders, Connection), Error> {
    let orders = SqliteOrders {
        store: SqliteStore::open(Path::new(path))?,
    };
    let db = Connection::open(path)?;
    db.busy_timeout(std::time::Duration::from_secs(10))?;
    db.execute(
        "CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, item TEXT NOT NULL)",
        [],
    )?;
    Ok((orders, db))
}

/// One SQLite request in its own transaction; `crash` stops after the write, before the commit.
fn sqlite_request(path: &str, crash: bool) -> Result<String, Error> {
    let (orders, mut db) = open_sqlite(path)?;
    let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let outcome = orders
        .create_with_outcome("widget".into(), "order-7f3a", &tx)
        .map_err(|err| err.to_string())?;
    if crash {
        hang();
    }
    tx.commit()?;
    Ok(answer(&outcome))
}

fn postgres_url() -> String {
    std::env::var("POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A connection of the caller's own, its driver running in a task.
async fn connect() -> Result<tokio_postgres::Client, Error> {
    let (client, connection) = tokio_postgres::connect(&postgres_url(), NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

fn postgres_orders(schema: &str) -> Result<PostgresOrders, Error> {
    let store = PostgresStore::new(&postgres_url())?.with_schema(schema)?;
    Ok(PostgresOrders { store })
}

/// One PostgreSQL request in its own transaction; `crash` stops after the write.
async fn postgres_request(schema: &str, crash: bool) -> Result<String, Error> {
    let orders = postgres_orders(schema)?;
    let mut client = connect().await?;
    let tx = client.transaction().await?;
    let outcome = orders
        .create_with_outcome("widget".into(), "order-7f3a", &tx)
        .await
        .map_err(|err| err.to_string())?;
    if crash {
        hang();
    }
    tx.commit().await?;
    Ok(answer(&outcome))
}

fn answer(outcome: &Outcome<i64>) -> String {
    let how = if outcome.replayed() {
        "replayed"
    } else {
        "created"
    };
    format!("order {} ({how})", outcome.value())
}

/// The worker's end: says its order is written, then waits to be killed.
fn hang() -> ! {
    println!("written");
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}

/// Starts this program as a worker on `database` and kills it once its order is written.
fn crash_a_worker(kind: &str, database: &str) -> Result<(), Error> {
    let mut worker = Command::new(std::env::current_exe()?)
        .args(["crash-worker", kind, database])
        .stdout(Stdio::piped())
        .spawn()?;
    let mut line = String::new();
    if let Some(out) = worker.stdout.take() {
        BufReader::new(out).read_line(&mut line)?;
    }
    println!("worker {}: the order is {}", worker.id(), line.trim());
    worker.kill()?;
    worker.wait()?;
    println!("worker killed before its commit; the client retries");
    Ok(())
}

fn on_sqlite() -> Result<(), Error> {
    let path = std::env::temp_dir().join(format!("idempotent-orders-{}.db", std::process::id()));
    let database = path.to_string_lossy().into_owned();
    println!("SQLite at {database}");
    crash_a_worker("sqlite", &database)?;
    println!("{}", sqlite_request(&database, false)?);
    println!(
        "the client retries again: {}",
        sqlite_request(&database, false)?
    );
    let (_, db) = open_sqlite(&database)?;
    let created: i64 = db.query_row("SELECT count(*) FROM orders", [], |row| row.get(0))?;
    drop(db);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{database}{suffix}"));
    }
    println!("orders created: {created}");
    Ok(())
}

async fn on_postgres() -> Result<(), Error> {
    let schema = format!("orders_example_{}", std::process::id());
    println!("PostgreSQL at {}, schema {schema}", postgres_url());
    let client = connect().await.map_err(|err| {
        format!("PostgreSQL is not reachable at {} ({err}); set POSTGRES_URL, or run `orders_tx sqlite`", postgres_url())
    })?;
    postgres_orders(&schema)?.store.migrate().await?;
    client
        .batch_execute(&format!(
            "CREATE TABLE \"{schema}\".orders (id bigserial PRIMARY KEY, item text NOT NULL)"
        ))
        .await?;
    let run = async {
        crash_a_worker("postgres", &schema)?;
        println!("{}", postgres_request(&schema, false).await?);
        println!(
            "the client retries again: {}",
            postgres_request(&schema, false).await?
        );
        let row = client
            .query_one(&format!("SELECT count(*) FROM \"{schema}\".orders"), &[])
            .await?;
        Ok::<i64, Error>(row.get(0))
    };
    let created = run.await;
    client
        .batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .await?;
    println!("orders created: {}", created?);
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["crash-worker", "sqlite", path] => sqlite_request(path, true).map(drop),
        ["crash-worker", "postgres", schema] => postgres_request(schema, true).await.map(drop),
        ["sqlite"] => on_sqlite(),
        ["postgres"] => on_postgres().await,
        [] => {
            on_sqlite()?;
            println!();
            on_postgres().await
        }
        _ => Err("usage: orders_tx [sqlite|postgres]".into()),
    }
}
