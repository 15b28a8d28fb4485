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

use crate::contract::ContractVersion;
use crate::contract::placement::PlacementSpec;
use crate::policy::access::ApiSettings;
use crate::policy::allowlist::OriginPattern;
use crate::policy::fields;
use crate::policy::limits::{self, Limits};
use crate::policy::placement::Placement;
use crate::policy::secrets::SecretSource;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
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
fn parse_min_contract(text: &str) -> Result<ContractVersion, String> {
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

/// Limits an operator may set, host-wide in `[limits]` or per connector.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LimitOverrides {
    /// See [`Limits::timeout`].
    pub timeout: Option<std::time::Duration>,
    /// See [`Limits::cpu`].
    pub cpu: Option<std::time::Duration>,
    /// See [`Limits::memory`].
    pub memory: Option<u64>,
    /// See [`Limits::max_requests`].
    pub max_requests: Option<u32>,
    /// See [`Limits::max_response_size`].
    pub max_response_size: Option<u64>,
    /// See [`Limits::max_log_lines`].
    pub max_log_lines: Option<u32>,
    /// See [`Limits::max_concurrent`].
    pub max_concurrent: Option<u32>,
}

const LIMIT_KEYS: [&str; 7] = [
    "timeout",
    "cpu",
    "memory",
    "max_requests",
    "max_response_size",
    "max_log_lines",
    "max_concurrent",
];

impl LimitOverrides {
    /// `base` with these overrides applied.
    pub fn apply(&self, base: Limits) -> Limits {
        Limits {
            timeout: self.timeout.unwrap_or(base.timeout),
            cpu: self.cpu.unwrap_or(base.cpu),
            memory: self.memory.unwrap_or(base.memory),
            max_requests: self.max_requests.unwrap_or(base.max_requests),
            max_response_size: self.max_response_size.unwrap_or(base.max_response_size),
            max_log_lines: self.max_log_lines.unwrap_or(base.max_log_lines),
            max_concurrent: self.max_concurrent.unwrap_or(base.max_concurrent),
        }
    }

    /// Takes a limit key out of a table; `Ok(false)` if `key` is no limit.
    fn take(&mut self, key: &str, value: &toml::Value) -> Result<bool, String> {
        let text = || {
            value.as_str().ok_or_else(|| {
                format!("`{key}` must be a duration in quotes, like {key} = \"20s\"")
            })
        };
        let count = || {
            value
                .as_integer()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| {
                    format!("`{key}` must be a whole number without quotes, like {key} = 8")
                })
        };
        let size = || match value {
            toml::Value::Integer(n) => {
                u64::try_from(*n).map_err(|_| format!("`{key}` must not be negative"))
            }
            toml::Value::String(s) => limits::parse_size(s).map_err(|e| format!("`{key}`: {e}")),
            _ => Err(format!("`{key}` must be a size, like {key} = \"64MiB\"")),
        };
        match key {
            "timeout" => {
                self.timeout = Some(bounded(
                    key,
                    limits::parse_duration(text()?).map_err(|e| format!("`timeout`: {e}"))?,
                )?)
            }
            "cpu" => {
                self.cpu = Some(bounded(
                    key,
                    limits::parse_duration(text()?).map_err(|e| format!("`cpu`: {e}"))?,
                )?)
            }
            "memory" => {
                let bytes = size()?;
                if bytes > limits::MAX_MEMORY {
                    return Err(format!("`memory` may be at most 1GiB, not {bytes} bytes"));
                }
                self.memory = Some(bytes);
            }
            "max_requests" => self.max_requests = Some(count()?),
            "max_response_size" => self.max_response_size = Some(size()?),
            "max_log_lines" => self.max_log_lines = Some(count()?),
            "max_concurrent" => {
                let n = count()?;
                if n == 0 {
                    return Err("`max_concurrent` must be at least 1".to_owned());
                }
                self.max_concurrent = Some(n);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

impl<'de> Deserialize<'de> for LimitOverrides {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut limits = LimitOverrides::default();
        fields::keys(
            deserializer,
            "a table of limits, like { timeout = \"20s\" }",
            |key, value| match limits.take(&key, &value)? {
                true => Ok(()),
                false => Err(unknown_key(&key, &LIMIT_KEYS)),
            },
        )?;
        Ok(limits)
    }
}

/// One `[connectors.NAME]` section.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConnectorSettings {
    /// The origins the operator allows this connector to call. Empty denies all.
    pub allowed_hosts: Vec<OriginPattern>,
    /// The secrets, by the name the connector uses.
    pub secrets: BTreeMap<String, SecretSource>,
    /// Limit overrides for this connector.
    pub limits: LimitOverrides,
    /// The connector's own (non-secret) config values.
    pub config: BTreeMap<String, String>,
    /// The oldest contract this connector may be built for.
    pub min_contract: Option<ContractVersion>,
    /// The SHA-256 (hex) of the one file this section is for: any other
    /// file declaring this name is refused.
    pub sha256: Option<String>,
    /// The name of the one file (in the plugin directory) this section is
    /// for.
    pub file: Option<String>,
    /// The publishers whose signed packages this connector may come from
    /// (`ed25519:…` public keys); when set, an unsigned file or one signed
    /// by anybody else is refused.
    pub publishers: Vec<String>,
    /// Whether a file with a lower version than the live one may replace it.
    pub allow_downgrade: bool,
    /// Where each secret, derived value and card field may stand in a
    /// request (see `policy::placement`), read once here.
    pub(crate) placements: Vec<Placement>,
    /// Lets the connector place hidden values anywhere at its granted
    /// origins: the explicit opt-in for a connector with no placements.
    pub unpinned: bool,
    /// `placements = "declared"`: the connector's own declared placements
    /// (contract 0.3.0) are granted as they are; only for a section that
    /// pins its file by `sha256` or `publishers`.
    pub accept_declared: bool,
}

/// The keys of a connector section that belong to the host and are not
/// limits.
const SECTION_KEYS: [&str; 9] = [
    "allowed_hosts",
    "placements",
    "unpinned",
    "secrets",
    "min_contract",
    "sha256",
    "file",
    "publishers",
    "allow_downgrade",
];

/// The keys of a connector section that belong to the host: its own and
/// the limits, so that the two lists cannot drift apart.
pub const HOST_KEYS: [&str; SECTION_KEYS.len() + LIMIT_KEYS.len()] = {
    let mut keys = [""; SECTION_KEYS.len() + LIMIT_KEYS.len()];
    let mut i = 0;
    while i < SECTION_KEYS.len() {
        keys[i] = SECTION_KEYS[i];
        i += 1;
    }
    let mut j = 0;
    while j < LIMIT_KEYS.len() {
        keys[SECTION_KEYS.len() + j] = LIMIT_KEYS[j];
        j += 1;
    }
    keys
};

impl ConnectorSettings {
    /// Takes one key of the section: a setting of the host, a limit, or
    /// one of the connector's own config values (strings).
    fn apply(&mut self, key: String, value: toml::Value) -> Result<(), String> {
        match key.as_str() {
            "allowed_hosts" => {
                let list = value.as_array().ok_or_else(|| {
                    String::from("`allowed_hosts` must be a list of origins like [\"https://api.example.com\"]")
                })?;
                for entry in list {
                    let text = entry.as_str().ok_or_else(|| {
                        String::from("`allowed_hosts` entries must be strings like \"https://api.example.com\"")
                    })?;
                    self.allowed_hosts
                        .push(OriginPattern::parse(text).map_err(|e| e.to_string())?);
                }
            }
            "secrets" => {
                let table = value.as_table().ok_or_else(|| {
                    String::from(
                        "`secrets` must be a table like { api_key = { env = \"API_KEY\" } }",
                    )
                })?;
                for (name, source) in table {
                    self.secrets.insert(
                        name.clone(),
                        secret_source(name, source).map_err(|e| e.to_string())?,
                    );
                }
            }
            "sha256" => {
                let text = value
                    .as_str()
                    .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()));
                self.sha256 = Some(
                    text.ok_or_else(|| {
                        String::from(
                            "`sha256` must be the 64 hex digits `payhost plugins inspect FILE` shows",
                        )
                    })?
                    .to_ascii_lowercase(),
                );
            }
            "file" => {
                let text = value
                    .as_str()
                    .filter(|t| t.ends_with(".wasm") && !t.contains('/') && !t.contains('\\'));
                self.file = Some(
                    text.ok_or_else(|| {
                        String::from(
                            "`file` must be a file name in the plugin directory, like \"atlas.wasm\"",
                        )
                    })?
                    .to_owned(),
                );
            }
            "publishers" => {
                let list = value.as_array().ok_or_else(|| {
                    String::from(
                        "`publishers` must be a list of keys like [\"ed25519:…\"] (`payhost plugins keygen` prints one)",
                    )
                })?;
                for entry in list {
                    let text = entry.as_str().ok_or_else(|| {
                        String::from("`publishers` entries must be strings like \"ed25519:…\"")
                    })?;
                    crate::package::parse_public(text).map_err(|e| e.to_string())?;
                    self.publishers.push(text.to_owned());
                }
            }
            "allow_downgrade" => {
                self.allow_downgrade = value
                    .as_bool()
                    .ok_or_else(|| String::from("`allow_downgrade` must be true or false"))?;
            }
            "unpinned" => {
                self.unpinned = value
                    .as_bool()
                    .ok_or_else(|| String::from("`unpinned` must be true or false"))?;
            }
            "placements" if value.as_str() == Some("declared") => {
                self.accept_declared = true;
            }
            "placements" => {
                let list = value.as_array().ok_or_else(|| {
                    String::from(
                        "`placements` must be a list like [{ value = \"secret:api_key\", request = \"POST **/pay\", at = \"header:x-api-key\", encoding = \"raw\" }] (`payhost plugins inspect FILE` prints the ones a connector declares), or \"declared\" to grant those as they are for a file pinned by sha256 or publishers",
                    )
                })?;
                for (i, entry) in list.iter().enumerate() {
                    let spec: PlacementSpec = entry.clone().try_into().map_err(|e| {
                        format!(
                            "`placements` entry {}: {e}; each is {{ value, request, at, encoding }}, with `prefix` and `origin` optional",
                            i + 1
                        )
                    })?;
                    self.placements.push(
                        Placement::from_spec(&spec)
                            .map_err(|e| format!("`placements` entry {}: {e}", i + 1))?,
                    );
                }
            }
            "min_contract" => {
                let text = value
                    .as_str()
                    .ok_or_else(|| String::from("`min_contract` must be a string like \"0.2\""))?;
                self.min_contract = Some(parse_min_contract(text).map_err(|e| e.to_string())?);
            }
            _ => {
                if self.limits.take(&key, &value)? {
                    return Ok(());
                }
                match value {
                    toml::Value::String(s) => {
                        self.config.insert(key, s);
                    }
                    _ => {
                        return Err(format!(
                            "`{key}` is not a setting of the host, and a connector's config values are strings: write `{key} = \"...\"`"
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for ConnectorSettings {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut out = ConnectorSettings::default();
        fields::keys(deserializer, "a connector's section", |key, value| {
            out.apply(key, value)
        })?;
        if out.accept_declared && out.sha256.is_none() && out.publishers.is_empty() {
            return Err(D::Error::custom(
                "`placements = \"declared\"` grants whatever the connector declares, so it is only for a file this section pins: add `sha256 = \"…\"` (`payhost plugins inspect FILE` shows it) or `publishers = [\"ed25519:…\"]`, or list the placements instead",
            ));
        }
        Ok(out)
    }
}

/// A call's time limit: at most a day (a larger one would overflow the
/// deadline's arithmetic and is never meant).
fn bounded(key: &str, d: std::time::Duration) -> Result<std::time::Duration, String> {
    const DAY: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);
    if d > DAY {
        return Err(format!("`{key}` may be at most 24h"));
    }
    Ok(d)
}

fn secret_source(name: &str, value: &toml::Value) -> Result<SecretSource, String> {
    let form = format!(
        "secret `{name}` must be {{ env = \"VARIABLE\" }} or {{ file = \"path/to/file\" }}"
    );
    let table = value.as_table().ok_or_else(|| form.clone())?;
    let mut entries = table.iter();
    match (entries.next(), entries.next()) {
        (Some((kind, v)), None) => {
            let v = v.as_str().ok_or_else(|| form.clone())?;
            match kind.as_str() {
                "env" => Ok(SecretSource::Env(v.to_owned())),
                "file" => Ok(SecretSource::File(PathBuf::from(v))),
                other => Err(format!(
                    "{form}; `{other}` is not a secret source ({})",
                    unknown_key(other, &["env", "file"])
                )),
            }
        }
        _ => Err(form),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_points_at_its_own_line_and_shows_the_right_form() {
        let cases = [
            (
                "[limits]\ntimeout = \"10s\"\nmemory = \"lots\"\n",
                "line 3",
                "`64MiB`",
            ),
            (
                "[connectors.atlas]\nbase_url = \"x\"\ntimeout = 3\n",
                "line 3",
                "timeout = \"20s\"",
            ),
            (
                "[host]\nplugins = \"p\"\nlease = 5\n",
                "line 3",
                "like \"15s\"",
            ),
            (
                "[api]\nmax_connections = \"x\"\n",
                "line 2",
                "whole number without quotes",
            ),
        ];
        for (text, line, form) in cases {
            let error = Settings::parse(text).map(drop).unwrap_err();
            assert!(error.contains(line), "{text:?}: {error}");
            assert!(error.contains(form), "{text:?}: {error}");
            for rust in ["usize", "u32", "expected a string", "\\u{a}"] {
                assert!(!error.contains(rust), "{text:?}: {error}");
            }
        }
    }

    #[test]
    fn a_full_file_parses() {
        let s = Settings::parse(
            r#"
            [host]
            plugins = "p"
            [limits]
            timeout = "10s"
            [connectors.atlas]
            base_url = "https://sandbox.atriptech.com"
            allowed_hosts = ["https://sandbox.atriptech.com"]
            memory = "32MiB"
            secrets = { client_id = { env = "ATLAS_ID" }, client_secret = { file = "s/atlas" } }
            "#,
        )
        .unwrap();
        let atlas = &s.connectors["atlas"];
        assert_eq!(atlas.config["base_url"], "https://sandbox.atriptech.com");
        assert_eq!(
            atlas.secrets["client_id"],
            SecretSource::Env("ATLAS_ID".into())
        );
        let limits = s.limits_for("atlas");
        assert_eq!(limits.memory, 32 << 20);
        assert_eq!(limits.timeout, std::time::Duration::from_secs(10));
    }

    #[test]
    fn unknown_keys_name_the_right_one() {
        let e = Settings::parse("[hots]\nplugins = \"p\"").unwrap_err();
        assert!(
            e.contains("unknown field `hots`") && e.contains("host"),
            "{e}"
        );
        let e = Settings::parse("[limits]\ntimout = \"1s\"").unwrap_err();
        assert!(e.contains("did you mean `timeout`"), "{e}");
        let e = Settings::parse("[connectors.a]\nallowed_hosts = [\"example.com\"]").unwrap_err();
        assert!(e.contains("has no scheme"), "{e}");
        let e = Settings::parse("[connectors.a]\nsecrets = { k = { envv = \"X\" } }").unwrap_err();
        assert!(e.contains("did you mean `env`"), "{e}");
    }
}
