//! What a connector is granted: what it asks for in `info()`, intersected
//! with what the operator allows in its `payhost.toml` section.

use crate::contract::placement::PlacementSpec;
use crate::policy::allowlist::OriginPattern;
use crate::policy::placement::{Pins, Placement};
use crate::policy::secrets::SecretStore;
use crate::policy::settings::{ConnectorSettings, Settings, host_keys, unknown_key};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What the operator granted: what the connector asked for, intersected
/// with what its section in `payhost.toml` allows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// Whether `payhost.toml` has a section for this connector.
    pub configured: bool,
    /// Origins the connector may call.
    pub hosts: Vec<String>,
    /// Origins the connector asked for that the operator does not allow (or
    /// `config:KEY` entries whose key is not set).
    pub hosts_not_allowed: Vec<String>,
    /// Origins the operator allows that the connector did not ask for: not granted.
    pub hosts_not_requested: Vec<String>,
    /// Secrets it may reference.
    pub secrets: Vec<String>,
    /// Secrets it asked for that the operator did not set.
    pub secrets_missing: Vec<String>,
    /// Config keys the operator set.
    pub config_keys: Vec<String>,
    /// Where each hidden value may stand, one line each
    /// (`secret:client_id at header:x-atlas-client-id of POST **/pay.do (raw)`).
    pub placements: Vec<String>,
    /// Whether the operator let the connector place hidden values anywhere
    /// at its granted origins (`unpinned = true`).
    pub unpinned: bool,
    /// Placements the connector declares that its section does not name:
    /// not granted, so a request putting a value there is denied.
    #[serde(default)]
    pub placements_not_allowed: Vec<String>,
    /// Placements the section names that the connector does not declare
    /// (contract 0.3.0): not granted.
    #[serde(default)]
    pub placements_not_requested: Vec<String>,
}

pub(crate) type Granted = (
    Grant,
    Vec<OriginPattern>,
    SecretStore,
    BTreeMap<String, String>,
    Pins,
);

/// What a connector asks for in its `info()`: the grant's other half.
pub(crate) struct Asked<'a> {
    /// Its name, and so its section.
    pub(crate) name: &'a str,
    /// The origins it expects to call (`config:KEY` for a config key's URL).
    pub(crate) hosts: &'a [String],
    /// The secrets it references.
    pub(crate) secrets: &'a [String],
    /// The config keys it reads.
    pub(crate) config_keys: &'a [String],
    /// Where it places its hidden values; `None` for a connector built for
    /// a contract before 0.3.0, which declares none.
    pub(crate) placements: Option<&'a [PlacementSpec]>,
}

/// Why a connector's section cannot be granted: names the section, says
/// what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("[connectors.{name}] in payhost.toml: {what}")]
pub(crate) struct GrantError {
    name: String,
    what: String,
}

/// Grants `info` what its section in `settings` allows.
pub(crate) fn grant(settings: &Settings, info: &Asked<'_>) -> Result<Granted, GrantError> {
    let section = settings.connectors.get(info.name);
    let empty = ConnectorSettings::default();
    let section_ref = section.unwrap_or(&empty);
    let name = info.name;
    let bad = |what: String| GrantError {
        name: name.to_owned(),
        what,
    };

    // Config: only keys the connector declares.
    let mut known: Vec<&str> = host_keys().to_vec();
    known.extend(info.config_keys.iter().map(String::as_str));
    for key in section_ref.config.keys() {
        if !info.config_keys.contains(key) {
            return Err(bad(unknown_key(key, &known)));
        }
    }

    // Hosts: what the connector asks for, resolved.
    let mut requested = Vec::new();
    let mut hosts_not_allowed = Vec::new();
    for host in info.hosts {
        match host.strip_prefix("config:") {
            Some(key) => match section_ref.config.get(key) {
                Some(value) => {
                    let url = url::Url::parse(value)
                        .map_err(|e| bad(format!("`{key}` = \"{value}\" is not a URL: {e}")))?;
                    let origin = url.origin().ascii_serialization();
                    let pattern =
                        OriginPattern::parse(&origin).map_err(|e| bad(format!("`{key}`: {e}")))?;
                    requested.push((host.clone(), pattern));
                }
                None => hosts_not_allowed.push(format!("{host} (config key `{key}` is not set)")),
            },
            None => {
                // Checked in check_info.
                if let Ok(pattern) = OriginPattern::parse(host) {
                    requested.push((host.clone(), pattern));
                }
            }
        }
    }
    let mut hosts = Vec::new();
    let mut hosts_not_requested = Vec::new();
    for allowed in &section_ref.allowed_hosts {
        if requested.iter().any(|(_, r)| allowed.within(r)) {
            hosts.push(allowed.clone());
        } else {
            hosts_not_requested.push(allowed.to_string());
        }
    }
    for (text, pattern) in &requested {
        if !hosts.iter().any(|h| h.within(pattern) || pattern.within(h)) {
            hosts_not_allowed.push(if text.starts_with("config:") {
                format!("{text} ({pattern})")
            } else {
                text.clone()
            });
        }
    }

    // Secrets: declared and set.
    let mut secrets = BTreeMap::new();
    let declared: Vec<&str> = info.secrets.iter().map(String::as_str).collect();
    for (secret, source) in &section_ref.secrets {
        if !info.secrets.contains(secret) {
            return Err(bad(format!(
                "secret `{secret}` is not one this connector uses; it uses: {}",
                if declared.is_empty() {
                    "none".to_owned()
                } else {
                    declared.join(", ")
                }
            )));
        }
        let value = source
            .read(&settings.base_dir)
            .map_err(|e| bad(format!("secret `{secret}`: {e}")))?;
        secrets.insert(secret.clone(), value);
    }
    // Placements: each for a value this connector can hold.
    let mut placements = Vec::new();
    for placement in &section_ref.placements {
        if !placement.fits(info.secrets) {
            return Err(bad(format!(
                "placement for `{}` names a secret this connector does not use; it uses: {}",
                placement.value(),
                if declared.is_empty() {
                    "none".to_owned()
                } else {
                    declared.join(", ")
                }
            )));
        }
        placements.push(placement.clone());
    }
    // What the connector declares (0.3.0) is granted where the section
    // names it too, or as a whole for a pinned file whose section says
    // `placements = "declared"`; an older connector gets its section's.
    let mut placements_not_allowed = Vec::new();
    let mut placements_not_requested = Vec::new();
    match info.placements {
        Some(specs) => {
            let declared: Vec<Placement> = specs
                .iter()
                .filter_map(|spec| Placement::from_spec(spec).ok())
                .collect();
            if section_ref.accept_declared {
                placements = declared;
            } else {
                placements_not_requested = placements
                    .iter()
                    .filter(|p| !declared.iter().any(|d| d.same_place(p)))
                    .map(ToString::to_string)
                    .collect();
                placements_not_allowed = declared
                    .iter()
                    .filter(|d| !placements.iter().any(|p| p.same_place(d)))
                    .map(ToString::to_string)
                    .collect();
                placements.retain(|p| declared.iter().any(|d| d.same_place(p)));
            }
        }
        None if section_ref.accept_declared => {
            return Err(bad(
                "`placements = \"declared\"`, but this connector is built for a contract before 0.3.0 and declares none: list them in the section instead (the shipped connectors' are in README, \"Configuration\")".to_owned(),
            ));
        }
        None => {}
    }
    let pins = Pins::new(placements, section_ref.unpinned);
    let secrets_missing: Vec<String> = info
        .secrets
        .iter()
        .filter(|s| !secrets.contains_key(*s))
        .cloned()
        .collect();
    let grant = Grant {
        configured: section.is_some(),
        hosts: hosts.iter().map(ToString::to_string).collect(),
        hosts_not_allowed,
        hosts_not_requested,
        secrets: secrets.keys().cloned().collect(),
        secrets_missing,
        config_keys: section_ref.config.keys().cloned().collect(),
        placements: pins.placements().iter().map(ToString::to_string).collect(),
        unpinned: pins.unpinned(),
        placements_not_allowed,
        placements_not_requested,
    };
    Ok((
        grant,
        hosts,
        SecretStore::new(secrets),
        section_ref.config.clone(),
        pins,
    ))
}
