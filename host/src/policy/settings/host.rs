//! `[host]`: the plugin directory, the journal, the cache, the listener,
//! the oldest contract, and the journal's lease and wait.

use super::raw;
use super::report::{ConfigError, Report};
use super::values::LogFormat;
use crate::contract::ContractVersion;
use std::path::PathBuf;
use std::time::Duration;

/// The `[host]` section.
#[derive(Debug, Clone)]
pub struct HostSettings {
    /// The directory of connector files: every `*.wasm` in it is loaded.
    pub plugins: PathBuf,
    /// The payment journal: a SQLite file path, or a `postgres://` URL.
    pub journal: String,
    /// Where compiled connectors are cached: the user's cache directory
    /// unless set (see [`user_cache_dir`]).
    pub cache: PathBuf,
    /// The address `payhost serve` listens on.
    pub listen: String,
    /// The oldest contract a connector may be built for (`"0.2"` refuses
    /// 0.1.0 connectors, which see values derived from secrets).
    pub min_contract: Option<ContractVersion>,
    /// How long compiling one connector file may take before the file is
    /// refused (`"120s"` by default).
    pub compile_timeout: Duration,
    /// How long a host process's lease in the journal lasts without renewal
    /// (`"15s"`): an attempt in flight whose host's lease lapsed is
    /// `unknown`. Shorter settles a killed host's payments sooner; it must
    /// stay well above a pause the process could take.
    pub lease: Duration,
    /// How long a journal write waits for another process's lock before it
    /// is refused as busy (`"5s"`); at most a third of `lease`.
    pub journal_wait: Duration,
    /// Start `payhost serve` even when the configuration does not make a
    /// whole host (a connector that does not load, a section no connector
    /// declares): the problems are logged and `/readyz` answers 503 until
    /// they are gone. Off by default: such a host refuses to start.
    pub start_degraded: bool,
    /// How `payhost` writes its log (`--log-format` overrides it).
    pub log_format: LogFormat,
    /// Where `payhost serve` compiles a connector the compile cache does not
    /// hold: `true` (the default) with the baseline compiler (Winch) first,
    /// in milliseconds, so that it serves at once, and with Cranelift into
    /// the cache in the background, whose optimised code the next scan
    /// swaps in; `false` with Cranelift only, the connector serving when
    /// that is done.
    pub tiered: bool,
}

impl Default for HostSettings {
    fn default() -> Self {
        HostSettings {
            plugins: PathBuf::from("plugins"),
            journal: "payhost.db".to_owned(),
            cache: user_cache_dir(),
            listen: "127.0.0.1:8700".to_owned(),
            min_contract: None,
            compile_timeout: Duration::from_secs(120),
            lease: Duration::from_secs(15),
            journal_wait: Duration::from_secs(5),
            start_degraded: false,
            log_format: LogFormat::Text,
            tiered: true,
        }
    }
}

/// The user's cache directory for compiled connectors:
/// `$XDG_CACHE_HOME/payhost`, else `$HOME/.cache/payhost`; `.payhost-cache`
/// beside `payhost.toml` only when neither is set. Never the working
/// directory: a command run in a connector's crate leaves nothing there.
pub fn user_cache_dir() -> PathBuf {
    let set = |name: &str| {
        std::env::var_os(name)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    set("XDG_CACHE_HOME")
        .or_else(|| set("HOME").map(|home| home.join(".cache")))
        .map(|dir| dir.join("payhost"))
        .unwrap_or_else(|| PathBuf::from(".payhost-cache"))
}

impl HostSettings {
    /// The section as written, checked.
    pub(super) fn from_raw(raw: raw::Host, report: &Report<'_>) -> Result<Self, ConfigError> {
        let d = HostSettings::default();
        if let Some(lease) = &raw.lease
            && lease.get_ref().0 < Duration::from_secs(1)
        {
            return Err(report.at(lease.span(), "host.lease", "`lease` must be at least 1s"));
        }
        let compile_timeout =
            super::values::above_zero(report, "host.compile_timeout", raw.compile_timeout)?;
        Ok(HostSettings {
            plugins: raw.plugins.unwrap_or(d.plugins),
            journal: raw.journal.unwrap_or(d.journal),
            cache: raw.cache.unwrap_or(d.cache),
            listen: raw.listen.unwrap_or(d.listen),
            min_contract: raw.min_contract.map(|v| v.0),
            compile_timeout: compile_timeout.unwrap_or(d.compile_timeout),
            lease: raw.lease.map_or(d.lease, |v| v.into_inner().0),
            journal_wait: raw.journal_wait.map_or(d.journal_wait, |v| v.0),
            start_degraded: raw.start_degraded.unwrap_or(false),
            log_format: raw.log_format.unwrap_or_default(),
            tiered: raw.tiered.unwrap_or(d.tiered),
        })
    }
}
