//! What one phase of a load generator measured: calls, errors, time and every latency, shown
//! as a rate with its p50 and p99.

use std::time::Duration;

/// What one phase measured.
pub struct Phase {
    /// Calls made.
    pub calls: usize,
    /// Calls that failed.
    pub errors: usize,
    /// From the first call's start to the last one's end.
    pub elapsed: Duration,
    /// Every call's latency, sorted.
    pub latencies: Vec<Duration>,
}

impl Phase {
    /// Calls a second.
    pub fn rate(&self) -> f64 {
        self.calls as f64 / self.elapsed.as_secs_f64()
    }

    /// The latency below which `p` (0 to 1) of the calls fall.
    pub fn percentile(&self, p: f64) -> Duration {
        let index = ((self.latencies.len() as f64 * p) as usize).min(self.latencies.len() - 1);
        self.latencies.get(index).copied().unwrap_or_default()
    }

    /// Rate, p50 and p99 (and errors, if any) on one line.
    pub fn show(&self) -> String {
        format!(
            "{:>8.0}/s p50 {:>7.2?} p99 {:>7.2?}{}",
            self.rate(),
            self.percentile(0.50),
            self.percentile(0.99),
            if self.errors > 0 {
                format!(" ({} errors)", self.errors)
            } else {
                String::new()
            }
        )
    }
}

impl Phase {
    /// A phase from each task's latencies and errors, over `elapsed`.
    pub fn gather(
        tasks: impl IntoIterator<Item = (Vec<Duration>, usize)>,
        elapsed: Duration,
    ) -> Self {
        let mut phase = Phase {
            calls: 0,
            errors: 0,
            elapsed,
            latencies: Vec::new(),
        };
        for (latencies, errors) in tasks {
            phase.latencies.extend(latencies);
            phase.errors += errors;
        }
        phase.calls = phase.latencies.len();
        phase.latencies.sort_unstable();
        phase
    }
}
