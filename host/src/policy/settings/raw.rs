//! `payhost.toml` as it is written: derived structs, every key typed, an
//! unknown key refused. The validation step (`Settings::from_raw`) turns
//! these into the typed settings the host runs with.

use super::values::{
    FileName, Lasting, MinContract, Origins, Placements, Publishers, Section, Sha256Hex, Size,
    Whole,
};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use toml::Spanned;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct File {
    #[serde(default)]
    pub host: Host,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub api: Api,
    #[serde(default)]
    pub reconcile: Reconcile,
    #[serde(default)]
    pub telemetry: Telemetry,
    #[serde(default)]
    pub connectors: BTreeMap<String, Spanned<Section<Connector>>>,
}

/// `[host]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Host {
    pub plugins: Option<PathBuf>,
    pub journal: Option<String>,
    pub cache: Option<PathBuf>,
    pub listen: Option<String>,
    pub min_contract: Option<MinContract>,
    pub compile_timeout: Option<Spanned<Lasting>>,
    pub lease: Option<Spanned<Lasting>>,
    pub journal_wait: Option<Lasting>,
    pub start_degraded: Option<bool>,
    pub log_format: Option<super::values::LogFormat>,
    pub tiered: Option<bool>,
}

/// `[limits]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Limits {
    pub timeout: Option<Spanned<Lasting>>,
    pub cpu: Option<Spanned<Lasting>>,
    pub memory: Option<Spanned<Size>>,
    pub max_requests: Option<Whole<u32>>,
    pub max_response_size: Option<Size>,
    pub max_log_lines: Option<Whole<u32>>,
    pub max_concurrent: Option<Spanned<Whole<u32>>>,
}

/// The host's keys of a `[connectors.NAME]` section, the limits among
/// them; every other key is one of the connector's config values.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Connector {
    #[serde(default)]
    pub allowed_hosts: Origins,
    #[serde(default)]
    pub placements: Option<Spanned<Placements>>,
    #[serde(default)]
    pub unpinned: bool,
    #[serde(default)]
    pub secrets: BTreeMap<String, Secret>,
    pub min_contract: Option<MinContract>,
    pub sha256: Option<Sha256Hex>,
    pub file: Option<FileName>,
    #[serde(default)]
    pub publishers: Publishers,
    #[serde(default)]
    pub allow_downgrade: bool,
    pub reconcile: Option<Spanned<Reconcile>>,
    pub timeout: Option<Spanned<Lasting>>,
    pub cpu: Option<Spanned<Lasting>>,
    pub memory: Option<Spanned<Size>>,
    pub max_requests: Option<Whole<u32>>,
    pub max_response_size: Option<Size>,
    pub max_log_lines: Option<Whole<u32>>,
    pub max_concurrent: Option<Spanned<Whole<u32>>>,
}

impl Connector {
    /// Takes the limits out of the section's keys.
    pub fn take_limits(&mut self) -> Limits {
        Limits {
            timeout: self.timeout.take(),
            cpu: self.cpu.take(),
            memory: self.memory.take(),
            max_requests: self.max_requests.take(),
            max_response_size: self.max_response_size.take(),
            max_log_lines: self.max_log_lines.take(),
            max_concurrent: self.max_concurrent.take(),
        }
    }
}

/// `[reconcile]`, and a connector's `reconcile = { … }` (without `every`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Reconcile {
    pub enabled: Option<bool>,
    pub every: Option<Spanned<Lasting>>,
    pub first: Option<Spanned<Lasting>>,
    pub max_interval: Option<Spanned<Lasting>>,
    pub horizon: Option<Spanned<Lasting>>,
}

/// `[telemetry]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Telemetry {
    pub otlp_endpoint: Option<Spanned<String>>,
    pub service_name: Option<String>,
}

/// Where a secret is kept: `{ env = "VARIABLE" }` or `{ file = "path" }`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub(super) enum Secret {
    Env(String),
    File(PathBuf),
}

/// `[api]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Api {
    #[serde(default)]
    pub tokens: Vec<Spanned<Token>>,
    pub allowed_hosts: Option<Vec<String>>,
    pub tls: Option<Tls>,
    pub max_connections: Option<Spanned<Whole<usize>>>,
    pub header_timeout: Option<Spanned<Lasting>>,
    pub body_timeout: Option<Spanned<Lasting>>,
    pub max_body: Option<Spanned<Size>>,
    pub shutdown_grace: Option<Lasting>,
}

/// One API token.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Token {
    pub name: String,
    pub sha256: TokenHash,
    pub scopes: Vec<super::scope::Scope>,
}

/// A token's SHA-256, 64 hex digits.
#[derive(Debug)]
pub(super) struct TokenHash(pub [u8; 32]);

impl<'de> Deserialize<'de> for TokenHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let mut out = [0u8; 32];
        hex::decode_to_slice(text.trim(), &mut out).map_err(|_| {
            serde::de::Error::custom(
                "`sha256` must be the token's SHA-256 as 64 hex digits; `payhost token new --name NAME --scopes pay,read` makes a token and prints its line",
            )
        })?;
        Ok(TokenHash(out))
    }
}

/// `tls` in `[api]`: PEM files.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Tls {
    pub cert: PathBuf,
    pub key: PathBuf,
}
