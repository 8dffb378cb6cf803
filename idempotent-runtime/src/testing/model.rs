//! A reference model of one record, and a runner that plays operations of several workers
//! against a store and the model side by side, failing at the first answer the model does
//! not allow.
//!
//! The model is the store contract of [`crate::store`] written as plainly as possible: one
//! optional record, in progress or completed, with its fence, fingerprint, deadlines and
//! output; time is a number of milliseconds that only [`Op::Advance`] moves. Checking every
//! answer against it checks the invariants users rely on: never two owners at once, never a
//! replay of another fingerprint, and a completed result neither lost nor changed before its
//! TTL.

use std::fmt;
use std::time::Duration;

use crate::store::{Begin, ExistingState, Fence, Finish};
use crate::{AsyncStore, Fingerprint, Fingerprinter, Key};

/// One step of one simulated worker, or of the clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Op {
    /// `worker` calls `begin` with fingerprint number `fingerprint`.
    Begin {
        /// Which worker.
        worker: usize,
        /// Which of a few fingerprints.
        fingerprint: u8,
    },
    /// `worker` completes with `output`, under the fence it last acquired.
    Complete {
        /// Which worker.
        worker: usize,
        /// The output it records.
        output: u8,
    },
    /// `worker` releases, under the fence it last acquired.
    Release {
        /// Which worker.
        worker: usize,
    },
    /// `worker` renews its lease, under the fence it last acquired.
    Renew {
        /// Which worker.
        worker: usize,
    },
    /// Time passes (only where the store's clock can be moved: the crate's own model test).
    #[cfg_attr(not(test), allow(dead_code))]
    Advance {
        /// How far, in milliseconds.
        ms: u64,
    },
}

/// The model's record.
#[derive(Debug, Clone)]
enum Record {
    InProgress {
        fence: Fence,
        fingerprint: u8,
        lease_until: u64,
    },
    Completed {
        fence: Fence,
        fingerprint: u8,
        output: Vec<u8>,
        expires_at: u64,
    },
}

/// The reference model of one key, with the fence each worker last acquired.
#[derive(Debug)]
pub(crate) struct Model {
    record: Option<Record>,
    now: u64,
    fences: Vec<Option<Fence>>,
    /// The lease of every acquisition and renewal, and the TTL of every completion.
    lease_ms: u64,
    ttl_ms: u64,
}

/// What the store answered that the model does not allow.
#[derive(Debug)]
pub(crate) struct Divergence(String);

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn diverged<T>(message: String) -> Result<T, Divergence> {
    Err(Divergence(message))
}

pub(crate) fn fingerprint(number: u8) -> Fingerprint {
    let mut fp = Fingerprinter::new();
    fp.param("number", &number);
    match fp.finish() {
        Ok(fp) => fp,
        Err(err) => panic!("fingerprinting a u8 failed: {err}"),
    }
}

fn output(byte: u8) -> Vec<u8> {
    vec![b'o', byte]
}

impl Model {
    pub(crate) fn new(workers: usize, lease_ms: u64, ttl_ms: u64) -> Self {
        Self {
            record: None,
            now: 0,
            fences: vec![None; workers],
            lease_ms,
            ttl_ms,
        }
    }

    /// Moves the model's clock.
    pub(crate) fn advance(&mut self, ms: u64) {
        self.now += ms;
    }

    /// The live record, if any: one whose lease or TTL has not ended.
    fn live(&self) -> Option<&Record> {
        self.record.as_ref().filter(|record| match record {
            Record::InProgress { lease_until, .. } => *lease_until > self.now,
            Record::Completed { expires_at, .. } => *expires_at > self.now,
        })
    }

    /// Checks a `begin` answer and takes it in.
    pub(crate) fn begin(
        &mut self,
        worker: usize,
        number: u8,
        answer: Begin,
    ) -> Result<(), Divergence> {
        let live = self.live().cloned();
        match (live, answer) {
            (None, Begin::Acquired { fence, took_over }) => {
                let abandoned = matches!(self.record, Some(Record::InProgress { .. }));
                if took_over != abandoned {
                    return diverged(format!(
                        "begin took_over = {took_over}, but the model's record was {:?}",
                        self.record
                    ));
                }
                if self.fences.iter().flatten().any(|held| *held == fence) {
                    return diverged(format!("begin handed out fence {fence:?} a second time"));
                }
                self.fences[worker] = Some(fence);
                self.record = Some(Record::InProgress {
                    fence,
                    fingerprint: number,
                    lease_until: self.now + self.lease_ms,
                });
                Ok(())
            }
            (Some(record), Begin::Acquired { .. }) => diverged(format!(
                "two owners: begin acquired while {record:?} is live"
            )),
            (None, Begin::Existing(existing)) => diverged(format!(
                "begin found {existing:?} where the model has no live record ({:?})",
                self.record
            )),
            (Some(record), Begin::Existing(existing)) => check_existing(&record, existing),
        }
    }

    /// The fence `worker` last acquired, if it ever did.
    pub(crate) fn fence_of(&self, worker: usize) -> Option<Fence> {
        self.fences[worker]
    }

    /// Checks a `complete` answer and takes it in.
    pub(crate) fn complete(
        &mut self,
        fence: Fence,
        byte: u8,
        answer: Finish,
    ) -> Result<(), Divergence> {
        let expected = match &self.record {
            Some(Record::InProgress {
                fence: owner,
                fingerprint,
                ..
            }) if *owner == fence => {
                self.record = Some(Record::Completed {
                    fence,
                    fingerprint: *fingerprint,
                    output: output(byte),
                    expires_at: self.now + self.ttl_ms,
                });
                Some(Finish::Done)
            }
            // The owner asks again: nothing left to do, while its record lives. Once the TTL
            // has passed, a store may or may not have dropped the record yet.
            Some(Record::Completed { fence: owner, .. }) if *owner == fence => {
                self.live().map(|_| Finish::Done)
            }
            _ => Some(Finish::NotOwner),
        };
        match expected {
            Some(expected) => same("complete", expected, answer),
            None => Ok(()),
        }
    }

    /// Checks a `release` answer and takes it in.
    pub(crate) fn release(&mut self, fence: Fence, answer: Finish) -> Result<(), Divergence> {
        let expected = match &self.record {
            Some(Record::InProgress { fence: owner, .. }) if *owner == fence => {
                self.record = None;
                Finish::Done
            }
            _ => Finish::NotOwner,
        };
        same("release", expected, answer)
    }

    /// Checks a `renew` answer and takes it in.
    pub(crate) fn renew(&mut self, fence: Fence, answer: Finish) -> Result<(), Divergence> {
        let now = self.now;
        let expected = match &mut self.record {
            Some(Record::InProgress {
                fence: owner,
                lease_until,
                ..
            }) if *owner == fence => {
                *lease_until = now + self.lease_ms;
                Finish::Done
            }
            _ => Finish::NotOwner,
        };
        same("renew", expected, answer)
    }
}

fn same(step: &str, expected: Finish, answer: Finish) -> Result<(), Divergence> {
    if expected == answer {
        return Ok(());
    }
    diverged(format!(
        "{step} answered {answer:?}, the model says {expected:?}"
    ))
}

/// A live record reported by `begin` must be the model's, to the byte.
fn check_existing(record: &Record, existing: crate::store::Existing) -> Result<(), Divergence> {
    let (number, state) = match record {
        Record::InProgress {
            fingerprint, fence, ..
        } => (*fingerprint, format!("in progress under {fence:?}")),
        Record::Completed {
            fingerprint,
            output,
            ..
        } => (*fingerprint, format!("completed with {output:?}")),
    };
    if existing.fingerprint != fingerprint(number) {
        return diverged(format!(
            "begin reported another fingerprint than the record's (number {number})"
        ));
    }
    match (record, &existing.state) {
        (Record::InProgress { fence, .. }, ExistingState::InProgress { owner, .. })
            if owner == fence =>
        {
            Ok(())
        }
        (Record::Completed { output, .. }, ExistingState::Completed { output: stored })
            if **stored == **output =>
        {
            Ok(())
        }
        (_, found) => diverged(format!(
            "begin found {found:?}; the model's record is {state}"
        )),
    }
}

/// Plays `ops` against `store` under `key` and against the model, with every lease
/// `lease_ms` and every TTL `ttl_ms` long; `advance` moves the store's clock (the runner calls
/// it for [`Op::Advance`], after moving the model's).
pub(crate) async fn play<S: AsyncStore>(
    store: &S,
    key: &Key,
    (lease_ms, ttl_ms): (u64, u64),
    workers: usize,
    ops: &[Op],
    mut advance: impl FnMut(u64),
) -> Result<(), Divergence> {
    let mut model = Model::new(workers, lease_ms, ttl_ms);
    let lease = Duration::from_millis(lease_ms);
    let ttl = Duration::from_millis(ttl_ms);
    for (index, op) in ops.iter().enumerate() {
        let at = |err: Divergence| Divergence(format!("op {index} {op:?}: {err}"));
        let failed =
            |err: crate::StoreError| Divergence(format!("op {index} {op:?} failed: {err}"));
        match *op {
            Op::Begin {
                worker,
                fingerprint: number,
            } => {
                let answer = store
                    .begin(key, &fingerprint(number), lease)
                    .await
                    .map_err(failed)?;
                model.begin(worker, number, answer).map_err(at)?;
            }
            Op::Complete {
                worker,
                output: byte,
            } => {
                if let Some(fence) = model.fence_of(worker) {
                    let answer = store
                        .complete(key, fence, &output(byte), ttl)
                        .await
                        .map_err(failed)?;
                    model.complete(fence, byte, answer).map_err(at)?;
                }
            }
            Op::Release { worker } => {
                if let Some(fence) = model.fence_of(worker) {
                    let answer = store.release(key, fence).await.map_err(failed)?;
                    model.release(fence, answer).map_err(at)?;
                }
            }
            Op::Renew { worker } => {
                if let Some(fence) = model.fence_of(worker) {
                    let answer = store.renew(key, fence, lease).await.map_err(failed)?;
                    model.renew(fence, answer).map_err(at)?;
                }
            }
            Op::Advance { ms } => {
                model.advance(ms);
                advance(ms);
            }
        }
    }
    Ok(())
}

/// A small deterministic generator of operation sequences, for stores whose clock cannot be
/// moved (no [`Op::Advance`]): `seed` picks the sequence.
pub(crate) fn sequence(seed: u64, workers: usize, len: usize) -> Vec<Op> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = move |below: u64| {
        // xorshift64*
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) % below
    };
    (0..len)
        .map(|_| {
            let worker = next(workers as u64) as usize;
            match next(10) {
                0..=3 => Op::Begin {
                    worker,
                    fingerprint: next(2) as u8,
                },
                4..=6 => Op::Complete {
                    worker,
                    output: next(4) as u8,
                },
                7 | 8 => Op::Release { worker },
                _ => Op::Renew { worker },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::{ManualClock, MemoryStore, Operation};

    const WORKERS: usize = 3;

    fn op() -> impl Strategy<Value = Op> {
        let worker = 0..WORKERS;
        prop_oneof![
            4 => (worker.clone(), 0..2u8).prop_map(|(worker, fingerprint)| Op::Begin { worker, fingerprint }),
            3 => (worker.clone(), 0..4u8).prop_map(|(worker, output)| Op::Complete { worker, output }),
            2 => worker.clone().prop_map(|worker| Op::Release { worker }),
            2 => worker.prop_map(|worker| Op::Renew { worker }),
            // Within a lease, just past one, past several, past the TTL.
            3 => prop::sample::select(vec![50u64, 150, 310, 700, 1_600]).prop_map(|ms| Op::Advance { ms }),
        ]
    }

    fn run(ops: &[Op]) -> Result<(), Divergence> {
        let clock = ManualClock::new();
        let store = MemoryStore::builder().clock(clock.clone()).build();
        let key = Key::new(Operation::Named("model"), None, "token").expect("a valid token");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        runtime.block_on(play(&store, &key, (300, 1_500), WORKERS, ops, |ms| {
            clock.advance(Duration::from_millis(ms))
        }))
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 512,
            // A failure shrinks for ten seconds at most: a broken store fails fast.
            max_shrink_time: 10_000,
            ..ProptestConfig::default()
        })]

        /// Any interleaving of three workers and the clock follows the model on `MemoryStore`.
        #[test]
        fn memory_store_follows_the_model(ops in proptest::collection::vec(op(), 1..48)) {
            if let Err(divergence) = run(&ops) {
                prop_assert!(false, "{}", divergence);
            }
        }
    }

    /// The model itself: a late owner completes, a take-over refuses the old owner, an
    /// expired result is replaced, and the model refuses what the contract forbids.
    #[test]
    fn the_model_follows_the_contract() {
        use Op::*;
        let late = [
            Begin {
                worker: 0,
                fingerprint: 0,
            },
            Advance { ms: 700 },
            Complete {
                worker: 0,
                output: 1,
            },
            Begin {
                worker: 1,
                fingerprint: 0,
            },
        ];
        assert!(run(&late).is_ok());
        let taken_over = [
            Begin {
                worker: 0,
                fingerprint: 0,
            },
            Advance { ms: 310 },
            Begin {
                worker: 1,
                fingerprint: 1,
            },
            Complete {
                worker: 0,
                output: 1,
            },
            Renew { worker: 0 },
            Complete {
                worker: 1,
                output: 2,
            },
            Advance { ms: 1_600 },
            Begin {
                worker: 2,
                fingerprint: 0,
            },
        ];
        assert!(run(&taken_over).is_ok());
        let mut model = Model::new(2, 300, 1_500);
        model
            .begin(
                0,
                0,
                crate::store::Begin::Acquired {
                    fence: Fence(1),
                    took_over: false,
                },
            )
            .expect("a first acquisition");
        assert!(
            model
                .begin(
                    1,
                    0,
                    crate::store::Begin::Acquired {
                        fence: Fence(2),
                        took_over: false
                    }
                )
                .is_err(),
            "two owners at once must be refused"
        );
        assert!(
            model.complete(Fence(9), 0, Finish::Done).is_err(),
            "a stranger completed"
        );
    }

    #[test]
    fn sequences_are_reproducible_and_varied() {
        assert_eq!(sequence(7, 4, 30), sequence(7, 4, 30));
        assert_ne!(sequence(7, 4, 30), sequence(8, 4, 30));
        let ops = sequence(1, 4, 400);
        for kind in ["Begin", "Complete", "Release", "Renew"] {
            assert!(
                ops.iter().any(|op| format!("{op:?}").starts_with(kind)),
                "{kind}"
            );
        }
    }
}
