//! payhost: runs travel suppliers' payment connectors as sandboxed
//! WebAssembly components.
//!
//! A [`Host`] holds the registry of live connectors (each loaded from a
//! file, checked, and granted what the operator allows) and the executor
//! that makes payments through them, journaled. Every payment
//! goes through [`Host::execute`], which runs the connector in a fresh
//! instance under its limits.
//!
//! The crate's rooms, bottom to top (each uses only those before it):
//!
//! | module | owns |
//! |---|---|
//! | `payments` | the model, card masking, vetting outcomes, the journal |
//! | `contract` | the generated bindings and conversions to the model |
//! | `policy` | `payhost.toml`, allowlist, secrets, limits, the grant |
//! | `capabilities` | the imports a connector may call: the sandbox wall |
//! | `engine` | engine, store and limits, one call, the compile cache |
//! | `registry` | loading, a loaded connector, scans, the watcher |
//! | `execution` | one payment from request to journaled outcome |
//! | `host` | the registry and the executor together |
//! | [`reconcile`] | asking suppliers about payments not settled |
//! | [`fleet`] | connectors published to the shared journal, followed |
//! | [`service`] | the HTTP API and its metrics |

mod capabilities;
pub mod conformance;
mod contract;
mod engine;
mod execution;
mod failure;
pub mod fleet;
mod host;
pub mod package;
mod payments;
mod policy;
pub mod reconcile;
mod registry;
mod release;
pub mod service;

pub use capabilities::http::client as http_client;
pub use capabilities::http::cost::measure_sealing;
pub use contract::placement::PlacementSpec;
pub use contract::{CONTRACT_PACKAGE, ContractVersion};
pub use engine::cache::CacheOutcome;
pub use engine::store::Fault;
pub use engine::{PERF_MAP_ENV, Runtime, RuntimeOptions};
pub use execution::PayError;
pub use failure::{Code, Failure};
pub use host::Host;
pub use payments::attempt::{Attempt, AttemptState};
pub use payments::intake::Resolution;
pub use payments::journal::{
    Answer, Begin, Filter, Finished, Journal, JournalError, JournalOptions, JournalTarget,
    MAX_PAGE, Memory, NextQuery, Page, Queries, QueryRecord, Search, SearchError,
};
pub use payments::mask::mask_text;
pub use payments::model::{
    Card, ConnectorError, ErrorKind, MethodKind, Money, PaymentMethod, PaymentOutcome,
    PaymentRequest, PaymentState, RequestError,
};
pub use policy::access::new_token;
pub use policy::limits::Limits;
pub use policy::settings::{
    ConfigError, LogFormat, ReconcileSettings, Schedule, ScheduleOverrides, Scope, Settings,
    SettingsError,
};
pub use registry::watch::spawn as watch;
pub use registry::{Connector, ConnectorSummary, FailedFile, LoadError, LoadKind, Problem};
pub use release::ReleaseError;
