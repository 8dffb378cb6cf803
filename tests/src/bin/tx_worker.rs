//! A worker the transactional test runs as a separate process:
//!
//! `tx-worker <database> <token> <mode>`
//!
//! It opens a transaction on the database and calls the orders service in it. In mode `hang`
//! it prints `written` once the handler wrote its order (before the commit) and sleeps until it
//! is killed; in mode `commit` it commits and prints `order <id>` (or `error <message>`).

use std::io::Write;

use idempotent_tests::orders::{connection, Orders};

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [database, token, mode] = args.as_slice() else {
        eprintln!("usage: tx-worker <database> <token> <hang|commit>");
        std::process::exit(2);
    };
    let path = std::path::Path::new(database);
    let orders = Orders::open(path);
    let mut connection = connection(path);
    let tx = connection
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .expect("starts a transaction");
    let created = orders.create("widget".into(), 3, token, &tx);
    if mode == "hang" {
        say("written");
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
    match created {
        Ok(id) => match tx.commit() {
            Ok(()) => say(&format!("order {id}")),
            Err(err) => say(&format!("error {err}")),
        },
        Err(err) => say(&format!("error {err}")),
    }
}
