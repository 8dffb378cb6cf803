//! What `#[idempotent]` costs beyond the handler, beside the two baselines of DESIGN.md's
//! budget, on a ~200-byte request and response: the first call (execute and record) and a
//! replay. Run with `cargo bench -p idempotent-benches`.

// criterion's macros emit functions without docs.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use idempotent_benches::naive::Naive;
use idempotent_benches::tight::{Postcard, SameEncodings, Tight};
use idempotent_benches::{handler, sample_request, CreateRouteTable, Service};

fn tokens(count: u64) -> Vec<String> {
    (0..count)
        .map(|i| format!("5d0c7a5e-1c4b-4f7e-9a55-{i:012}"))
        .collect()
}

/// Times `iters` first calls, each with a fresh token, on a store made for this sample.
fn first_calls<S>(
    iters: u64,
    make: impl Fn() -> S,
    call: impl Fn(&S, CreateRouteTable, &str),
) -> Duration {
    let (store, tokens, request) = (make(), tokens(iters), sample_request());
    let start = Instant::now();
    for token in &tokens {
        call(&store, request.clone(), token);
    }
    let elapsed = start.elapsed();
    drop(store);
    elapsed
}

fn first_call(c: &mut Criterion) {
    let mut group = c.benchmark_group("first_call");
    group.bench_function("handler_only", |b| {
        b.iter_custom(|iters| first_calls(iters, || (), |_, r, t| drop(black_box((handler(r), t)))))
    });
    group.bench_function("tight_by_hand", |b| {
        b.iter_custom(|iters| {
            first_calls(iters, Tight::<Postcard>::default, |s, r, t| {
                drop(black_box(s.call(r, t, handler)))
            })
        })
    });
    group.bench_function("tight_same_encodings", |b| {
        b.iter_custom(|iters| {
            first_calls(iters, Tight::<SameEncodings>::default, |s, r, t| {
                drop(black_box(s.call(r, t, handler)))
            })
        })
    });
    group.bench_function("naive_by_hand", |b| {
        b.iter_custom(|iters| {
            first_calls(iters, Naive::default, |s, r, t| {
                drop(black_box(s.call(r, t, handler)))
            })
        })
    });
    group.bench_function("idempotent", |b| {
        let make = Service::default;
        b.iter_custom(|iters| first_calls(iters, make, |s, r, t| drop(black_box(s.create(r, t)))))
    });
    group.finish();
}

fn replay(c: &mut Criterion) {
    let mut group = c.benchmark_group("replay");
    let request = sample_request();
    let token = "5d0c7a5e-1c4b-4f7e-9a55-000000000000";
    group.bench_function("handler_only", |b| {
        b.iter(|| black_box(handler(request.clone())))
    });
    let tight = Tight::<Postcard>::default();
    group.bench_function("tight_by_hand", |b| {
        b.iter(|| black_box(tight.call(request.clone(), token, handler)))
    });
    let same = Tight::<SameEncodings>::default();
    group.bench_function("tight_same_encodings", |b| {
        b.iter(|| black_box(same.call(request.clone(), token, handler)))
    });
    let naive = Naive::default();
    group.bench_function("naive_by_hand", |b| {
        b.iter(|| black_box(naive.call(request.clone(), token, handler)))
    });
    let service = Service::default();
    group.bench_function("idempotent", |b| {
        b.iter(|| black_box(service.create(request.clone(), token)))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
    targets = first_call, replay
}
criterion_main!(benches);
