//! Bytes of memory per completed record in `MemoryStore`, read from the allocator, against the
//! bytes a record stores (its output and its token): `memory [N]` (default 1,000,000).
//!
//! ```sh
//! cargo run --release -p idempotent-benches --bin memory -- 1000000
//! ```

use std::alloc::System;

use idempotent_benches::{handler, sample_request, Service};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static ALLOCATOR: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let tokens: Vec<String> = (0..count)
        .map(|i| format!("5d0c7a5e-1c4b-4f7e-9a55-{i:012}"))
        .collect();
    let request = sample_request();
    let service = Service::default();
    let region = Region::new(ALLOCATOR);
    for token in &tokens {
        let _ = service.create(request.clone(), token);
    }
    let change = region.change();
    let live = change.bytes_allocated as f64 - change.bytes_deallocated as f64
        + change.bytes_reallocated as f64;
    let output = idempotent_runtime::__private::recorded_len(handler(sample_request()));
    let stored = output + tokens[0].len();
    let per_record = live / count as f64;
    println!(
        "{count} records: {per_record:.0} bytes each for {stored} stored ({output}-byte output, {}-byte token): {:.2}x + {:.0}; target <= 2x + 64 = {}",
        tokens[0].len(),
        per_record / stored as f64,
        per_record - 2.0 * stored as f64,
        2 * stored + 64,
    );
}
