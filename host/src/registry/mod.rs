//! The registry: the live connectors by name and the plugin directory's
//! files behind them. A scan loads a new or changed file and swaps it in
//! atomically (calls in flight finish on the version they started with),
//! keeps the previous version serving when a file fails to load, and
//! retires a connector whose file is gone; `watch` runs scans when the
//! directory changes.
//!
//! The registry itself is in `live`; loading one file (`load`) is apart from
//! a loaded connector (`connector`) and what it declares (`info`); `summary`
//! is how a live connector is shown; `readiness` whether the host is whole. `load` runs its steps from `file`,
//! `world`, `compile`, `declared`, `section` and `granting`.

mod compile;
mod connector;
mod declared;
mod file;
mod granting;
mod info;
mod live;
mod load;
mod readiness;
mod section;
mod summary;
pub(crate) mod watch;
mod world;

pub use connector::Connector;
pub(crate) use file::MAX_COMPONENT_SIZE;
pub use info::{LoadError, LoadKind};
pub use live::{PluginFile, Registry, ScanReport, UnknownConnector};
pub use readiness::Problem;
pub use summary::{ConnectorSummary, FailedFile, Requested};
