//! How a first call scales: with threads (2 on distinct tokens against 1; 64 on one token),
//! with the payload (64 B, 1 KiB and 64 KiB of bytes and of text, against SHA-256 of as
//! many bytes) and with the store's size (1k and 1M completed records, in the summary). At the
//! end it prints
//! the ratios the targets are stated in. Run with
//! `cargo bench -p idempotent-benches --bench scaling`.

// criterion's macros emit functions without docs.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use idempotent_benches::tight::Tight;
use idempotent_benches::{handler, sample_request, CreateRouteTable, Service as Benchmarked};
use idempotent_runtime::{idempotent, IdempotencyError, MemoryStore};
use sha2::{Digest, Sha256};

struct Service {
    store: MemoryStore,
    runs: AtomicUsize,
}

impl Service {
    fn new() -> Self {
        Self {
            store: MemoryStore::builder().capacity(4_000_000).build(),
            runs: AtomicUsize::new(0),
        }
    }

    #[idempotent(token = "token", store = self.store, name = "Small")]
    fn small(&self, size: u64, token: &str) -> u64 {
        self.runs.fetch_add(1, Ordering::Relaxed);
        size * 2
    }

    /// [`small`](Self::small) without its count of runs, for the throughput of threads: a
    /// counter every call writes would be one cache line that both cores fight over.
    #[idempotent(token = "token", store = self.store, name = "Doubled")]
    fn doubled(&self, size: u64, token: &str) -> u64 {
        size * 2
    }

    #[idempotent(token = "token", store = self.store, name = "Bytes")]
    fn bytes(&self, data: &[u8], token: &str) -> usize {
        data.len()
    }

    /// A byte sequence inside a struct, which serde hands over a byte at a time.
    #[idempotent(token = "token", store = self.store, name = "Upload")]
    fn upload(&self, upload: &Upload, token: &str) -> usize {
        upload.data.len()
    }

    #[idempotent(token = "token", store = self.store, name = "Text")]
    fn text(&self, data: &str, token: &str) -> usize {
        data.len()
    }
}

#[derive(serde::Serialize)]
struct Upload {
    data: Vec<u8>,
}

/// `size` bytes that look like a real payload: every value, zeros included.
fn noise(size: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..size)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

fn token(i: u64) -> String {
    format!("5d0c7a5e-1c4b-4f7e-9a55-{i:012}")
}

/// Times `per_thread` first calls on each of `threads` threads at once (distinct tokens).
/// `per_thread` first calls on each of `threads` threads, on distinct tokens.
fn first_calls_on(threads: u64, per_thread: u64) -> Duration {
    on_threads(threads, move |_, t| {
        (0..per_thread).map(|i| token(t << 40 | i)).collect()
    })
}

/// `per_thread` replays on each of `threads` threads, each replaying a token of its own.
fn replays_on(threads: u64, per_thread: u64) -> Duration {
    on_threads(threads, move |service, t| {
        let token = token(t);
        let _ = service.doubled(7, &token);
        vec![token; per_thread as usize]
    })
}

/// Times `threads` threads calling [`Service::doubled`] with the tokens `prepare` gives each
/// (before the clock starts), started together from a barrier.
fn on_threads(
    threads: u64,
    prepare: impl Fn(&Service, u64) -> Vec<String> + Copy + Send + 'static,
) -> Duration {
    let service = Arc::new(Service::new());
    let start = Arc::new(Barrier::new(threads as usize + 1));
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let (service, start) = (Arc::clone(&service), Arc::clone(&start));
            std::thread::spawn(move || {
                let tokens = prepare(&service, t);
                start.wait();
                for token in &tokens {
                    let _ = black_box(service.doubled(7, token));
                }
            })
        })
        .collect();
    start.wait();
    let began = Instant::now();
    for worker in workers {
        let _ = worker.join();
    }
    began.elapsed()
}

fn threads(c: &mut Criterion) {
    let mut group = c.benchmark_group("threads");
    // Throughput: each sample runs `iters` calls in all, split over the threads.
    group.bench_function("first_calls/1_thread", |b| {
        b.iter_custom(|iters| first_calls_on(1, iters))
    });
    group.bench_function("first_calls/2_threads", |b| {
        b.iter_custom(|iters| first_calls_on(2, iters.div_ceil(2)))
    });
    group.bench_function("replays/1_thread", |b| {
        b.iter_custom(|iters| replays_on(1, iters))
    });
    group.bench_function("replays/2_threads", |b| {
        b.iter_custom(|iters| replays_on(2, iters.div_ceil(2)))
    });
    group.finish();
}

fn payloads(c: &mut Criterion) {
    let mut group = c.benchmark_group("payload");
    for size in [64usize, 1024, 64 * 1024] {
        let bytes = noise(size);
        let upload = Upload {
            data: bytes.clone(),
        };
        let text = "a".repeat(size);
        group.bench_function(format!("sha256_alone/{size}"), |b| {
            b.iter(|| black_box(Sha256::digest(black_box(&bytes))))
        });
        group.bench_function(format!("vec_u8/{size}"), |b| {
            b.iter_custom(|iters| {
                let service = Service::new();
                let began = Instant::now();
                for i in 0..iters {
                    let _ = black_box(service.bytes(&bytes, &token(i)));
                }
                began.elapsed()
            })
        });
        group.bench_function(format!("vec_u8_in_struct/{size}"), |b| {
            b.iter_custom(|iters| {
                let service = Service::new();
                let began = Instant::now();
                for i in 0..iters {
                    let _ = black_box(service.upload(&upload, &token(i)));
                }
                began.elapsed()
            })
        });
        group.bench_function(format!("string/{size}"), |b| {
            b.iter_custom(|iters| {
                let service = Service::new();
                let began = Instant::now();
                for i in 0..iters {
                    let _ = black_box(service.text(&text, &token(i)));
                }
                began.elapsed()
            })
        });
    }
    group.finish();
}

/// The median time of a first call on a store already holding `held` completed records:
/// five rounds of 2,000 calls, each on a store filled afresh (criterion's own loop would grow
/// the store by millions of records while it measures).
fn first_call_on_a_store_of<S>(
    held: u64,
    make: impl Fn() -> S,
    call: impl Fn(&S, &str, &CreateRouteTable),
) -> Duration {
    let request = sample_request();
    let mut rounds: Vec<Duration> = (0..5)
        .map(|round| {
            let subject = make();
            for i in 0..held {
                call(&subject, &token(1 << 50 | i), &request);
            }
            let tokens: Vec<String> = (0..2_000).map(|i| token(round << 20 | i)).collect();
            let began = Instant::now();
            for token in &tokens {
                call(&subject, token, &request);
            }
            began.elapsed() / 2_000
        })
        .collect();
    rounds.sort();
    rounds[2]
}

/// 64 threads call `call` on one subject at once with one token, `rounds` times (a fresh
/// subject each, then `check`): the median time of an answer, each thread timing its own call
/// (the benchmark request's clone included).
fn racing_answers<S: Send + Sync + 'static>(
    rounds: u64,
    make: impl Fn() -> S,
    call: fn(&S, &str, CreateRouteTable),
    check: impl Fn(&S),
) -> Duration {
    let mut answers = Vec::new();
    for round in 0..rounds {
        let subject = Arc::new(make());
        let start = Arc::new(Barrier::new(64));
        let workers: Vec<_> = (0..64)
            .map(|_| {
                let (subject, start) = (Arc::clone(&subject), Arc::clone(&start));
                std::thread::spawn(move || {
                    let (token, request) = (token(round), sample_request());
                    start.wait();
                    let began = Instant::now();
                    call(&subject, &token, request.clone());
                    began.elapsed()
                })
            })
            .collect();
        answers.extend(workers.into_iter().filter_map(|worker| worker.join().ok()));
        check(&subject);
    }
    answers.sort();
    answers.get(answers.len() / 2).copied().unwrap_or_default()
}

/// The time of one replay on one thread, the request's clone included.
fn replay_of<S>(make: impl Fn() -> S, call: fn(&S, &str, CreateRouteTable)) -> Duration {
    let (subject, request) = (make(), sample_request());
    call(&subject, "replayed", request.clone());
    let began = Instant::now();
    for _ in 0..10_000 {
        call(&subject, "replayed", request.clone());
    }
    began.elapsed() / 10_000
}

/// The small handler; an answer is its result or `RequestInProgress`.
fn small_call(service: &Service, token: &str, _: CreateRouteTable) {
    match service.small(7, token) {
        Ok(_) | Err(IdempotencyError::RequestInProgress { .. }) => {}
        Err(err) => panic!("{err}"),
    }
}

/// The benchmark request through `#[idempotent]`.
fn request_call(service: &Benchmarked, token: &str, request: CreateRouteTable) {
    let _ = black_box(service.create(request, token));
}

/// The benchmark request through the tight baseline.
fn tight_call(tight: &Tight, token: &str, request: CreateRouteTable) {
    let _ = black_box(tight.call(request, token, handler));
}

/// The median criterion recorded for `id` (`group/function`), in ns, if it ran.
fn median(id: &str) -> Option<f64> {
    let path = format!("{}/criterion/{id}/new/estimates.json", target_dir());
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    json["median"]["point_estimate"].as_f64()
}

fn target_dir() -> String {
    std::env::var("CARGO_TARGET_DIR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../target").to_owned())
}

/// The standing at a glance: the ratios of the targets, from this run's medians (and
/// `overhead`'s, if it ran before).
fn summary(_: &mut Criterion) {
    let ratio = |a: &str, b: &str, invert: bool| match (median(a), median(b)) {
        (Some(a), Some(b)) if invert => format!("{:.2}", b / a),
        (Some(a), Some(b)) => format!("{:.2}", a / b),
        _ => "not measured (run `cargo bench -p idempotent-benches`)".to_owned(),
    };
    let rows = [
        (
            "first call / tight",
            ratio("first_call/idempotent", "first_call/tight_by_hand", false),
            "<= 1.2",
        ),
        (
            "replay / tight",
            ratio("replay/idempotent", "replay/tight_by_hand", false),
            "<= 1.2",
        ),
        (
            "first call / tight on the attribute's encodings (the machinery's share)",
            ratio(
                "first_call/idempotent",
                "first_call/tight_same_encodings",
                false,
            ),
            "-",
        ),
        (
            "replay / tight on the attribute's encodings (the machinery's share)",
            ratio("replay/idempotent", "replay/tight_same_encodings", false),
            "-",
        ),
        (
            "first call / naive",
            ratio("first_call/idempotent", "first_call/naive_by_hand", false),
            "<= 0.33",
        ),
        (
            "replay / naive",
            ratio("replay/idempotent", "replay/naive_by_hand", false),
            "<= 0.33",
        ),
        (
            "2 threads / 1 (throughput)",
            ratio(
                "threads/first_calls_2_threads",
                "threads/first_calls_1_thread",
                true,
            ),
            ">= 1.6",
        ),
        (
            "2 threads / 1, replays of a token each (throughput)",
            ratio(
                "threads/replays_2_threads",
                "threads/replays_1_thread",
                true,
            ),
            "-",
        ),
        (
            "64 KiB &[u8] parameter / SHA-256 alone",
            ratio("payload/vec_u8_65536", "payload/sha256_alone_65536", false),
            "<= 1.2",
        ),
        (
            "64 KiB Vec<u8> inside a struct / SHA-256 alone",
            ratio(
                "payload/vec_u8_in_struct_65536",
                "payload/sha256_alone_65536",
                false,
            ),
            "<= 1.2",
        ),
        (
            "64 KiB String / SHA-256 alone",
            ratio("payload/string_65536", "payload/sha256_alone_65536", false),
            "<= 1.2",
        ),
    ];
    println!("\n| ratio | this run | target |\n|---|---|---|");
    for (name, value, target) in rows {
        println!("| {name} | {value} | {target} |");
    }
    // 64 threads on one token, against a replay of one thread: the small handler (exactly one
    // execution asserted each round), then the benchmark request beside the tight baseline in
    // the same race, which shows what 64 threads on 2 cores cost whatever the code.
    let exactly_once = |service: &Service| {
        assert_eq!(
            service.runs.load(Ordering::Relaxed),
            1,
            "exactly one execution"
        )
    };
    let answer = racing_answers(50, Service::new, small_call, exactly_once);
    let replay = replay_of(Service::new, small_call);
    let ours = (
        racing_answers(50, Benchmarked::default, request_call, |_| ()),
        replay_of(Benchmarked::default, request_call),
    );
    let tight = (
        racing_answers(50, Tight::default, tight_call, |_| ()),
        replay_of(Tight::default, tight_call),
    );
    // A first call on a store of 1M records against one of 1k: the small handler, then the
    // benchmark request beside the tight baseline's map, which shows what a table of 1M
    // records costs in cache and TLB misses whatever the code.
    let growth = |measure: &dyn Fn(u64) -> Duration| (measure(1_000), measure(1_000_000));
    let (small, large) = growth(&|held| {
        first_call_on_a_store_of(held, Service::new, |s, t, _| {
            assert!(black_box(s.small(7, t)).is_ok(), "a first call runs");
        })
    });
    // The request's clone is timed here, as in the `overhead` bench; the small handler takes none.
    // Room for every record: a full store would refuse the calls instead (fail closed).
    let roomy = || Benchmarked {
        store: MemoryStore::builder().capacity(4_000_000).build(),
    };
    let ours_held = growth(&|held| {
        first_call_on_a_store_of(held, roomy, |s, t, r| {
            assert!(
                black_box(s.create(r.clone(), t)).is_ok(),
                "a first call runs"
            );
        })
    });
    let tight_held = growth(&|held| {
        first_call_on_a_store_of(held, Tight::default, |s: &Tight, t, r| {
            let answer = black_box(s.call(r.clone(), t, handler));
            assert!(answer.is_ok(), "a first call runs");
        })
    });
    println!(
        "| first call on 1M records / on 1k ({large:?} / {small:?}) | {:.2} | <= 1.5 |",
        large.as_secs_f64() / small.as_secs_f64()
    );
    let grew = |(small, large): (Duration, Duration)| large.as_secs_f64() / small.as_secs_f64();
    println!(
        "| the same on the benchmark request ({:?} / {:?}), and the tight baseline's ({:?} / {:?}) | {:.2}, tight {:.2} | <= 1.5 |",
        ours_held.1,
        ours_held.0,
        tight_held.1,
        tight_held.0,
        grew(ours_held),
        grew(tight_held)
    );
    println!(
        "| 64 threads on one token: median answer / one replay ({answer:?} / {replay:?}) | {:.2} | <= 3 |",
        answer.as_secs_f64() / replay.as_secs_f64()
    );
    let ratio =
        |(answer, replay): (Duration, Duration)| answer.as_secs_f64() / replay.as_secs_f64();
    println!(
        "| the same on the benchmark request ({:?} / {:?}), and the tight baseline's ({:?} / {:?}) | {:.2}, tight {:.2} | <= 3 |",
        ours.0,
        ours.1,
        tight.0,
        tight.1,
        ratio(ours),
        ratio(tight)
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_millis(500)).sample_size(20);
    targets = threads, payloads, summary
}
criterion_main!(benches);
