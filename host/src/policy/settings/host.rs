//! `[host]`: the plugin directory, the journal, the cache, the listener,
//! the oldest contract, and the journal's lease and wait.

use crate::contract::ContractVersion;
use crate::policy::fields;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use std::path::PathBuf;

/// The `[host]` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostSettings {
    /// The directory of connector files: every `*.wasm` in it is loaded.
    #[serde(default = "default_plugins")]
    pub plugins: PathBuf,
    /// The payment journal: a SQLite file path, or a `postgres://` URL.
    #[serde(default = "default_journal")]
    pub journal: String,
    /// Where compiled connectors are cached.
    #[serde(default = "default_cache")]
    pub cache: PathBuf,
    /// The address `payhost serve` listens on.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// The oldest contract a connector may be built for (`"0.2"` refuses
    /// 0.1.0 connectors, which see values derived from secrets).
    #[serde(default, deserialize_with = "min_contract")]
    pub min_contract: Option<ContractVersion>,
    /// How long compiling one connector file may take before the file is
    /// refused (`"120s"` by default).
    #[serde(
        default = "default_compile_timeout",
        deserialize_with = "compile_timeout"
    )]
    pub compile_timeout: std::time::Duration,
    /// How long a host process's lease in the journal lasts without renewal
    /// (`"15s"`): an attempt in flight whose host's lease lapsed is
    /// `unknown`. Shorter settles a killed host's payments sooner; it must
    /// stay well above a pause the process could take.
    #[serde(default = "default_lease", deserialize_with = "lease")]
    pub lease: std::time::Duration,
    /// How long a journal write waits for another process's lock before it
    /// is refused as busy (`"5s"`); at most a third of `lease`.
    #[serde(default = "default_journal_wait", deserialize_with = "journal_wait")]
    pub journal_wait: std::time::Duration,
}

fn default_journal_wait() -> std::time::Duration {
    std::time::Duration::from_secs(5)
}

fn journal_wait<'de, D: Deserializer<'de>>(d: D) -> Result<std::time::Duration, D::Error> {
    fields::duration(d)
}

fn default_lease() -> std::time::Duration {
    std::time::Duration::from_secs(15)
}

fn lease<'de, D: Deserializer<'de>>(d: D) -> Result<std::time::Duration, D::Error> {
    let lease = fields::duration(d)?;
    if lease < std::time::Duration::from_secs(1) {
        return Err(D::Error::custom("`lease` must be at least 1s"));
    }
    Ok(lease)
}

fn default_compile_timeout() -> std::time::Duration {
    std::time::Duration::from_secs(120)
}

fn compile_timeout<'de, D: Deserializer<'de>>(d: D) -> Result<std::time::Duration, D::Error> {
    fields::duration(d)
}

fn min_contract<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ContractVersion>, D::Error> {
    let text = String::deserialize(d)?;
    parse_min_contract(&text)
        .map(Some)
        .map_err(D::Error::custom)
}

/// `"0.2"` or `"0.2.0"` as a contract version this host runs.
pub(super) fn parse_min_contract(text: &str) -> Result<ContractVersion, String> {
    let mut numbers = text.trim().split('.').map(|n| n.parse::<u64>().ok());
    let (major, minor) = (numbers.next().flatten(), numbers.next().flatten());
    major
        .zip(minor)
        .and_then(|(major, minor)| ContractVersion::from_minor(major, minor))
        .ok_or_else(|| {
            format!(
                "min_contract `{text}` is not a contract version this host runs: write \"0.1\" or \"0.2\""
            )
        })
}

fn default_listen() -> String {
    "127.0.0.1:8700".to_owned()
}

fn default_plugins() -> PathBuf {
    PathBuf::from("plugins")
}
fn default_journal() -> String {
    "payhost.db".to_owned()
}
fn default_cache() -> PathBuf {
    PathBuf::from(".payhost-cache")
}

impl Default for HostSettings {
    fn default() -> Self {
        HostSettings {
            plugins: default_plugins(),
            journal: default_journal(),
            cache: default_cache(),
            listen: default_listen(),
            min_contract: None,
            compile_timeout: default_compile_timeout(),
            lease: default_lease(),
            journal_wait: default_journal_wait(),
        }
    }
}
