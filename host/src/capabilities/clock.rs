//! `payhost:connector/clock`: wall-clock time, to the millisecond.

use crate::bindings::clock::{self as wit, Instant};
use crate::state::CallState;
use wasmtime::component::{HasData, Linker};

/// The clock has no state; this is its view.
pub(crate) struct Clock;

struct ClockCapability;

impl HasData for ClockCapability {
    type Data<'a> = Clock;
}

pub(crate) fn add_to_linker(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    wit::add_to_linker::<CallState, ClockCapability>(linker, |_| Clock)
}

impl wit::Host for Clock {
    fn now(&mut self) -> wasmtime::Result<Instant> {
        let since = crate::clocks::wall_now();
        Ok(Instant {
            seconds: since.as_secs(),
            nanoseconds: since.subsec_nanos(),
        })
    }
}
