//! A connector's grant: what it asks for in `info()` intersected with what
//! its section of payhost.toml allows, refused when it would hold hidden
//! values with nowhere pinned to send them, and warned about where the two
//! disagree.

use super::info::{ConnectorInfo, LoadError, LoadKind};
use crate::contract::ContractVersion;
use crate::payments::model::MethodKind;
use crate::policy::grant::{Asked, Grant, Granted, grant};
use crate::policy::placement::Pins;
use crate::policy::settings::Settings;
use std::path::Path;

/// Grants `info` what its section in `settings` allows.
pub(super) fn grant_for(
    file: &Path,
    settings: &Settings,
    info: &ConnectorInfo,
    version: ContractVersion,
) -> Result<Granted, LoadError> {
    let asked = Asked {
        name: &info.name,
        hosts: &info.hosts,
        secrets: &info.secrets,
        config_keys: &info.config_keys,
        placements: (version >= ContractVersion::V0_3).then_some(info.placements.as_slice()),
    };
    let (grant, hosts, secrets, config, pins) = grant(settings, &asked)
        .map_err(|e| LoadError::new(file, LoadKind::Refused, e.to_string()))?;
    check_pinned(file, info, &grant, &pins)?;
    warn(info, &grant, &pins);
    Ok((grant, hosts, secrets, config, pins))
}

/// A configured connector that holds secrets or card data has each pinned
/// to where it goes, or its section says `unpinned = true`.
fn check_pinned(
    file: &Path,
    info: &ConnectorInfo,
    grant: &Grant,
    pins: &Pins,
) -> Result<(), LoadError> {
    let holds_hidden = !info.secrets.is_empty()
        || info
            .methods
            .iter()
            .any(|m| matches!(m, MethodKind::Card | MethodKind::MerchantOfRecord));
    if grant.configured && holds_hidden && pins.is_empty() && !pins.unpinned() {
        // Either the section names placements, none of them declared, or
        // it names none at all.
        let why = if grant.placements_not_requested.is_empty() {
            format!(
                "[connectors.{name}] in payhost.toml has no placements: every secret, value derived from one, and card field this connector sends must be pinned to the one place it goes (`placements = [{{ value = \"secret:NAME\", request = \"POST **/path\", at = \"header:NAME\", encoding = \"raw\" }}, …]`; `payhost plugins inspect FILE` prints what a 0.3.0 connector declares, as a section to paste; for a file pinned by sha256 or publishers, `placements = \"declared\"` grants those). To let it place them anywhere at its granted origins instead, set `unpinned = true` (not recommended: a supplier that reflects a field hands it back, and a value beside the connector's own characters is an oracle)",
                name = info.name
            )
        } else {
            format!(
                "[connectors.{name}] in payhost.toml names no placement this connector declares ({}), so none is granted and it could send no secret or card field: compare them with what `payhost plugins inspect FILE` prints",
                grant.placements_not_requested.join("; "),
                name = info.name
            )
        };
        return Err(LoadError::new(file, LoadKind::Refused, why));
    }
    Ok(())
}

/// Warns about placements declared but not granted or granted but not
/// declared, an unpinned connector, and secrets its section does not set.
fn warn(info: &ConnectorInfo, grant: &Grant, pins: &Pins) {
    // Without a section nothing is granted, and the load says so already.
    if grant.configured {
        for placement in &grant.placements_not_allowed {
            tracing::warn!(connector = %info.name, "declares the placement {placement}, which [connectors.{}] does not name: not granted, a request putting the value there is denied (`payhost plugins inspect` prints the declared ones as a section to review and paste)", info.name);
        }
    }
    for placement in &grant.placements_not_requested {
        tracing::warn!(connector = %info.name, "[connectors.{}] names the placement {placement}, which the connector does not declare: not granted", info.name);
    }
    if pins.unpinned() {
        tracing::warn!(connector = %info.name, "unpinned = true: its secrets and card data may stand anywhere in requests to its granted origins; write placements to pin them");
    }
    for missing in &grant.secrets_missing {
        tracing::warn!(connector = %info.name, "secret `{missing}` is not set in [connectors.{}]: calls that use it will be refused", info.name);
    }
}
