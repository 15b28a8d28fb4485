//! How long journal writes wait before they can start: for SQLite, the
//! file's write lock (another process writing); for PostgreSQL, a pooled
//! connection. A histogram every store keeps and `/metrics` shows.

use prometheus_client::metrics::histogram::Histogram;
use std::time::{Duration, Instant};

/// The buckets, in seconds: from no wait to the longest a write may wait.
const BUCKETS: [f64; 9] = [0.001, 0.005, 0.025, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// A store's lock waits.
#[derive(Clone, Debug)]
pub struct LockWaits(Histogram);

impl Default for LockWaits {
    fn default() -> Self {
        LockWaits(Histogram::new(BUCKETS))
    }
}

impl LockWaits {
    /// Runs `f` (which takes the lock) and counts how long it took.
    pub(crate) fn time<T>(&self, f: impl FnOnce() -> T) -> T {
        let started = Instant::now();
        let result = f();
        self.observe(started.elapsed());
        result
    }

    /// Counts one wait.
    pub(crate) fn observe(&self, waited: Duration) {
        self.0.observe(waited.as_secs_f64());
    }

    /// The histogram, to be registered for `/metrics`.
    pub fn histogram(&self) -> Histogram {
        self.0.clone()
    }
}
