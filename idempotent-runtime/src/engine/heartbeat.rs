//! The lease heartbeat: while a handler runs, its lease is renewed every lease/3, so only a
//! crashed or hung worker loses its token to a take-over.
//!
//! A sync handler's lease is renewed from a helper thread scoped to the call; an async
//! handler's by a timer polled beside its body in the same task (armed only if the body does
//! not finish on its first poll), so a task that stops being polled stops renewing too. A store
//! whose records live in this process needs neither: the record is [`HELD`] instead.
//! A failed renewal is reported (`heartbeat_failed`) and tried again at the next beat; a
//! renewal refused because another caller took over ends the heartbeat, and the completion
//! that follows is refused and reported as `lease_lost`.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::{Condvar, Mutex, PoisonError};
use std::task::Poll;
use std::time::{Duration, Instant};

use crate::events::{self, Call};
use crate::store::{AsyncStore, Fence, Finish, Store, HELD};
use crate::{Options, StoreError, StoreErrorKind};

/// How a running handler's lease is kept.
#[derive(Clone, Copy)]
pub(crate) enum Keep {
    /// Renewed every lease/3, to the given lease.
    Renewed(Duration),
    /// [`HELD`] on an in-process store until completed or released; if neither can be done,
    /// the given lease starts running instead.
    Held(Duration),
    /// Not renewed (`heartbeat = false`): the lease may end while the handler runs.
    Lapsing,
}

/// The lease to ask `begin` for, and how it is kept while the handler runs.
pub(crate) fn keeping(options: &Options, in_process: bool) -> (Duration, Keep) {
    match (options.heartbeat, in_process) {
        (true, true) => (HELD, Keep::Held(options.lease)),
        (true, false) => (options.lease, Keep::Renewed(options.lease)),
        (false, _) => (options.lease, Keep::Lapsing),
    }
}

/// How often a lease is renewed: three times a lease, so two beats may fail before it ends.
pub(crate) fn interval(lease: Duration) -> Duration {
    (lease / 3).max(Duration::from_millis(1))
}

/// Runs a sync `body` while a scoped thread renews the lease; the thread stops when the body
/// returns or panics.
pub(crate) fn beside_sync<S: Store + ?Sized, R>(
    store: &S,
    call: Call<'_>,
    fence: Fence,
    lease: Duration,
    body: impl FnOnce() -> R,
) -> R {
    let stop = Stop::default();
    std::thread::scope(|scope| {
        let beating = std::thread::Builder::new()
            .name("idempotent-heartbeat".into())
            .spawn_scoped(scope, || beat_sync(store, call, fence, lease, &stop));
        let output = {
            let _stop = StopOnDrop(&stop);
            body()
        };
        // Joined here, so a heartbeat that panicked (a store's `renew`, a subscriber) costs a
        // report, not the body's result.
        let failure = match beating {
            Ok(thread) => thread
                .join()
                .err()
                .map(|_| "the heartbeat thread panicked".to_string()),
            Err(err) => Some(format!("could not start the heartbeat thread: {err}")),
        };
        if let Some(failure) = failure {
            events::heartbeat_failed(call, &StoreError::new(StoreErrorKind::Other, failure));
        }
        output
    })
}

/// Runs an async `body`, renewing the lease from a timer polled beside it in the same task.
pub(crate) async fn beside_async<S: AsyncStore + ?Sized, F: Future>(
    store: &S,
    call: Call<'_>,
    fence: Fence,
    lease: Duration,
    body: F,
) -> F::Output {
    let mut body = pin!(body);
    let mut beat = pin!(beat_async(store, call, fence, lease));
    let mut beating = true;
    poll_fn(move |cx| {
        if let Poll::Ready(output) = body.as_mut().poll(cx) {
            return Poll::Ready(output);
        }
        if beating && beat.as_mut().poll(cx).is_ready() {
            beating = false;
        }
        Poll::Pending
    })
    .await
}

async fn beat_async<S: AsyncStore + ?Sized>(
    store: &S,
    call: Call<'_>,
    fence: Fence,
    lease: Duration,
) {
    let mut beats = Beats::new(lease);
    loop {
        let Some(pause) = tokio_sleep(beats.until_next()) else {
            let err = StoreError::new(
                StoreErrorKind::Other,
                "the heartbeat needs a Tokio runtime with time enabled to time its beats; the lease is not renewed",
            );
            return events::heartbeat_failed(call, &err);
        };
        pause.await;
        beats.advance();
        if !renewed(call, store.renew(call.key, fence, lease).await) {
            return;
        }
    }
}

/// When the next beat is due: on a fixed schedule from the start, so the time a slow store
/// takes to renew does not push every later beat back. A beat that comes due while the last
/// renewal is still out goes at once when it returns.
struct Beats {
    /// None when the schedule runs past the end of [`Instant`]'s range: no beat is ever due.
    next: Option<Instant>,
    every: Duration,
}

impl Beats {
    fn new(lease: Duration) -> Self {
        let every = interval(lease);
        Self {
            next: Instant::now().checked_add(every),
            every,
        }
    }

    /// How long to wait for the next beat: nothing if it is already due.
    fn until_next(&self) -> Duration {
        self.next.map_or(Duration::MAX, |next| {
            next.saturating_duration_since(Instant::now())
        })
    }

    /// The beat due now is going out: schedules the one after it, never in the past.
    fn advance(&mut self) {
        let now = Instant::now();
        self.next = self
            .next
            .and_then(|next| next.checked_add(self.every))
            .map(|next| next.max(now));
    }
}

/// A Tokio timer, if this thread is in a Tokio runtime that has time enabled: made where a
/// missing timer cannot panic the handler's task.
pub(crate) fn tokio_sleep(duration: Duration) -> Option<tokio::time::Sleep> {
    tokio::runtime::Handle::try_current().ok()?;
    std::panic::catch_unwind(|| tokio::time::sleep(duration)).ok()
}

fn beat_sync<S: Store + ?Sized>(
    store: &S,
    call: Call<'_>,
    fence: Fence,
    lease: Duration,
    stop: &Stop,
) {
    let mut beats = Beats::new(lease);
    while !stop.wait(beats.until_next()) {
        beats.advance();
        if !renewed(call, store.renew(call.key, fence, lease)) {
            return;
        }
    }
}

/// Whether to go on beating: a refused renewal means another caller owns the record now.
fn renewed(call: Call<'_>, renewal: Result<Finish, StoreError>) -> bool {
    match renewal {
        Ok(Finish::Done) => true,
        Ok(Finish::NotOwner) => false,
        Err(err) => {
            events::heartbeat_failed(call, &err);
            true
        }
    }
}

/// Tells a sync heartbeat thread to stop.
#[derive(Default)]
struct Stop {
    stopped: Mutex<bool>,
    changed: Condvar,
}

impl Stop {
    /// Waits up to `timeout`; true once stopped.
    fn wait(&self, timeout: Duration) -> bool {
        let stopped = self.stopped.lock().unwrap_or_else(PoisonError::into_inner);
        let (stopped, _) = self
            .changed
            .wait_timeout_while(stopped, timeout, |stopped| !*stopped)
            .unwrap_or_else(PoisonError::into_inner);
        *stopped
    }
}

/// Stops the heartbeat when the body returns or unwinds.
struct StopOnDrop<'a>(&'a Stop);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        *self
            .0
            .stopped
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = true;
        self.0.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_is_renewed_three_times_per_lease_and_never_in_a_busy_loop() {
        assert_eq!(
            interval(Duration::from_millis(300)),
            Duration::from_millis(100)
        );
        assert_eq!(interval(Duration::from_secs(60)), Duration::from_secs(20));
        assert_eq!(
            interval(Duration::from_micros(10)),
            Duration::from_millis(1)
        );
    }

    #[test]
    fn beats_keep_their_schedule_when_a_renewal_is_slow() {
        let start = Instant::now();
        let mut beats = Beats {
            next: Some(start),
            every: Duration::from_secs(60),
        };
        beats.advance();
        assert_eq!(beats.next, Some(start + Duration::from_secs(60)));
        assert!(beats.until_next() <= Duration::from_secs(60));
        assert!(beats.until_next() > Duration::from_secs(59));

        // A renewal that took longer than a beat: the next one is due at once.
        let mut late = Beats {
            next: start.checked_sub(Duration::from_secs(600)),
            every: Duration::from_secs(60),
        };
        late.advance();
        assert!(late.next.is_some_and(|next| next >= start));
        assert_eq!(late.until_next(), Duration::ZERO);

        // A schedule past the end of time never comes due.
        let mut never = Beats {
            next: None,
            every: Duration::from_secs(60),
        };
        never.advance();
        assert_eq!(never.until_next(), Duration::MAX);
        assert!(Beats::new(Duration::MAX).until_next() > Duration::from_secs(1 << 40));
    }

    #[test]
    fn only_a_lease_that_must_be_renewed_gets_a_heartbeat() {
        let options = Options::DEFAULT;
        assert!(
            matches!(keeping(&options, true), (HELD, Keep::Held(lease)) if lease == options.lease)
        );
        assert!(
            matches!(keeping(&options, false), (lease, Keep::Renewed(every)) if lease == options.lease && every == lease)
        );
        let off = Options {
            heartbeat: false,
            ..options
        };
        for in_process in [true, false] {
            assert!(
                matches!(keeping(&off, in_process), (lease, Keep::Lapsing) if lease == options.lease)
            );
        }
    }
}
