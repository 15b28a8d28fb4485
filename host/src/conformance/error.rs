//! Why a conformance run cannot start, or a scenarios file is refused.

use crate::payments::model::RequestError;
use crate::policy::settings::ConfigError;
use crate::registry::LoadError;
use std::path::PathBuf;

/// Why a conformance run cannot start: the scenarios file unreadable or not
/// valid, a scenario's request not buildable, the connector file not
/// loadable, the host configuration for the run not buildable. A scenario
/// that fails is no error: it is in the report.
#[derive(Debug, thiserror::Error)]
pub enum ConformanceError {
    /// The scenarios file cannot be read.
    #[error("cannot read {path}: {error}")]
    ReadScenarios {
        /// The scenarios file.
        path: PathBuf,
        /// Why it cannot be read.
        error: std::io::Error,
    },
    /// The scenarios file is not valid: what is wrong in it, after its name.
    #[error("{path}: {error}")]
    InvalidScenarios {
        /// The scenarios file.
        path: PathBuf,
        /// What is wrong in it ([`ConformanceError::Toml`] or
        /// [`ConformanceError::FaultAndResponse`]).
        error: Box<ConformanceError>,
    },
    /// The scenarios file's text is not TOML of a scenarios file's form.
    #[error("{0}")]
    Toml(toml::de::Error),
    /// A scenario's answer is both a fault and a response.
    #[error("scenario `{scenario}`: an answer is a fault or a response, not both")]
    FaultAndResponse {
        /// The scenario's name.
        scenario: String,
    },
    /// A scenario has no answer, or both `answer` and `answers`.
    #[error(
        "scenario `{scenario}`: give the supplier's answer as `answer = {{ … }}` or `answers = [{{ … }}, …]`, one of the two"
    )]
    Answers {
        /// The scenario's name.
        scenario: String,
    },
    /// A header pattern is not a regular expression.
    #[error("scenario `{scenario}`: `headers_match` for {header}: {error}")]
    Pattern {
        /// The scenario's name.
        scenario: String,
        /// The header.
        header: String,
        /// Why the pattern is not one.
        error: String,
    },
    /// A scenario's payment method is none the run knows.
    #[error(
        "scenario `{scenario}`: method `{method}` is not balance, card, merchant-of-record or account:ID"
    )]
    Method {
        /// The scenario's name.
        scenario: String,
        /// The method it gives.
        method: String,
    },
    /// A scenario's amount or currency is refused.
    #[error("scenario `{scenario}`: {error}")]
    Amount {
        /// The scenario's name.
        scenario: String,
        /// Why the amount is refused.
        error: RequestError,
    },
    /// The run's private temporary directory cannot be made.
    #[error("cannot make a temporary directory: {0}")]
    TempDir(std::io::Error),
    /// The scripted supplier cannot listen on loopback.
    #[error("cannot start the scripted supplier on 127.0.0.1: {0}")]
    Supplier(std::io::Error),
    /// The WebAssembly engine cannot be started.
    #[error("cannot start the WebAssembly engine: {0:#}")]
    Engine(wasmtime::Error),
    /// The connector file does not load.
    #[error("{0}")]
    Load(LoadError),
    /// A directory of the run (its plugins, its secrets) cannot be made.
    #[error("{0}")]
    Directory(std::io::Error),
    /// A test secret cannot be written to its owner-only file.
    #[error("{0}")]
    SecretFile(std::io::Error),
    /// The `[connector]` timeout is over 60 s (the timeout scenarios wait it
    /// out).
    #[error("[connector] timeout may be at most 60s in a scenarios file")]
    TimeoutTooLong,
    /// The `[connector]` timeout is not a duration: why, as the duration
    /// parser says it.
    #[error("[connector] timeout: {0}")]
    Timeout(String),
    /// A `[connector]` config key the run sets itself.
    #[error("[connector] config `{key}` is set by the test run itself; leave it out")]
    ReservedConfig {
        /// The key.
        key: String,
    },
    /// A `[connector]` config key that is not a valid key name.
    #[error("[connector] config key `{}` is not a valid key", .key.escape_debug())]
    ConfigKey {
        /// The key.
        key: String,
    },
    /// A `[connector]` secret whose name is not a valid key name.
    #[error("[connector] secret `{}` is not a valid key", .key.escape_debug())]
    SecretKey {
        /// The secret's name.
        key: String,
    },
    /// The `[connector]` placements cannot be written as configuration.
    #[error("[connector] placements: {0}")]
    Placements(toml::ser::Error),
    /// The host configuration made from the `[connector]` section is
    /// refused.
    #[error(
        "the scenarios' [connector] section is refused: {error}\n(as configuration:\n{config})"
    )]
    Settings {
        /// Why it is refused (boxed: it is large, and rare).
        error: Box<ConfigError>,
        /// The configuration, as written for the run.
        config: String,
    },
}
