//! The cost of each step of a call, to see where the time of `overhead` goes:
//! fingerprinting, key building, the store's `begin`, and output encoding and decoding, each
//! beside what the tight baseline does for the same step.
//! Run with `cargo bench -p idempotent-benches --bench parts`.

// criterion's macros emit functions without docs.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use idempotent_benches::{handler, sample_request};
use idempotent_runtime::fingerprint::Fingerprinter;
use idempotent_runtime::store::{Key, Operation};
use idempotent_runtime::{MemoryStore, Store};
use sha2::{Digest, Sha256};

fn parts(c: &mut Criterion) {
    let request = sample_request();
    let response = handler(sample_request());
    let token = "5d0c7a5e-1c4b-4f7e-9a55-000000000000";
    let mut group = c.benchmark_group("parts");
    group.bench_function("fingerprint/ours", |b| {
        b.iter(|| {
            let mut fp = Fingerprinter::new();
            fp.param("request", black_box(&request));
            black_box(fp.finish().ok())
        })
    });
    group.bench_function("fingerprint/postcard_sha256", |b| {
        b.iter(|| {
            let mut staged = [0u8; 512];
            let encoded =
                postcard::to_slice(black_box(&request), &mut staged).map(|e| Sha256::digest(&*e));
            black_box(encoded.ok())
        })
    });
    for len in [148usize, 183, 209, 247] {
        let bytes = vec![7u8; len];
        group.bench_function(format!("sha256/{len}_bytes"), |b| {
            b.iter(|| black_box(Sha256::digest(black_box(&bytes))))
        });
    }
    group.bench_function("encode_only/ours", |b| {
        b.iter(|| {
            let mut fp = Fingerprinter::new();
            fp.param("request", black_box(&request));
            black_box(&fp);
        })
    });
    group.bench_function("key", |b| {
        b.iter(|| {
            black_box(Key::new(Operation::Named("CreateRouteTable"), None, black_box(token)).ok())
        })
    });
    let store = MemoryStore::new();
    let key = Key::new(Operation::Named("CreateRouteTable"), None, token).ok();
    let mut fp = Fingerprinter::new();
    fp.param("request", &request);
    let fingerprint = fp.finish().ok();
    if let (Some(key), Some(fingerprint)) = (key, fingerprint) {
        let _ = Store::begin(&store, &key, &fingerprint, Duration::from_secs(60));
        group.bench_function("begin_existing", |b| {
            b.iter(|| {
                black_box(Store::begin(&store, &key, &fingerprint, Duration::from_secs(60)).ok())
            })
        });
    }
    let msgpack = rmp_serde::to_vec_named(&response).unwrap_or_default();
    let compact = postcard::to_allocvec(&response).unwrap_or_default();
    group.bench_function("encode_output/msgpack_named", |b| {
        b.iter(|| black_box(rmp_serde::to_vec_named(black_box(&response)).ok()))
    });
    group.bench_function("encode_output/postcard", |b| {
        b.iter(|| black_box(postcard::to_allocvec(black_box(&response)).ok()))
    });
    group.bench_function("decode_output/msgpack_named", |b| {
        b.iter(|| {
            black_box(
                rmp_serde::from_slice::<idempotent_benches::RouteTable>(black_box(&msgpack)).ok(),
            )
        })
    });
    let json = serde_json::to_vec(&response).unwrap_or_default();
    group.bench_function("decode_output/json", |b| {
        b.iter(|| {
            black_box(
                serde_json::from_slice::<idempotent_benches::RouteTable>(black_box(&json)).ok(),
            )
        })
    });
    group.bench_function("encode_output/json", |b| {
        b.iter(|| black_box(serde_json::to_vec(black_box(&response)).ok()))
    });
    group.bench_function("decode_output/postcard", |b| {
        b.iter(|| {
            black_box(
                postcard::from_bytes::<idempotent_benches::RouteTable>(black_box(&compact)).ok(),
            )
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500));
    targets = parts
}
criterion_main!(benches);
