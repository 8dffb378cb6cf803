//! Replays the committed corpus through every target's checks under plain `cargo test`, so a
//! regression a fuzzer once found fails without a fuzzer:
//!
//! ```sh
//! RUSTFLAGS="--cfg fuzzing" cargo test --manifest-path fuzz/Cargo.toml
//! ```

use std::path::Path;

/// Replays on a thread with a large stack: the fuzzer runs optimised on the main thread's 8 MiB,
/// and some inputs (deeply nested token trees) recurse deeply in a debug build.
fn replay(target: &'static str, check: fn(&[u8])) {
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || replay_here(target, check))
        .expect("a replay thread")
        .join()
        .unwrap_or_else(|_| panic!("replaying the {target} corpus failed"));
}

fn replay_here(target: &str, check: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("no corpus at {}: {err}", dir.display()));
    let mut replayed = 0;
    for entry in entries {
        let path = entry.expect("a corpus entry").path();
        let data = std::fs::read(&path).expect("a readable corpus file");
        check(&data);
        replayed += 1;
    }
    assert!(replayed > 0, "the {target} corpus is empty");
}

#[test]
fn fingerprint_corpus() {
    replay("fingerprint", idempotent_fuzz::fingerprint);
}

#[test]
fn output_corpus() {
    replay("output", idempotent_fuzz::output);
}

#[test]
fn record_corpus() {
    replay("record", idempotent_fuzz::record);
}

#[test]
fn token_corpus() {
    replay("token", idempotent_fuzz::token);
}

#[test]
fn attribute_corpus() {
    replay("attribute", idempotent_fuzz::attribute);
}
