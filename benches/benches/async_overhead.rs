//! Async handlers: `#[idempotent]` on an async fn over `MemoryStore`, beside the crates.io
//! crate named `idempotent` (0.3) used as its README shows (serde_json bytes of the request
//! fingerprinted with its xxHash strategy, `try_insert`, the handler, `complete` with the
//! response's JSON; a replay decodes the cached JSON), on the same request and response, in
//! one run: first calls (a fresh token each) and replays.
//! Run with `cargo bench -p idempotent-benches --bench async_overhead`.

// criterion's macros emit functions without docs.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use idempotent_benches::{handler, sample_request, CreateRouteTable, RouteTable, Service};
use idempotent_crates_io::entry::ExistingEntry;
use idempotent_crates_io::fingerprint::{DefaultFingerprintStrategy, FingerprintStrategy};
use idempotent_crates_io::store::memory::MemoryStore as Store03;
use idempotent_crates_io::store::{IdempotencyStore, InsertResult};
use idempotent_crates_io::{CachedResponse, IdempotencyEntry, IdempotencyKey, Metadata};

const TTL: Duration = Duration::from_secs(24 * 3600);

/// Why a call of the 0.3 crate did not answer a response.
#[derive(Debug)]
enum Refused {
    Key,
    Codec,
    Mismatch,
    InProgress,
}

/// One call through the 0.3 crate, as its README shows.
async fn call_03(
    store: &Store03,
    request: CreateRouteTable,
    token: &str,
) -> Result<RouteTable, Refused> {
    let key = IdempotencyKey::new(token).map_err(|_| Refused::Key)?;
    let body = serde_json::to_vec(&request).map_err(|_| Refused::Codec)?;
    let fingerprint = DefaultFingerprintStrategy.compute("CreateRouteTable", &body);
    let inserted = store.try_insert(&key, IdempotencyEntry::new(fingerprint, TTL));
    match inserted.await {
        Ok(InsertResult::Claimed { fencing_token }) => {
            let response = handler(request);
            let cached = CachedResponse {
                status_code: 201,
                metadata: Metadata::default(),
                body: serde_json::to_vec(&response)
                    .map_err(|_| Refused::Codec)?
                    .into(),
            };
            let completed = IdempotencyEntry::new(fingerprint, TTL).complete(cached);
            let _ = store.complete(&key, completed, fencing_token).await;
            Ok(response)
        }
        Ok(InsertResult::Exists(ExistingEntry::Completed(entry))) => {
            if !entry.fingerprint_matches(fingerprint) {
                return Err(Refused::Mismatch);
            }
            serde_json::from_slice(&entry.into_response().body).map_err(|_| Refused::Codec)
        }
        Ok(InsertResult::Exists(ExistingEntry::Processing(_))) => Err(Refused::InProgress),
        Err(never) => match never {},
    }
}

fn tokens(count: u64) -> Vec<String> {
    (0..count)
        .map(|i| format!("5d0c7a5e-1c4b-4f7e-9a55-{i:012}"))
        .collect()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime")
}

fn first_call(c: &mut Criterion) {
    let mut group = c.benchmark_group("first_call_async");
    let runtime = runtime();
    group.bench_function("crates_io_idempotent_0_3", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let (store, tokens) =
                    (Store03::new(1024, Duration::from_secs(3600)), tokens(iters));
                let request = sample_request();
                let start = Instant::now();
                for token in &tokens {
                    let _ = black_box(call_03(&store, request.clone(), token).await);
                }
                start.elapsed()
            })
        })
    });
    group.bench_function("idempotent", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let (service, tokens) = (Service::default(), tokens(iters));
                let request = sample_request();
                let start = Instant::now();
                for token in &tokens {
                    let _ = black_box(service.create_async(request.clone(), token).await);
                }
                start.elapsed()
            })
        })
    });
    group.finish();
}

fn replay(c: &mut Criterion) {
    let mut group = c.benchmark_group("replay_async");
    let runtime = runtime();
    let token = "5d0c7a5e-1c4b-4f7e-9a55-000000000000";
    group.bench_function("crates_io_idempotent_0_3", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let (store, request) = (
                    Store03::new(1024, Duration::from_secs(3600)),
                    sample_request(),
                );
                let first = call_03(&store, request.clone(), token).await;
                assert!(first.is_ok(), "{first:?}");
                let start = Instant::now();
                for _ in 0..iters {
                    let _ = black_box(call_03(&store, request.clone(), token).await);
                }
                start.elapsed()
            })
        })
    });
    group.bench_function("idempotent", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let (service, request) = (Service::default(), sample_request());
                let first = service.create_async(request.clone(), token).await;
                assert!(first.is_ok(), "{first:?}");
                let start = Instant::now();
                for _ in 0..iters {
                    let _ = black_box(service.create_async(request.clone(), token).await);
                }
                start.elapsed()
            })
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
    targets = first_call, replay
}
criterion_main!(benches);
