//! Payment execution: one payment from a request to a journaled outcome,
//! through a connector of the registry (`executor`), and why a payment was
//! not attempted (`error`).

mod error;
mod executor;

pub use error::PayError;
pub(crate) use executor::reserve;
pub use executor::{Begun, Executed, Executor};
