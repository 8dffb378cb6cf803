//! A worker the transactional tests run as a separate process:
//!
//! `tx-worker sqlite <database file> <token> <mode>`
//! `tx-worker postgres <schema> <token> <mode>`
//!
//! It opens a transaction on the database and calls the orders service in it. In mode `hang`
//! it prints `written` once the handler wrote its order (before the commit) and sleeps until it
//! is killed; in mode `commit` it commits and prints `order <id> (created)` or
//! `order <id> (replayed)` (or `error <message>`). Each kind needs its cargo feature.
// Without either feature the worker only prints its usage.
#![cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]

use std::io::Write;

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// What the call answered, as the worker prints it once committed.
fn answer<E: std::fmt::Display>(created: &Result<idempotent_runtime::Outcome<i64>, E>) -> String {
    match created {
        Ok(outcome) if outcome.replayed() => format!("order {} (replayed)", outcome.value()),
        Ok(outcome) => format!("order {} (created)", outcome.value()),
        Err(err) => format!("error {err}"),
    }
}

/// Sleeps until the test kills this process.
fn hang() -> ! {
    say("written");
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}

#[cfg(feature = "sqlite")]
fn sqlite(database: &str, token: &str, mode: &str) {
    use idempotent_tests::orders::{connection, Orders};
    let path = std::path::Path::new(database);
    let orders = Orders::open(path);
    let mut connection = connection(path);
    let tx = connection
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .expect("starts a transaction");
    let created = orders.create_with_outcome("widget".into(), 3, token, &tx);
    if mode == "hang" {
        hang();
    }
    match (created.is_ok(), tx.commit()) {
        (true, Err(err)) => say(&format!("error {err}")),
        _ => say(&answer(&created)),
    }
}

#[cfg(feature = "postgres")]
fn postgres(schema: &str, token: &str, mode: &str) {
    use idempotent_runtime::PostgresStore;
    use idempotent_tests::orders_pg::{connect, Orders};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("starts a runtime");
    runtime.block_on(async {
        let store = PostgresStore::new(&idempotent_tests::postgres_server::url())
            .and_then(|store| store.with_schema(schema))
            .expect("valid URL and schema");
        let orders = Orders::on(store);
        let mut client = connect().await;
        let tx = client.transaction().await.expect("starts a transaction");
        let created = orders
            .create_with_outcome("widget".into(), 3, token, &tx)
            .await;
        if mode == "hang" {
            hang();
        }
        match (created.is_ok(), tx.commit().await) {
            (true, Err(err)) => say(&format!("error {err}")),
            _ => say(&answer(&created)),
        }
    });
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [kind, database, token, mode] = args.as_slice() else {
        eprintln!(
            "usage: tx-worker <sqlite|postgres> <database file|schema> <token> <hang|commit>"
        );
        std::process::exit(2);
    };
    let _ = (database, token, mode);
    match kind.as_str() {
        #[cfg(feature = "sqlite")]
        "sqlite" => sqlite(database, token, mode),
        #[cfg(feature = "postgres")]
        "postgres" => postgres(database, token, mode),
        other => {
            eprintln!("tx-worker: no {other:?} here (is its cargo feature on?)");
            std::process::exit(2);
        }
    }
}
