//! `payhost.toml`: the operator's configuration.
//!
//! ```toml
//! [host]
//! plugins = "plugins/"
//! journal = "payhost.db"
//!
//! [limits]                  # defaults for every connector
//! timeout = "30s"
//!
//! [reconcile]               # asking suppliers about unsettled payments
//! first = "1m"
//!
//! [connectors.atlas]        # the name the connector declares in info()
//! base_url = "https://sandbox.atriptech.com"
//! allowed_hosts = ["https://sandbox.atriptech.com"]
//! timeout = "20s"
//! secrets = { client_id = { env = "ATLAS_CLIENT_ID" }, client_secret = { file = "secrets/atlas" } }
//! ```
//!
//! It is read in two steps: serde reads the file into the derived structs
//! of `raw` (every key typed, an unknown one refused), and a validation
//! step checks what one key cannot say alone and builds the typed
//! settings. An error names the line and the key, says what is wrong in
//! plain words and shows the right form. In a connector's section, string
//! keys other than the host's own are the connector's config values; they
//! are checked against the keys the connector declares when it loads.

mod api;
mod connector;
mod host;
mod overrides;
mod raw;
mod reconcile;
mod report;
mod scope;
mod telemetry;
#[cfg(test)]
mod tests;
mod values;

#[cfg(test)]
pub(crate) use api::TokenSettings;
pub use api::{ApiSettings, TlsSettings};
pub use connector::{ConnectorSettings, host_keys};
pub use host::HostSettings;
pub use overrides::LimitOverrides;
pub use reconcile::{ReconcileSettings, Schedule, ScheduleOverrides};
pub use report::ConfigError;
pub use scope::Scope;
pub use telemetry::TelemetrySettings;
pub use values::LogFormat;
pub(crate) use values::fields_of;

use crate::policy::limits::Limits;
use report::Report;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The whole configuration.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Host-wide settings.
    pub host: HostSettings,
    /// Default limits for every connector.
    pub limits: LimitOverrides,
    /// Who may call the HTTP API, and how it is served.
    pub api: ApiSettings,
    /// How the reconciler asks suppliers about payments not settled.
    pub reconcile: ReconcileSettings,
    /// Where traces go.
    pub telemetry: TelemetrySettings,
    /// One section per connector, by the name it declares.
    pub connectors: BTreeMap<String, ConnectorSettings>,
    /// The directory relative paths are resolved against (that of the file).
    pub base_dir: PathBuf,
}

/// "unknown key `x`; did you mean `y`?" with the closest known key.
pub fn unknown_key(key: &str, known: &[&str]) -> String {
    suggest(&format!("unknown key `{key}`"), key, known)
}

/// `lead`, then the known name closest to `name` if one is close, or all
/// of them.
pub(crate) fn suggest(lead: &str, name: &str, known: &[&str]) -> String {
    let best = known
        .iter()
        .map(|k| (strsim::levenshtein(name, k), *k))
        .min();
    match best {
        Some((distance, k)) if distance <= 3 || k.contains(name) || name.contains(k) => {
            format!("{lead}; did you mean `{k}`?")
        }
        _ if known.is_empty() => lead.to_owned(),
        _ => format!("{lead}; the keys are: {}", known.join(", ")),
    }
}

/// Why the configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The file could not be read.
    #[error(
        "cannot read {path}: {source}. Pass the right file with --config, or create it (see README.md, \"Configuration\")"
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid.
    #[error("{path} is not valid: {source}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong and where.
        source: ConfigError,
    },
}

impl Settings {
    /// Reads and checks `payhost.toml` at `path`.
    pub fn load(path: &Path) -> Result<Settings, SettingsError> {
        let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut settings = Self::parse(&text).map_err(|source| SettingsError::Invalid {
            path: path.to_owned(),
            source,
        })?;
        settings.base_dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Ok(settings)
    }

    /// Parses the text of `payhost.toml`; relative paths stay relative to
    /// the working directory.
    pub fn parse(text: &str) -> Result<Settings, ConfigError> {
        let report = Report { text };
        let file = toml::Deserializer::parse(text).map_err(|e| report.parse(None, e))?;
        let raw: raw::File = serde_path_to_error::deserialize(file).map_err(|e| report.read(e))?;
        let connectors = raw
            .connectors
            .into_iter()
            .map(|(name, section)| {
                ConnectorSettings::from_raw(&name, section, &report).map(|s| (name, s))
            })
            .collect::<Result<_, _>>()?;
        Ok(Settings {
            host: HostSettings::from_raw(raw.host, &report)?,
            limits: LimitOverrides::from_raw(raw.limits, "limits", &report)?,
            api: ApiSettings::from_raw(raw.api, &report)?,
            reconcile: ReconcileSettings::from_raw(raw.reconcile, &report)?,
            telemetry: TelemetrySettings::from_raw(raw.telemetry, &report)?,
            connectors,
            base_dir: PathBuf::from("."),
        })
    }

    /// How the journal is opened: the lease from `[host]`.
    pub fn journal_options(&self) -> crate::payments::journal::JournalOptions {
        crate::payments::journal::JournalOptions {
            lease: self.host.lease,
            busy_timeout: self.host.journal_wait,
        }
    }

    /// A path from the file, resolved against its directory.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        self.base_dir.join(path)
    }

    /// The plugin directory.
    pub fn plugins_dir(&self) -> PathBuf {
        self.resolve(&self.host.plugins)
    }

    /// The journal file (for a SQLite journal).
    pub fn journal_path(&self) -> PathBuf {
        self.resolve(Path::new(&self.host.journal))
    }

    /// Where the journal is: `journal = "postgres://…"` (or
    /// `postgresql://…`) is a PostgreSQL database, anything else a SQLite
    /// file relative to this file's directory.
    pub fn journal_target(&self) -> crate::payments::journal::JournalTarget {
        let journal = self.host.journal.trim();
        if journal.starts_with("postgres://") || journal.starts_with("postgresql://") {
            crate::payments::journal::JournalTarget::Postgres(journal.to_owned())
        } else {
            crate::payments::journal::JournalTarget::Sqlite(self.journal_path())
        }
    }

    /// The compile cache directory.
    pub fn cache_dir(&self) -> PathBuf {
        self.resolve(&self.host.cache)
    }

    /// When connector `name`'s unsettled attempts are asked about:
    /// `[reconcile]`, then its section's `reconcile`.
    pub fn schedule_for(&self, name: &str) -> Schedule {
        let host_wide = self.reconcile.schedule;
        match self.connectors.get(name) {
            Some(section) => section.reconcile.apply(host_wide),
            None => host_wide,
        }
    }

    /// The limits of connector `name`: defaults, then `[limits]`, then its section.
    pub fn limits_for(&self, name: &str) -> Limits {
        let host_wide = self.limits.apply(Limits::default());
        match self.connectors.get(name) {
            Some(section) => section.limits.apply(host_wide),
            None => host_wide,
        }
    }
}
