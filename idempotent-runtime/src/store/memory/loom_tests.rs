//! Loom explores every interleaving of the memory store's real steps racing on one shard
//! (built with `RUSTFLAGS="--cfg idempotent_loom"`; see `sync.rs`):
//!
//! ```sh
//! RUSTFLAGS="--cfg idempotent_loom" CARGO_TARGET_DIR=target/loom \
//!     cargo test -p idempotent-runtime --lib --release loom
//! ```

use std::time::Duration;

use loom::thread;

use super::*;
use crate::{Fingerprinter, ManualClock, Operation};

const LEASE: Duration = Duration::from_secs(30);
const TTL: Duration = Duration::from_secs(3600);

fn store(clock: &ManualClock) -> MemoryStore {
    MemoryStore::builder()
        .shards(1)
        .capacity(16)
        .clock(clock.clone())
        .build()
}

fn key() -> Key {
    Key::new(Operation::Named("loom"), None, "token").expect("a valid token")
}

fn fingerprint() -> Fingerprint {
    let mut fp = Fingerprinter::new();
    fp.param("size", &1u32);
    fp.finish().expect("fingerprints")
}

fn begin(store: &MemoryStore) -> Begin {
    Store::begin(store, &key(), &fingerprint(), LEASE).expect("begin")
}

fn acquire(store: &MemoryStore) -> Fence {
    match begin(store) {
        Begin::Acquired { fence, .. } => fence,
        other => panic!("expected to acquire, got {other:?}"),
    }
}

/// One thread's part in a race.
type Racer<T> = Box<dyn FnOnce(&MemoryStore) -> T + Send>;

/// Runs `steps` on threads of their own over clones of one store, and returns their answers.
fn race<T: Send + 'static>(store: &MemoryStore, steps: Vec<Racer<T>>) -> Vec<T> {
    let threads: Vec<_> = steps
        .into_iter()
        .map(|step| {
            let store = store.clone();
            thread::spawn(move || step(&store))
        })
        .collect();
    threads
        .into_iter()
        .map(|thread| thread.join().expect("a racing thread"))
        .collect()
}

#[test]
fn racing_begins_acquire_once_and_the_loser_sees_the_winner() {
    loom::model(|| {
        let store = store(&ManualClock::new());
        let answers = race(&store, vec![Box::new(begin), Box::new(begin)]);
        let fences: Vec<Fence> = answers
            .iter()
            .filter_map(|answer| match answer {
                Begin::Acquired { fence, .. } => Some(*fence),
                Begin::Existing(_) => None,
            })
            .collect();
        assert_eq!(fences.len(), 1, "{answers:?}");
        for answer in &answers {
            if let Begin::Existing(existing) = answer {
                assert!(
                    matches!(existing.state, ExistingState::InProgress { owner, .. } if owner == fences[0]),
                    "{existing:?}"
                );
            }
        }
    });
}

#[test]
fn a_begin_racing_a_complete_sees_the_run_or_its_result_never_a_free_key() {
    loom::model(|| {
        let store = store(&ManualClock::new());
        let fence = acquire(&store);
        let complete = move |store: &MemoryStore| {
            assert_eq!(
                Store::complete(store, &key(), fence, b"out", TTL).ok(),
                Some(Finish::Done)
            );
            None
        };
        let answers = race(
            &store,
            vec![Box::new(complete), Box::new(|s| Some(begin(s)))],
        );
        match answers.into_iter().flatten().next() {
            Some(Begin::Existing(Existing {
                state: ExistingState::InProgress { owner, .. },
                ..
            })) => assert_eq!(owner, fence),
            Some(Begin::Existing(Existing {
                state: ExistingState::Completed { output },
                ..
            })) => assert_eq!(&*output, b"out"),
            other => panic!("a begin racing a complete got {other:?}"),
        }
    });
}

#[test]
fn a_begin_racing_a_release_acquires_only_after_it_under_a_new_fence() {
    loom::model(|| {
        let store = store(&ManualClock::new());
        let old = acquire(&store);
        let release = move |store: &MemoryStore| {
            assert_eq!(Store::release(store, &key(), old).ok(), Some(Finish::Done));
            None
        };
        let answers = race(
            &store,
            vec![Box::new(release), Box::new(|s| Some(begin(s)))],
        );
        match answers.into_iter().flatten().next() {
            Some(Begin::Acquired { fence, took_over }) => {
                assert_ne!(fence, old, "a fence was handed out twice");
                assert!(!took_over, "a released key is not a take-over");
                assert_eq!(
                    Store::complete(&store, &key(), old, b"late", TTL).ok(),
                    Some(Finish::NotOwner)
                );
            }
            Some(Begin::Existing(Existing {
                state: ExistingState::InProgress { owner, .. },
                ..
            })) => assert_eq!(owner, old),
            other => panic!("a begin racing a release got {other:?}"),
        }
    });
}

#[test]
fn a_taker_racing_the_late_owner_leaves_one_owner() {
    loom::model(|| {
        let clock = ManualClock::new();
        let store = store(&clock);
        let old = acquire(&store);
        clock.advance(LEASE * 2);
        let late = move |store: &MemoryStore| {
            let finish = Store::complete(store, &key(), old, b"late", TTL).expect("complete");
            (Some(finish), None)
        };
        let taker = |store: &MemoryStore| (None, Some(begin(store)));
        let answers = race(&store, vec![Box::new(late), Box::new(taker)]);
        let finish = answers.iter().find_map(|(finish, _)| *finish);
        let taken = answers.iter().find_map(|(_, begin)| begin.as_ref());
        match (finish, taken) {
            // The late owner came first: its result stands and the taker replays it.
            (
                Some(Finish::Done),
                Some(Begin::Existing(Existing {
                    state: ExistingState::Completed { .. },
                    ..
                })),
            ) => {}
            // The taker came first: the late owner's completion is refused.
            (
                Some(Finish::NotOwner),
                Some(Begin::Acquired {
                    took_over: true, ..
                }),
            ) => {}
            other => panic!("a late owner racing a taker: {other:?}"),
        }
    });
}
