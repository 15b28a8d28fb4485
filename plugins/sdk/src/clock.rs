//! Wall-clock time.

use crate::bindings::payhost::connector::clock as wit;

pub use wit::Instant;

/// The current time.
pub fn now() -> Instant {
    crate::backend::now()
}

/// Whole seconds since the Unix epoch.
pub fn unix_seconds() -> u64 {
    crate::backend::now().seconds
}
