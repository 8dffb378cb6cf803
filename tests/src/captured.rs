//! The `tracing` events a test's code emits, captured as text lines.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

/// A writer that keeps what `tracing_subscriber::fmt` writes.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// A subscriber at DEBUG that writes into this capture, without colours.
    pub fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync {
        keep_every_callsite_alive();
        let writer = self.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish()
    }

    /// Every line captured so far.
    pub fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// The lines whose `outcome` field is `outcome`.
    pub fn outcomes(&self, outcome: &str) -> Vec<String> {
        let wanted = format!("outcome=\"{outcome}\"");
        self.text()
            .lines()
            .filter(|line| line.contains(&wanted))
            .map(str::to_owned)
            .collect()
    }
}

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Makes every callsite ask the current thread's subscriber each time.
///
/// `tracing` caches each callsite's interest across all threads. Tests that capture events
/// with a scoped subscriber run in parallel, and when the cache is rebuilt while no scoped
/// subscriber is alive (one test's just ended, the next not begun), a callsite is cached as
/// "never" and a later test loses its events. A global subscriber that answers "sometimes"
/// for every callsite and records nothing keeps the cache from ever saying "never".
fn keep_every_callsite_alive() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Another global subscriber already set is fine too: it was set on purpose.
        let _ = tracing::subscriber::set_global_default(AskEveryTime);
    });
}

/// Records nothing, and never lets a callsite's interest be cached as "never".
struct AskEveryTime;

impl tracing::Subscriber for AskEveryTime {
    fn register_callsite(
        &self,
        _: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        tracing::subscriber::Interest::sometimes()
    }
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        false
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, _: &tracing::Event<'_>) {}
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}
