//! How a live connector is shown: one serde type for `payhost plugins list`
//! and `inspect`, the API's `GET /v1/connectors`, and the CLI reading that
//! answer back (`plugins list --server`).

use super::connector::Connector;
use super::info::LoadKind;
use crate::contract::CONTRACT_PACKAGE;
use crate::contract::placement::PlacementSpec;
use crate::engine::cache::CacheOutcome;
use crate::payments::model::MethodKind;
use crate::policy::grant::Grant;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::UNIX_EPOCH;

/// Whether a live connector has its operator's section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConnectorState {
    /// Loaded, with a section in `payhost.toml`.
    Live,
    /// Loaded, but `payhost.toml` has no section for it: nothing is granted.
    NoConfig,
}

impl std::fmt::Display for ConnectorState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ConnectorState::Live => "live",
            ConnectorState::NoConfig => "no-config",
        })
    }
}

/// What a connector asks for in its `info()`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requested {
    /// The origins it expects to call.
    pub hosts: Vec<String>,
    /// The secrets it references.
    pub secrets: Vec<String>,
    /// The config keys it reads.
    pub config_keys: Vec<String>,
    /// Where it places each hidden value (contract 0.3.0; none before).
    #[serde(default)]
    pub placements: Vec<PlacementSpec>,
}

impl From<&super::info::ConnectorInfo> for Requested {
    fn from(info: &super::info::ConnectorInfo) -> Self {
        Requested {
            hosts: info.hosts.clone(),
            secrets: info.secrets.clone(),
            config_keys: info.config_keys.clone(),
            placements: info.placements.clone(),
        }
    }
}

impl Requested {
    /// The `[connectors.NAME]` section that grants what is requested, for
    /// the operator to review, fill in and paste: `pin` is the line that
    /// ties it to one file (`sha256 = "…"` or `publishers = ["ed25519:…"]`).
    pub fn section(&self, name: &str, pin: &str) -> String {
        let quoted = |text: &str| toml::Value::String(text.to_owned()).to_string();
        let mut text = format!("[connectors.{name}]\n{pin}\n");
        let hosts: Vec<String> = self
            .hosts
            .iter()
            .filter(|h| !h.starts_with("config:"))
            .map(|h| quoted(h))
            .collect();
        text.push_str(&format!("allowed_hosts = [{}]\n", hosts.join(", ")));
        for key in &self.config_keys {
            text.push_str(&format!("{key} = \"\"\n"));
        }
        let secrets: Vec<String> = self
            .secrets
            .iter()
            .map(|s| {
                format!(
                    "{s} = {{ env = \"{}_{}\" }}",
                    name.to_ascii_uppercase().replace('-', "_"),
                    s.to_ascii_uppercase()
                )
            })
            .collect();
        text.push_str(&format!("secrets = {{ {} }}\n", secrets.join(", ")));
        if self.placements.is_empty() {
            text.push_str("# it declares no placements (a contract before 0.3.0, or nothing hidden to place): list where each secret and card field goes\nplacements = []\n");
        } else {
            text.push_str("placements = [\n");
            for p in &self.placements {
                let mut fields = vec![
                    format!("value = {}", quoted(&p.value)),
                    format!("request = {}", quoted(&p.request)),
                    format!("at = {}", quoted(&p.at)),
                    format!("encoding = {}", quoted(&p.encoding)),
                ];
                if let Some(prefix) = &p.prefix {
                    fields.push(format!("prefix = {}", quoted(prefix)));
                }
                if let Some(origin) = &p.origin {
                    fields.push(format!("origin = {}", quoted(origin)));
                }
                text.push_str(&format!("  {{ {} }},\n", fields.join(", ")));
            }
            text.push_str("]\n");
        }
        text
    }
}

/// A connector's limits per call, in plain units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitsSummary {
    /// Wall time, host I/O included.
    pub timeout_ms: u64,
    /// The connector's own code.
    pub cpu_ms: u64,
    /// Linear memory.
    pub memory_bytes: u64,
    /// Outbound requests.
    pub max_requests: u32,
    /// The largest answer read.
    pub max_response_size: u64,
    /// Log lines.
    pub max_log_lines: u32,
    /// Calls at a time.
    #[serde(default)]
    pub max_concurrent: u32,
}

/// A live connector as the CLI and the API show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectorSummary {
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Its supplier.
    pub supplier: String,
    /// The contract it is built for (`payhost:connector@0.2.0`).
    pub contract: String,
    /// Why its contract is weaker than the current one, for a connector
    /// built for an older contract (`legacy: values derived from secrets
    /// are visible to the connector`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legacy: Option<String>,
    /// Whether its operator's section exists.
    pub state: ConnectorState,
    /// The file it was loaded from.
    pub file: PathBuf,
    /// The SHA-256 of that file, hex.
    pub sha256: String,
    /// The publisher whose signature it carries (`ed25519:…`), for a
    /// signed package.
    #[serde(default)]
    pub publisher: Option<String>,
    /// `verified` for a signed package (signature and digest checked when
    /// it loaded), `unsigned` otherwise.
    #[serde(default = "unsigned")]
    pub signature: String,
    /// When it was loaded, Unix seconds.
    pub loaded_at: u64,
    /// The payment methods it implements.
    pub methods: Vec<MethodKind>,
    /// Whether it can ask its supplier where a payment stands (`query`):
    /// the reconciler settles its unknown and pending payments; otherwise
    /// a person does.
    #[serde(default)]
    pub can_query: bool,
    /// What it asks for.
    pub requested: Requested,
    /// What it was granted.
    pub granted: Grant,
    /// Its limits per call.
    pub limits: LimitsSummary,
    /// Whether its compiled code came from the cache.
    pub cache: CacheOutcome,
    /// How long loading took, in milliseconds.
    pub load_ms: u64,
}

fn unsigned() -> String {
    "unsigned".to_owned()
}

/// A plugin file that failed to load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedFile {
    /// The file.
    pub file: PathBuf,
    /// What is wrong and what to do.
    pub error: String,
    /// What kind of failure (`not-a-component`, `contract`, `refused`, …).
    pub kind: LoadKind,
    /// The connector of that name still serving (its previous version), if any.
    pub serving: Option<String>,
}

impl From<&Connector> for ConnectorSummary {
    fn from(c: &Connector) -> Self {
        ConnectorSummary {
            name: c.info.name.clone(),
            version: c.info.version.clone(),
            supplier: c.info.supplier.clone(),
            contract: format!("{CONTRACT_PACKAGE}@{}", c.contract.as_str()),
            legacy: c.contract.legacy_note().map(str::to_owned),
            state: if c.grant.configured {
                ConnectorState::Live
            } else {
                ConnectorState::NoConfig
            },
            file: c.file.clone(),
            sha256: c.sha256.clone(),
            publisher: c.package.as_ref().map(|m| m.publisher.clone()),
            signature: if c.package.is_some() {
                "verified".to_owned()
            } else {
                unsigned()
            },
            loaded_at: c
                .loaded_at
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            methods: c.info.methods.clone(),
            can_query: c.can_query,
            requested: Requested::from(&c.info),
            granted: c.grant.clone(),
            limits: LimitsSummary {
                timeout_ms: c.limits.timeout.as_millis() as u64,
                cpu_ms: c.limits.cpu.as_millis() as u64,
                memory_bytes: c.limits.memory,
                max_requests: c.limits.max_requests,
                max_response_size: c.limits.max_response_size,
                max_log_lines: c.limits.max_log_lines,
                max_concurrent: c.limits.max_concurrent,
            },
            cache: c.cache,
            load_ms: c.load_time.as_millis() as u64,
        }
    }
}
