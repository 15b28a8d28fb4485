//! The clocks WASI gives a connector: real time, rounded down to a
//! millisecond, so a connector cannot time the host (or other connectors)
//! at high resolution. Its own `clock` import has the same resolution.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock};

/// The resolution of every clock a connector can read.
pub const RESOLUTION: Duration = Duration::from_millis(1);

fn coarse(d: Duration) -> Duration {
    let step = RESOLUTION.as_nanos();
    Duration::from_nanos(((d.as_nanos() / step) * step) as u64)
}

/// Wall-clock time since the Unix epoch, to the millisecond.
pub fn wall_now() -> Duration {
    coarse(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default(),
    )
}

/// The wall clock of a call.
pub(crate) struct CoarseWall;

impl HostWallClock for CoarseWall {
    fn resolution(&self) -> Duration {
        RESOLUTION
    }

    fn now(&self) -> Duration {
        wall_now()
    }
}

/// The monotonic clock of a call: time since the call's start.
pub(crate) struct CoarseMonotonic {
    start: Instant,
}

impl CoarseMonotonic {
    pub(crate) fn new() -> Self {
        CoarseMonotonic {
            start: Instant::now(),
        }
    }
}

impl HostMonotonicClock for CoarseMonotonic {
    fn resolution(&self) -> u64 {
        RESOLUTION.as_nanos() as u64
    }

    fn now(&self) -> u64 {
        coarse(self.start.elapsed()).as_nanos() as u64
    }
}
