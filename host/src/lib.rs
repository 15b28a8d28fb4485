//! payhost: runs travel suppliers' payment connectors as sandboxed
//! WebAssembly components.
//!
//! A [`Host`] holds one [`Runtime`] (the wasmtime engine, the capabilities a
//! connector may import, the shared HTTP client, the compile cache), the
//! operator's [`Settings`], and the loaded [`Connector`]s. Every payment goes
//! through [`Host::pay`], which runs the connector in a fresh instance under
//! its [`Limits`].

pub mod allowlist;
mod bindings;
pub mod cache;
mod capabilities;
pub mod clocks;
pub mod connector;
pub mod grant;
pub mod host;
pub mod journal;
pub mod limits;
pub mod mask;
pub mod metrics;
mod outcome;
pub mod payment;
pub mod runtime;
mod sandbox;
pub mod secrets;
pub mod server;
pub mod settings;
mod state;
pub mod watch;

pub use bindings::{CONNECTOR_EXPORT, CONTRACT_PACKAGE, CONTRACT_VERSION};
pub use capabilities::http::client as http_client;
pub use connector::{Connector, ConnectorInfo, LoadError};
pub use grant::Grant;
pub use host::{Executed, Host, PayError, PluginFile, ScanReport};
pub use journal::Journal;
pub use limits::Limits;
pub use payment::{
    Card, ConnectorError, ErrorKind, MethodKind, Money, PaymentMethod, PaymentOutcome,
    PaymentRequest, PaymentState,
};
pub use runtime::{Runtime, RuntimeOptions};
pub use settings::Settings;
pub use state::Fault;
