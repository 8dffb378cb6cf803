//! `FaultyStore`: any store, with chosen calls made to fail, to test what a caller sees when
//! its store misbehaves.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::store::{Begin, Fence, Finish};
use crate::{AsyncStore, Fingerprint, Key, Store, StoreError, StoreErrorKind};

/// A step of the store contract, as a fault can hit it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Step {
    /// [`Store::begin`].
    Begin,
    /// [`Store::complete`].
    Complete,
    /// [`Store::release`] (and [`AsyncStore::release_detached`]).
    Release,
    /// [`Store::renew`], the heartbeat.
    Renew,
    /// [`Store::wait`].
    Wait,
}

/// How a call hit by a fault fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// The call never reaches the store: nothing changes, and an `Unavailable` error comes back.
    Unreachable,
    /// The call takes effect in the store, but its answer is lost on the way back: an
    /// `Unavailable` error comes back all the same.
    AnswerLost,
    /// The store answers, refusing the call (a misconfiguration, a permission): nothing
    /// changes, and an error that is not transient (`Other`) comes back.
    Refused,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Unreachable => "the store could not be reached",
            Self::AnswerLost => "the store's answer was lost",
            Self::Refused => "the store refused the call",
        })
    }
}

/// A store that fails the calls you choose, and counts the calls it sees.
///
/// It wraps any store, blocking or async, and is itself a store of the same kinds; clones share
/// their faults and counts. A fault applies to the next `times` calls of one [`Step`].
///
/// Over an in-process store (`MemoryStore`), whose running records are held rather than
/// leased, some faults make states the real store never reaches: a lost answer to `begin`
/// leaves a record held that nobody owns, until the process ends. Call
/// [`as_remote`](Self::as_remote) to test those, so records have leases that end.
///
/// ```
/// # #[cfg(feature = "testing")] {
/// use idempotent_runtime::testing::{Fault, FaultyStore, Step};
/// use idempotent_runtime::{idempotent, IdempotencyError, MemoryStore};
///
/// struct Service { store: FaultyStore<MemoryStore> }
///
/// impl Service {
///     #[idempotent(token = "token", store = self.store)]
///     fn create(&self, size: u32, token: &str) -> u32 {
///         size
///     }
/// }
///
/// let service = Service { store: FaultyStore::new(MemoryStore::new()) };
/// service.store.fail(Step::Begin, Fault::Unreachable, 1);
/// let err = service.create(8, "t-1").unwrap_err();
/// assert!(matches!(err, IdempotencyError::Store(_)) && err.is_retryable());
/// assert_eq!(service.create(8, "t-1").unwrap(), 8, "the next call reaches the store");
/// assert_eq!(service.store.calls(Step::Begin), 2);
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct FaultyStore<S> {
    inner: S,
    state: Arc<Mutex<State>>,
    remote: bool,
}

#[derive(Debug, Default)]
struct State {
    /// Per step: the fault and how many more calls it hits (`usize::MAX`: every call).
    planned: HashMap<Step, (Fault, usize)>,
    calls: HashMap<Step, usize>,
    faults: HashMap<Step, usize>,
}

impl<S> FaultyStore<S> {
    /// Wraps `inner`; no call fails until told to.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            state: Arc::default(),
            remote: false,
        }
    }

    /// Presents the store as one whose records live outside the process, even if they do
    /// not, so the engine renews leases by heartbeat (and [`Step::Renew`] faults matter) over
    /// a `MemoryStore`.
    pub fn as_remote(mut self) -> Self {
        self.remote = true;
        self
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Makes the next `times` calls of `step` fail with `fault` (`usize::MAX`: every call).
    pub fn fail(&self, step: Step, fault: Fault, times: usize) {
        self.lock().planned.insert(step, (fault, times));
    }

    /// Makes every call of `step` fail with `fault`, until [`heal`](Self::heal).
    pub fn fail_always(&self, step: Step, fault: Fault) {
        self.fail(step, fault, usize::MAX);
    }

    /// Removes every planned fault.
    pub fn heal(&self) {
        self.lock().planned.clear();
    }

    /// How many calls of `step` the store has seen, failed ones included.
    pub fn calls(&self, step: Step) -> usize {
        self.lock().calls.get(&step).copied().unwrap_or(0)
    }

    /// How many calls of `step` a fault hit.
    pub fn faults(&self, step: Step) -> usize {
        self.lock().faults.get(&step).copied().unwrap_or(0)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts a call of `step` and says which fault, if any, hits it.
    fn next_fault(&self, step: Step) -> Option<Fault> {
        let mut state = self.lock();
        *state.calls.entry(step).or_default() += 1;
        let (fault, left) = state.planned.get_mut(&step)?;
        let fault = *fault;
        match *left {
            0 => return None,
            usize::MAX => {}
            _ => *left -= 1,
        }
        *state.faults.entry(step).or_default() += 1;
        Some(fault)
    }

    fn error(step: Step, fault: Fault) -> StoreError {
        let kind = match fault {
            Fault::Refused => StoreErrorKind::Other,
            Fault::Unreachable | Fault::AnswerLost => StoreErrorKind::Unavailable,
        };
        StoreError::new(kind, format!("injected fault in {step:?}: {fault}"))
    }

    /// Runs a blocking step through the fault plan.
    fn run<T>(
        &self,
        step: Step,
        call: impl FnOnce() -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match self.next_fault(step) {
            None => call(),
            Some(Fault::AnswerLost) => {
                let _ = call();
                Err(Self::error(step, Fault::AnswerLost))
            }
            Some(fault) => Err(Self::error(step, fault)),
        }
    }

    /// Runs an async step through the fault plan; `call` makes the step's future only if the
    /// call is to reach the store.
    async fn run_async<T, F>(&self, step: Step, call: impl FnOnce() -> F) -> Result<T, StoreError>
    where
        F: Future<Output = Result<T, StoreError>>,
    {
        match self.next_fault(step) {
            None => call().await,
            Some(Fault::AnswerLost) => {
                let _ = call().await;
                Err(Self::error(step, Fault::AnswerLost))
            }
            Some(fault) => Err(Self::error(step, fault)),
        }
    }
}

#[diagnostic::do_not_recommend]
impl<S: Store> Store for FaultyStore<S> {
    fn begin(
        &self,
        key: &Key,
        fingerprint: &Fingerprint,
        lease: Duration,
    ) -> Result<Begin, StoreError> {
        self.run(Step::Begin, || self.inner.begin(key, fingerprint, lease))
    }

    fn complete(
        &self,
        key: &Key,
        fence: Fence,
        output: &[u8],
        ttl: Duration,
    ) -> Result<Finish, StoreError> {
        self.run(Step::Complete, || {
            self.inner.complete(key, fence, output, ttl)
        })
    }

    fn release(&self, key: &Key, fence: Fence) -> Result<Finish, StoreError> {
        self.run(Step::Release, || self.inner.release(key, fence))
    }

    fn renew(&self, key: &Key, fence: Fence, lease: Duration) -> Result<Finish, StoreError> {
        self.run(Step::Renew, || self.inner.renew(key, fence, lease))
    }

    fn in_process(&self) -> bool {
        !self.remote && self.inner.in_process()
    }

    fn wait(&self, key: &Key, owner: Fence, timeout: Duration) -> Result<(), StoreError> {
        self.run(Step::Wait, || self.inner.wait(key, owner, timeout))
    }
}

#[diagnostic::do_not_recommend]
impl<S: AsyncStore> AsyncStore for FaultyStore<S> {
    async fn begin(
        &self,
        key: &Key,
        fingerprint: &Fingerprint,
        lease: Duration,
    ) -> Result<Begin, StoreError> {
        self.run_async(Step::Begin, || self.inner.begin(key, fingerprint, lease))
            .await
    }

    async fn complete(
        &self,
        key: &Key,
        fence: Fence,
        output: &[u8],
        ttl: Duration,
    ) -> Result<Finish, StoreError> {
        self.run_async(Step::Complete, || {
            self.inner.complete(key, fence, output, ttl)
        })
        .await
    }

    async fn release(&self, key: &Key, fence: Fence) -> Result<Finish, StoreError> {
        self.run_async(Step::Release, || self.inner.release(key, fence))
            .await
    }

    async fn renew(&self, key: &Key, fence: Fence, lease: Duration) -> Result<Finish, StoreError> {
        self.run_async(Step::Renew, || self.inner.renew(key, fence, lease))
            .await
    }

    fn in_process(&self) -> bool {
        !self.remote && self.inner.in_process()
    }

    async fn wait(&self, key: &Key, owner: Fence, timeout: Duration) -> Result<(), StoreError> {
        self.run_async(Step::Wait, || self.inner.wait(key, owner, timeout))
            .await
    }

    fn release_detached(&self, key: Key, fence: Fence) {
        match self.next_fault(Step::Release) {
            Some(Fault::Unreachable | Fault::Refused) => {}
            _ => self.inner.release_detached(key, fence),
        }
    }
}
