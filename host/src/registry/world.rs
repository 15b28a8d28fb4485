//! The component's world: the contract version whose `connector` interface
//! it exports, that it imports nothing the host does not link and no other
//! contract version, and whether `[host]` accepts that version.

use super::info::{LoadError, LoadKind};
use crate::contract::{self, ContractVersion};
use crate::policy::settings::Settings;
use std::path::Path;
use wasmtime::component::types::ComponentItem;

/// The contract version whose `connector` interface it exports.
pub(super) fn check_exports(
    file: &Path,
    component: &wasmtime::component::Component,
) -> Result<ContractVersion, LoadError> {
    let ty = component.component_type();
    let exports: Vec<String> = ty
        .exports(component.engine())
        .filter(|(_, item)| matches!(item.ty, ComponentItem::ComponentInstance(_)))
        .map(|(name, _)| name.to_owned())
        .collect();
    let prefix = format!("{}/connector@", contract::CONTRACT_PACKAGE);
    match exports.iter().find(|name| name.starts_with(&prefix)) {
        Some(name) => {
            let version = &name[prefix.len()..];
            let supported = semver::Version::parse(version)
                .ok()
                .and_then(|v| ContractVersion::from_minor(v.major, v.minor));
            if let Some(supported) = supported {
                Ok(supported)
            } else {
                Err(LoadError::new(
                    file,
                    LoadKind::Contract,
                    format!(
                        "is built for contract {}@{version}; this host runs {}@{} (0.3.x, and the frozen 0.2.x and 0.1.x). Rebuild the connector against the host's wit/ or upgrade the host",
                        contract::CONTRACT_PACKAGE,
                        contract::CONTRACT_PACKAGE,
                        contract::CONTRACT_VERSION
                    ),
                ))
            }
        }
        None => Err(LoadError::new(
            file,
            LoadKind::Contract,
            format!(
                "does not export {}: it is not a payment connector (it exports: {}). Implement the payment-connector world from wit/",
                contract::CONNECTOR_EXPORT,
                if exports.is_empty() {
                    "nothing".to_owned()
                } else {
                    exports.join(", ")
                }
            ),
        )),
    }
}

/// It imports only the WASI interfaces the host links and its own
/// contract version.
pub(super) fn check_imports(
    file: &Path,
    component: &wasmtime::component::Component,
    version: ContractVersion,
) -> Result<(), LoadError> {
    let prefix = format!("{}/", contract::CONTRACT_PACKAGE);
    for (name, _) in component.component_type().imports(component.engine()) {
        if name.starts_with("wasi:") {
            let unversioned = name.split('@').next().unwrap_or(name);
            if !LINKED_WASI.contains(&unversioned) {
                return Err(LoadError::new(
                    file,
                    LoadKind::Contract,
                    format!(
                        "imports {name}, which this host does not link. {}",
                        linked_text()
                    ),
                ));
            }
            continue;
        }
        let Some(interface) = name.strip_prefix(&prefix) else {
            continue;
        };
        let imported = interface
            .split_once('@')
            .and_then(|(_, v)| semver::Version::parse(v).ok())
            .and_then(|v| ContractVersion::from_minor(v.major, v.minor));
        if imported != Some(version) {
            return Err(LoadError::new(
                file,
                LoadKind::Contract,
                format!(
                    "exports the connector of contract {}@{} but imports {name}; a connector imports only its own contract version. Rebuild it against one wit/",
                    contract::CONTRACT_PACKAGE,
                    version.as_str()
                ),
            ));
        }
    }
    Ok(())
}

/// The version is not older than `min_contract` in `[host]`.
pub(super) fn check_host_min_contract(
    file: &Path,
    settings: &Settings,
    version: ContractVersion,
) -> Result<(), LoadError> {
    if let Some(min) = settings.host.min_contract
        && version < min
    {
        return Err(LoadError::new(
            file,
            LoadKind::Contract,
            format!(
                "is built for contract {}@{}, older than min_contract = \"{min}\" in [host] of payhost.toml; rebuild the connector against the host's wit/ or lower min_contract",
                contract::CONTRACT_PACKAGE,
                version.as_str()
            ),
        ));
    }
    Ok(())
}

/// Warns about a connector built for a frozen contract version.
pub(super) fn warn_legacy(name: &str, version: ContractVersion) {
    if let Some(note) = version.legacy_note() {
        tracing::warn!(
            connector = %name,
            "built for contract {}@{} ({note}); rebuild it against {}@{}, or refuse such connectors with min_contract = \"0.3\"",
            contract::CONTRACT_PACKAGE,
            version.as_str(),
            contract::CONTRACT_PACKAGE,
            contract::CONTRACT_VERSION
        );
    }
}

/// A connector imports the contract of the version it exports and no other:
/// the linker serves both versions, and a 0.2.0 connector that imported
/// 0.1.0's crypto would get bytes where its own contract seals them.
/// The WASI 0.2 interfaces the host links, each confined: no directories,
/// no network, no environment, no stdin; stdout and stderr go to the log.
const LINKED_WASI: [&str; 27] = [
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:clocks/monotonic-clock",
    "wasi:clocks/wall-clock",
    "wasi:filesystem/types",
    "wasi:filesystem/preopens",
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
    "wasi:random/random",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
    "wasi:sockets/network",
    "wasi:sockets/instance-network",
    "wasi:sockets/tcp",
    "wasi:sockets/tcp-create-socket",
    "wasi:sockets/udp",
    "wasi:sockets/udp-create-socket",
    "wasi:sockets/ip-name-lookup",
];

/// What a connector may import, for a refusal.
pub(super) fn linked_text() -> String {
    format!(
        "A connector may import payhost:connector (0.3.x, or the frozen 0.2.x and 0.1.x) and these WASI 0.2 interfaces, each confined (no directories, no network, no environment): {}. HTTP goes through payhost:connector/http, never wasi:http: build a JavaScript connector with componentize-qjs `--stub-wasi --sync` (see plugins/examples/atlas-js/README.md)",
        LINKED_WASI.join(", ")
    )
}
