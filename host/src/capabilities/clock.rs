//! `payhost:connector/clock`, and the clocks WASI gives a connector: real
//! time, rounded down to a millisecond, so a connector cannot time the host
//! (or other connectors) at high resolution. Both have the same resolution.

use crate::contract::clock::{self as wit, Instant as WitInstant};
use crate::contract::legacy;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use wasmtime::component::{HasData, Linker};
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

/// The clock has no state; this is its view.
pub(crate) struct Clock;

struct ClockCapability;

impl HasData for ClockCapability {
    type Data<'a> = Clock;
}

/// Adds `clock` to a linker whose store is `T`.
pub(crate) fn add_to_linker<T: 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, ClockCapability>(linker, |_| Clock)?;
    legacy::clock::add_to_linker::<T, ClockCapability>(linker, |_| Clock)
}

impl wit::Host for Clock {
    fn now(&mut self) -> wasmtime::Result<WitInstant> {
        let since = wall_now();
        Ok(WitInstant {
            seconds: since.as_secs(),
            nanoseconds: since.subsec_nanos(),
        })
    }
}

impl legacy::clock::Host for Clock {
    fn now(&mut self) -> wasmtime::Result<legacy::clock::Instant> {
        let since = wall_now();
        Ok(legacy::clock::Instant {
            seconds: since.as_secs(),
            nanoseconds: since.subsec_nanos(),
        })
    }
}
