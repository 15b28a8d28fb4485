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
//! [connectors.atlas]        # the name the connector declares in info()
//! base_url = "https://sandbox.atriptech.com"
//! allowed_hosts = ["https://sandbox.atriptech.com"]
//! timeout = "20s"
//! secrets = { client_id = { env = "ATLAS_CLIENT_ID" }, client_secret = { file = "secrets/atlas" } }
//! ```
//!
//! Every key the host does not know is an error that names the right one.
//! In a connector's section, string keys other than the host's own are the
//! connector's config values; they are checked against the keys the
//! connector declares when it loads.

mod connector;
mod host;
mod overrides;
#[cfg(test)]
mod tests;

pub use connector::{ConnectorSettings, HOST_KEYS};
pub use host::HostSettings;
pub use overrides::LimitOverrides;

use crate::policy::access::ApiSettings;
use crate::policy::limits::Limits;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The whole configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Host-wide settings.
    #[serde(default)]
    pub host: HostSettings,
    /// Default limits for every connector.
    #[serde(default)]
    pub limits: LimitOverrides,
    /// Who may call the HTTP API, and how it is served.
    #[serde(default)]
    pub api: ApiSettings,
    /// One section per connector, by the name it declares.
    #[serde(default)]
    pub connectors: BTreeMap<String, ConnectorSettings>,
    /// The directory relative paths are resolved against (that of the file).
    #[serde(skip)]
    pub base_dir: PathBuf,
}

/// "unknown key `x`; did you mean `y`?" with the closest known key.
pub fn unknown_key(key: &str, known: &[&str]) -> String {
    let best = known
        .iter()
        .map(|k| (strsim::levenshtein(key, k), *k))
        .min();
    match best {
        Some((distance, k)) if distance <= 3 || k.contains(key) || key.contains(k) => {
            format!("unknown key `{key}`; did you mean `{k}`?")
        }
        _ => format!("unknown key `{key}`; the keys are: {}", known.join(", ")),
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
    #[error("{path} is not valid: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong and where.
        message: String,
    },
}

impl Settings {
    /// Reads and checks `payhost.toml` at `path`.
    pub fn load(path: &Path) -> Result<Settings, SettingsError> {
        let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut settings = Self::parse(&text).map_err(|message| SettingsError::Invalid {
            path: path.to_owned(),
            message,
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
    pub fn parse(text: &str) -> Result<Settings, String> {
        let mut settings: Settings =
            toml::from_str(text).map_err(|e| e.to_string().trim_end().to_owned())?;
        settings.api.check()?;
        settings.base_dir = PathBuf::from(".");
        Ok(settings)
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

    /// The limits of connector `name`: defaults, then `[limits]`, then its section.
    pub fn limits_for(&self, name: &str) -> Limits {
        let host_wide = self.limits.apply(Limits::default());
        match self.connectors.get(name) {
            Some(section) => section.limits.apply(host_wide),
            None => host_wide,
        }
    }
}
