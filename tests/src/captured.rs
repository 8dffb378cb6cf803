//! The `tracing` events a test's code emits, captured as text lines.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

/// A writer that keeps what `tracing_subscriber::fmt` writes.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// A subscriber at DEBUG that writes into this capture, without colours.
    pub fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync {
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
