//! Exactly-once effects: an orders service writes each order and its idempotency record in one
//! SQLite transaction (`tx = "tx"`). A worker process writes an order and is killed before it
//! commits; the client's retry then creates the order exactly once.
//!
//! Run with `cargo run -p idempotent-examples --example orders_tx`. It ends with
//! `orders created: 1`. (PostgreSQL's transactional mode is not built yet.)

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use idempotent_runtime::{idempotent, SqliteStore};
use rusqlite::{params, Connection, Transaction, TransactionBehavior};

struct Orders {
    store: SqliteStore,
}

impl Orders {
    #[idempotent(token = "token", store = self.store, tx = "tx", name = "CreateOrder")]
    pub(crate) fn create(
        &self,
        item: String,
        token: &str,
        tx: &Transaction<'_>,
    ) -> Result<i64, String> {
        tx.execute("INSERT INTO orders (item) VALUES (?1)", params![item])
            .map_err(|err| err.to_string())?;
        Ok(tx.last_insert_rowid())
    }
}

/// The store and the orders table, side by side in one database file.
fn open(path: &Path) -> Result<(Orders, Connection), Box<dyn std::error::Error>> {
    let orders = Orders {
        store: SqliteStore::open(path)?,
    };
    let db = Connection::open(path)?;
    db.busy_timeout(std::time::Duration::from_secs(10))?;
    db.execute(
        "CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, item TEXT NOT NULL)",
        [],
    )?;
    Ok((orders, db))
}

/// One request in its own transaction; `crash` stops after the write, before the commit.
fn handle(path: &Path, crash: bool) -> Result<String, Box<dyn std::error::Error>> {
    let (orders, mut db) = open(path)?;
    let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let outcome = orders
        .create_with_outcome("widget".into(), "order-7f3a", &tx)
        .map_err(|err| err.to_string())?;
    if crash {
        println!("written");
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
    tx.commit()?;
    let how = if outcome.replayed() {
        "replayed"
    } else {
        "created"
    };
    Ok(format!("order {} ({how})", outcome.value()))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [mode, path] = args.as_slice() {
        if mode == "crash-worker" {
            handle(Path::new(path), true)?;
            return Ok(());
        }
    }
    let path: PathBuf =
        std::env::temp_dir().join(format!("idempotent-orders-{}.db", std::process::id()));
    let database = path.to_string_lossy().into_owned();
    println!("SQLite at {database}");
    let mut worker = Command::new(std::env::current_exe()?)
        .args(["crash-worker", database.as_str()])
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
    println!("{}", handle(&path, false)?);
    println!("the client retries again: {}", handle(&path, false)?);
    let (_, db) = open(&path)?;
    let created: i64 = db.query_row("SELECT count(*) FROM orders", [], |row| row.get(0))?;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{database}{suffix}"));
    }
    println!("orders created: {created}");
    Ok(())
}
