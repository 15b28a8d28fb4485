//! What a connector's file must be for the name it declares: a signed
//! manifest about this very component, and what the connector's section of
//! payhost.toml requires of it (publishers, its `sha256` or `file` pin, its
//! `min_contract`).

use super::info::{ConnectorInfo, LoadError, LoadKind};
use crate::contract::{self, ContractVersion};
use crate::policy::settings::Settings;
use std::path::Path;

/// A package's manifest must be about this component, and a connector
/// whose section names publishers must come signed by one of them.
pub(super) fn check_package(
    file: &Path,
    settings: &Settings,
    info: &ConnectorInfo,
    package: Option<&crate::package::Manifest>,
) -> Result<(), LoadError> {
    if let Some(p) = package
        && (p.name != info.name || p.version != info.version)
    {
        return Err(LoadError::new(
            file,
            LoadKind::Package,
            format!(
                "its signed manifest is for {} {}, but the component declares {} {}",
                p.name, p.version, info.name, info.version
            ),
        ));
    }
    // What the operator reviewed in the manifest is what the connector asks.
    if let Some(p) = package
        && (p.hosts != info.hosts
            || p.secrets != info.secrets
            || p.config_keys != info.config_keys
            || p.placements != info.placements)
    {
        return Err(LoadError::new(
            file,
            LoadKind::Package,
            "its signed manifest's hosts, secrets, config keys or placements differ from what the component asks for in its info(): refused",
        ));
    }
    let Some(section) = settings.connectors.get(&info.name) else {
        return Ok(());
    };
    if section.publishers.is_empty() {
        return Ok(());
    }
    match package {
        None => Err(LoadError::new(
            file,
            LoadKind::Refused,
            format!(
                "is not a signed package, and [connectors.{}] in payhost.toml takes only packages signed by {}: ask the publisher for the package (`payhost plugins package`)",
                info.name,
                section.publishers.join(" or ")
            ),
        )),
        Some(p) if !section.publishers.contains(&p.publisher) => Err(LoadError::new(
            file,
            LoadKind::Refused,
            format!(
                "is signed by {}, not by a publisher [connectors.{}] in payhost.toml names ({}): refused",
                p.publisher,
                info.name,
                section.publishers.join(", ")
            ),
        )),
        Some(_) => Ok(()),
    }
}

/// A section pinned to a file's SHA-256 or to a file name is only for
/// that file.
pub(super) fn check_pin(
    file: &Path,
    settings: &Settings,
    info: &ConnectorInfo,
    sha256: &str,
) -> Result<(), LoadError> {
    if let Some(section) = settings.connectors.get(&info.name) {
        let file_name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Some(pin) = &section.sha256
            && *pin != sha256
        {
            return Err(LoadError::new(
                file,
                LoadKind::Refused,
                format!(
                    "declares `{}`, but [connectors.{}] in payhost.toml is pinned to sha256 = \"{pin}\" and this file's is {sha256}: it does not get that section. Remove the file, or update the pin if it is the new version",
                    info.name, info.name
                ),
            ));
        }
        if let Some(pin) = &section.file
            && *pin != file_name
        {
            return Err(LoadError::new(
                file,
                LoadKind::Refused,
                format!(
                    "declares `{}`, but [connectors.{}] in payhost.toml is for the file {pin}: it does not get that section",
                    info.name, info.name
                ),
            ));
        }
    }
    Ok(())
}

/// The version is not older than `min_contract` in the connector's section.
pub(super) fn check_section_min_contract(
    file: &Path,
    settings: &Settings,
    info: &ConnectorInfo,
    version: ContractVersion,
) -> Result<(), LoadError> {
    if let Some(min) = settings
        .connectors
        .get(&info.name)
        .and_then(|section| section.min_contract)
        && version < min
    {
        return Err(LoadError::new(
            file,
            LoadKind::Contract,
            format!(
                "is built for contract {}@{}, older than min_contract = \"{min}\" in [connectors.{}] of payhost.toml; rebuild the connector against the host's wit/ or lower min_contract",
                contract::CONTRACT_PACKAGE,
                version.as_str(),
                info.name
            ),
        ));
    }
    Ok(())
}
