//! One `[connectors.NAME]` section: the host's keys, the limits, and the
//! connector's own config values.

use super::overrides::LimitOverrides;
use super::raw;
use super::reconcile::ScheduleOverrides;
use super::report::{ConfigError, Report};
use super::values::{Placements, Section, fields_of};
use crate::contract::ContractVersion;
use crate::policy::allowlist::OriginPattern;
use crate::policy::placement::Placement;
use crate::policy::secrets::SecretSource;
use std::collections::BTreeMap;
use std::sync::LazyLock;
use toml::Spanned;

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
    /// What its `reconcile = { … }` changes of `[reconcile]`.
    pub reconcile: ScheduleOverrides,
    /// The line of the section's header in `payhost.toml` (0 when the
    /// section was not read from a file).
    pub line: usize,
}

/// The keys of a connector section that belong to the host (its settings
/// and the limits), read from the section's derived struct.
pub fn host_keys() -> &'static [&'static str] {
    static KEYS: LazyLock<&'static [&'static str]> = LazyLock::new(fields_of::<raw::Connector>);
    &KEYS
}

impl ConnectorSettings {
    /// `[connectors.NAME]` as written, checked.
    pub(super) fn from_raw(
        name: &str,
        section: Spanned<Section<raw::Connector>>,
        report: &Report<'_>,
    ) -> Result<Self, ConfigError> {
        let line = report.line(section.span());
        let Section {
            keys: mut raw,
            config,
        } = section.into_inner();
        let limits =
            LimitOverrides::from_raw(raw.take_limits(), &format!("connectors.{name}"), report)?;
        let reconcile = match raw.reconcile.take() {
            Some(r) => {
                let span = r.span();
                let r = r.into_inner();
                if r.every.is_some() {
                    return Err(report.at(
                        span,
                        &format!("connectors.{name}.reconcile"),
                        "`every` is the reconciler's, for every connector: set it in `[reconcile]`; a connector's `reconcile` takes enabled, first, max_interval and horizon",
                    ));
                }
                ScheduleOverrides::from_raw(r, &format!("connectors.{name}.reconcile"), report)?
            }
            None => ScheduleOverrides::default(),
        };
        let (placements, accept_declared) = match raw.placements {
            Some(p) => {
                let span = p.span();
                match p.into_inner() {
                    Placements::Declared if raw.sha256.is_none() && raw.publishers.0.is_empty() => {
                        return Err(report.at(
                            span,
                            &format!("connectors.{name}.placements"),
                            "`placements = \"declared\"` grants whatever the connector declares, so it is only for a file this section pins: add `sha256 = \"…\"` (`payhost plugins inspect FILE` shows it) or `publishers = [\"ed25519:…\"]`, or list the placements instead",
                        ));
                    }
                    Placements::Declared => (Vec::new(), true),
                    Placements::Listed(list) => (list, false),
                }
            }
            None => (Vec::new(), false),
        };
        Ok(ConnectorSettings {
            allowed_hosts: raw.allowed_hosts.0,
            secrets: raw
                .secrets
                .into_iter()
                .map(|(name, source)| {
                    let source = match source {
                        raw::Secret::Env(v) => SecretSource::Env(v),
                        raw::Secret::File(p) => SecretSource::File(p),
                    };
                    (name, source)
                })
                .collect(),
            limits,
            config,
            min_contract: raw.min_contract.map(|v| v.0),
            sha256: raw.sha256.map(|v| v.0),
            file: raw.file.map(|v| v.0),
            publishers: raw.publishers.0,
            allow_downgrade: raw.allow_downgrade,
            placements,
            unpinned: raw.unpinned,
            accept_declared,
            reconcile,
            line,
        })
    }
}
