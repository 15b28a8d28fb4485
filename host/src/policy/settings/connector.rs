//! One `[connectors.NAME]` section: the host's keys, the limits, and the
//! connector's own config values.

use super::host::parse_min_contract;
use super::overrides::{LIMIT_KEYS, LimitOverrides};
use super::unknown_key;
use crate::contract::ContractVersion;
use crate::contract::placement::PlacementSpec;
use crate::policy::allowlist::OriginPattern;
use crate::policy::fields;
use crate::policy::placement::Placement;
use crate::policy::secrets::SecretSource;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::path::PathBuf;

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
