//! The memory store's synchronization primitives: std's (and Tokio's `Notify`) in every build,
//! loom's when built with `RUSTFLAGS="--cfg idempotent_loom"`, so the loom tests explore every
//! interleaving of the real `begin`, `complete`, `release` and `renew` code. Loom cannot run
//! Tokio, so under loom the async waiters' `Notify` is a stand-in that never blocks.

#[cfg(not(idempotent_loom))]
pub(super) use std::sync::{Condvar, Mutex, MutexGuard};
#[cfg(not(idempotent_loom))]
pub(super) use tokio::sync::Notify;

#[cfg(idempotent_loom)]
pub(super) use loom::sync::{Condvar, Mutex, MutexGuard};
#[cfg(idempotent_loom)]
pub(super) use stand_in::Notify;

#[cfg(idempotent_loom)]
mod stand_in {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    /// Tokio's `Notify` as far as the store uses it; its waits end at once (a spurious
    /// wake-up, which the store's callers allow).
    #[derive(Debug, Default)]
    pub(in crate::store::memory) struct Notify;

    impl Notify {
        pub(in crate::store::memory) fn new() -> Self {
            Self
        }

        pub(in crate::store::memory) fn notify_waiters(&self) {}

        pub(in crate::store::memory) fn notified(&self) -> Notified {
            Notified
        }
    }

    pub(in crate::store::memory) struct Notified;

    impl Notified {
        pub(in crate::store::memory) fn enable(self: Pin<&mut Self>) {}
    }

    impl Future for Notified {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            Poll::Ready(())
        }
    }
}
