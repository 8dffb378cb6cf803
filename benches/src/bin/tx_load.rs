//! Transactional mode on PostgreSQL under load, beside the same transaction without it, in one
//! run. C concurrent tasks (C = 1, 16, 64), each on its own pooled connection, loop for a few
//! seconds over one of:
//!
//! - `bare`: `BEGIN`, insert an order (a prepared statement), `COMMIT`: what a careful service
//!   writes without idempotency, the baseline;
//! - `tx`: the same transaction around `#[idempotent(tx = "tx")]` on deadpool's transaction
//!   (the record inserted before the order and completed after it, in the transaction);
//! - `tx plain`: the same on a plain `tokio_postgres` transaction (statements sent typed, no
//!   statement cache);
//! - `beside`: the ordinary mode, the record kept by `PostgresStore` on its own connections
//!   (a pool of 32, what `max_connections = 100` leaves beside the tasks' 64) and the order
//!   inserted on the task's connection (three commits a call);
//! - `replay`: `BEGIN`, a replay in transactional mode, `COMMIT`, beside `read`: `BEGIN`, select
//!   the order by its id, `COMMIT`.
//!
//! It prints calls/s, p50 and p99 of each, and each one's ratio to its baseline.
//!
//! ```sh
//! cargo run --release -p idempotent-benches --features stores --bin tx_load -- [--seconds 5]
//! ```
//!
//! Needs PostgreSQL on 127.0.0.1:5432 (database `test`), as the tests do.

use std::time::{Duration, Instant};

use idempotent_benches::phase::Phase;
use idempotent_benches::{sample_request, CreateRouteTable};
use idempotent_runtime::store::postgres::deadpool_postgres::{self, Object, Pool};
use idempotent_runtime::store::postgres::tokio_postgres::{self, types::Type, NoTls};
use idempotent_runtime::{idempotent, PostgresStore};

const POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";
const CONCURRENCY: [usize; 3] = [1, 16, 64];

/// An orders service: an order row per request, its record beside it.
struct Shop {
    store: PostgresStore,
    insert: String,
    select: String,
}

impl Shop {
    #[idempotent(token = "token", store = self.store, tx = "tx", name = "LoadCreateOrder")]
    async fn create(
        &self,
        request: CreateRouteTable,
        token: String,
        tx: &deadpool_postgres::Transaction<'_>,
    ) -> Result<i64, String> {
        let statement = tx.prepare_cached(&self.insert).await.map_err(text)?;
        let row = tx.query_one(&statement, &[&body()]).await.map_err(text)?;
        Ok(row.get(0))
    }

    #[idempotent(token = "token", store = self.store, tx = "tx", name = "LoadCreateOrderPlain")]
    async fn create_plain(
        &self,
        request: CreateRouteTable,
        token: String,
        tx: &tokio_postgres::Transaction<'_>,
    ) -> Result<i64, String> {
        let row = tx
            .query_typed(&self.insert, &[(&body(), Type::BYTEA)])
            .await
            .map_err(text)?;
        row.first()
            .map(|row| row.get(0))
            .ok_or_else(|| "no id".into())
    }

    #[idempotent(token = "token", store = self.store, name = "LoadCreateOrderBeside", skip(client))]
    async fn create_beside(
        &self,
        request: CreateRouteTable,
        token: String,
        client: &Object,
    ) -> Result<i64, String> {
        let statement = client.prepare_cached(&self.insert).await.map_err(text)?;
        let row = client
            .query_one(&statement, &[&body()])
            .await
            .map_err(text)?;
        Ok(row.get(0))
    }
}

impl Shop {
    fn table(&self) -> String {
        format!("\"{}\".orders", self.store.schema())
    }
}

fn text(err: impl std::fmt::Display) -> String {
    err.to_string()
}

/// An order's 200 bytes, as the store-load baselines write.
fn body() -> Vec<u8> {
    vec![b'x'; 200]
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Bare,
    Tx,
    TxPlain,
    Beside,
    Replay,
    Read,
}

/// One call of `mode` on the task's own connection: the transaction and what runs in it.
async fn call(
    shop: &Shop,
    client: &mut Object,
    mode: Mode,
    token: String,
    read_id: i64,
) -> Result<(), String> {
    let request = sample_request();
    match mode {
        Mode::Bare => {
            let tx = client.transaction().await.map_err(text)?;
            let statement = tx.prepare_cached(&shop.insert).await.map_err(text)?;
            tx.query_one(&statement, &[&body()]).await.map_err(text)?;
            tx.commit().await.map_err(text)
        }
        Mode::Tx | Mode::Replay => {
            let tx = client.transaction().await.map_err(text)?;
            shop.create(request, token, &tx).await.map_err(text)?;
            tx.commit().await.map_err(text)
        }
        Mode::TxPlain => {
            let plain: &mut tokio_postgres::Client = client;
            let tx = plain.transaction().await.map_err(text)?;
            shop.create_plain(request, token, &tx).await.map_err(text)?;
            tx.commit().await.map_err(text)
        }
        Mode::Beside => shop
            .create_beside(request, token, client)
            .await
            .map(drop)
            .map_err(text),
        Mode::Read => {
            let tx = client.transaction().await.map_err(text)?;
            let statement = tx.prepare_cached(&shop.select).await.map_err(text)?;
            tx.query_one(&statement, &[&read_id]).await.map_err(text)?;
            tx.commit().await.map_err(text)
        }
    }
}

/// `concurrency` tasks, each on a connection of its own, call `mode` for `seconds`.
async fn drive(
    shop: &std::sync::Arc<Shop>,
    pool: &Pool,
    concurrency: usize,
    seconds: f64,
    mode: Mode,
    run: &str,
) -> Result<Phase, String> {
    let mut clients = Vec::new();
    for _ in 0..concurrency {
        clients.push(pool.get().await.map_err(text)?);
    }
    // A replay's token, and an order to read, per task.
    let mut read_ids = Vec::new();
    for (task, client) in clients.iter_mut().enumerate() {
        let token = format!("{run}-{task}-replay");
        call(shop, client, Mode::Tx, token, 0).await?;
        let row = client
            .query_one(&format!("SELECT max(id) FROM {}", shop.table()), &[])
            .await
            .map_err(text)?;
        read_ids.push(row.get::<_, i64>(0));
    }
    let began = Instant::now();
    let until = began + Duration::from_secs_f64(seconds);
    let tasks: Vec<_> = clients
        .into_iter()
        .zip(read_ids)
        .enumerate()
        .map(|(task, (mut client, read_id))| {
            let (shop, run) = (shop.clone(), run.to_owned());
            tokio::spawn(async move {
                let (mut latencies, mut errors, mut n) = (Vec::new(), 0, 0u64);
                while Instant::now() < until {
                    let token = match mode {
                        Mode::Replay => format!("{run}-{task}-replay"),
                        _ => format!("{run}-{task}-{n}"),
                    };
                    n += 1;
                    let start = Instant::now();
                    let answer = call(&shop, &mut client, mode, token, read_id).await;
                    latencies.push(start.elapsed());
                    errors += usize::from(answer.is_err());
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut done = Vec::new();
    for task in tasks {
        done.push(task.await.map_err(text)?);
    }
    Ok(Phase::gather(done, began.elapsed()))
}

async fn run(seconds: f64) -> Result<(), String> {
    let schema = format!("idempotent_tx_load_{}", std::process::id());
    let store = PostgresStore::new(POSTGRES)
        .and_then(|store| store.with_schema(&schema))
        .and_then(|store| store.with_pool_size(32))
        .map_err(text)?;
    store.migrate().await.map_err(text)?;
    let mut config = deadpool_postgres::Config::new();
    config.url = Some(POSTGRES.into());
    config.pool = Some(deadpool_postgres::PoolConfig::new(64));
    let pool = config
        .create_pool(Some(deadpool_postgres::Runtime::Tokio1), NoTls)
        .map_err(text)?;
    let table = format!("\"{schema}\".orders");
    pool.get()
        .await
        .map_err(text)?
        .batch_execute(&format!(
            "CREATE TABLE {table} (id bigserial PRIMARY KEY, body bytea NOT NULL)"
        ))
        .await
        .map_err(text)?;
    let shop = std::sync::Arc::new(Shop {
        store,
        insert: format!("INSERT INTO {table} (body) VALUES ($1) RETURNING id"),
        select: format!("SELECT body FROM {table} WHERE id = $1"),
    });
    println!("## PostgreSQL, transactional mode beside the same transaction without it");
    for concurrency in CONCURRENCY {
        let mut measured = Vec::new();
        for mode in [
            Mode::Bare,
            Mode::Tx,
            Mode::TxPlain,
            Mode::Beside,
            Mode::Read,
            Mode::Replay,
        ] {
            let run = format!("c{concurrency}");
            measured.push(drive(&shop, &pool, concurrency, seconds, mode, &run).await?);
        }
        let [bare, tx, plain, beside, read, replay] = &measured[..] else {
            unreachable!("six phases");
        };
        let ratio = |a: &Phase, b: &Phase| a.rate() / b.rate();
        println!("C={concurrency:<2} bare     {}", bare.show());
        println!(
            "     tx       {} | / bare {:.2}",
            tx.show(),
            ratio(tx, bare)
        );
        println!(
            "     tx plain {} | / bare {:.2}",
            plain.show(),
            ratio(plain, bare)
        );
        println!(
            "     beside   {} | / bare {:.2}",
            beside.show(),
            ratio(beside, bare)
        );
        println!("     read     {}", read.show());
        println!(
            "     replay   {} | / read {:.2}",
            replay.show(),
            ratio(replay, read)
        );
    }
    let client = pool.get().await.map_err(text)?;
    client
        .batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .await
        .map_err(text)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seconds = args
        .iter()
        .position(|arg| arg == "--seconds")
        .and_then(|at| args.get(at + 1)?.parse().ok())
        .unwrap_or(5.0);
    if let Err(err) = run(seconds).await {
        eprintln!("tx_load: {err} (is PostgreSQL up at {POSTGRES}?)");
        std::process::exit(1);
    }
}
