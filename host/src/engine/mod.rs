//! The engine every connector runs on: one wasmtime `Engine` with the
//! pooling allocator and epoch interruption (`ticker`), one `Linker` holding
//! WASI and the capabilities, one shared HTTP client, the compile cache
//! (`cache`), compiled functions shared between connectors while they load
//! (`functions`), what one call's store holds and how its limits are enforced
//! (`store`), the time a call's own code used (`guest_clock`), and one call
//! into a connector in a fresh instance (`call`).

pub(crate) mod cache;
pub(crate) mod call;
pub(crate) mod functions;
pub(crate) mod guest_clock;
mod runtime;
pub(crate) mod store;
mod ticker;
pub(crate) mod wasi;

pub use runtime::{PERF_MAP_ENV, Runtime, RuntimeOptions};
