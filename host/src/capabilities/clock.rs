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

/// The wall clock of a call: real time, or the time it is pinned to (a
/// scenario that checks a signature over a timestamp).
pub(crate) struct CoarseWall(pub(crate) Clock);

impl HostWallClock for CoarseWall {
    fn resolution(&self) -> Duration {
        RESOLUTION
    }

    fn now(&self) -> Duration {
        self.0.since_epoch()
    }
}

/// The monotonic clock of a call: time since the call's start.
pub(crate) struct CoarseMonotonic {
    start: Instant,
}

impl CoarseMonotonic {
    /// The clock of a call that started at `start`.
    pub(crate) fn since(start: Instant) -> Self {
        CoarseMonotonic { start }
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

/// A call's clock: real time, or pinned to one instant (Unix time).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Clock {
    pub(crate) pinned: Option<Duration>,
}

impl Clock {
    /// The time since the Unix epoch, to the millisecond.
    pub(crate) fn since_epoch(&self) -> Duration {
        self.pinned.map_or_else(wall_now, coarse)
    }
}

struct ClockCapability;

impl HasData for ClockCapability {
    type Data<'a> = Clock;
}

/// Adds `clock` to a linker whose store is `T`; `get` finds the call's
/// clock in the store.
pub(crate) fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> Clock,
) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, ClockCapability>(linker, get)?;
    legacy::clock::add_to_linker::<T, ClockCapability>(linker, get)
}

impl wit::Host for Clock {
    fn now(&mut self) -> wasmtime::Result<WitInstant> {
        let since = self.since_epoch();
        Ok(WitInstant {
            seconds: since.as_secs(),
            nanoseconds: since.subsec_nanos(),
        })
    }
}

impl legacy::clock::Host for Clock {
    fn now(&mut self) -> wasmtime::Result<legacy::clock::Instant> {
        let since = self.since_epoch();
        Ok(legacy::clock::Instant {
            seconds: since.as_secs(),
            nanoseconds: since.subsec_nanos(),
        })
    }
}
