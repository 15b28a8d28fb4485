//! Loading a connector file, in order: it is a WebAssembly component (not a
//! core module, not a precompiled artifact), it exports this contract's
//! `connector` interface, it imports nothing the host does not provide,
//! `info()` answers within its limits, what it declares is well-formed, and
//! its grant is what it asks for intersected with what the operator allows.

use super::connector::Connector;
use super::info::{ConnectorInfo, LoadError, LoadKind};
use crate::capabilities::http::scrub::Scrubber;
use crate::contract::placement::PlacementSpec;
use crate::contract::{self, ContractVersion, PaymentConnectorPre, legacy, types as wit, v0_2};
use crate::engine::Runtime;
use crate::engine::call::{Pre, Sandbox};
use crate::payments::mask::Masker;
use crate::payments::model::MethodKind;
use crate::policy::allowlist::OriginPattern;
use crate::policy::grant::{Asked, grant};
use crate::policy::limits::Limits;
use crate::policy::placement::{Pins, Placement};
use crate::policy::secrets::SecretStore;
use crate::policy::settings::{Settings, host_keys};
use payhost_rules::name;
use sha2::Digest;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Instant, SystemTime};
use wasmtime::component::types::ComponentItem;

/// The largest connector file the host compiles (a JavaScript connector with
/// its engine is about 13 MB).
pub(crate) const MAX_COMPONENT_SIZE: u64 = 64 << 20;

/// Loads, checks and grants the connector in `file`.
pub(crate) async fn load(
    rt: &Runtime,
    settings: &Settings,
    file: &Path,
) -> Result<Connector, LoadError> {
    let started = Instant::now();
    let size = tokio::fs::metadata(file)
        .await
        .map_err(|e| LoadError::new(file, LoadKind::File, format!("cannot read the file: {e}")))?
        .len();
    if size > MAX_COMPONENT_SIZE {
        return Err(LoadError::new(
            file,
            LoadKind::File,
            format!(
                "is {size} bytes; a connector may be at most {MAX_COMPONENT_SIZE} bytes (compiling is not bounded in time, so its input is bounded in size)"
            ),
        ));
    }
    let bytes = tokio::fs::read(file)
        .await
        .map_err(|e| LoadError::new(file, LoadKind::File, format!("cannot read the file: {e}")))?;
    if bytes.len() as u64 > MAX_COMPONENT_SIZE {
        return Err(LoadError::new(
            file,
            LoadKind::File,
            "grew past the size limit while it was read",
        ));
    }
    check_header(file, &bytes)?;
    // A signed package is checked whoever loads it: one whose signature or
    // digest does not hold is refused even where nobody asks for one.
    let package = crate::package::open(&bytes)
        .map_err(|e| LoadError::new(file, LoadKind::Package, e.to_string()))?;
    let sha256 = hex::encode(sha2::Sha256::digest(&bytes));
    let engine = rt.engine.clone();
    let cache = rt.cache.clone();
    let key = sha256.clone();
    let limit = settings.host.compile_timeout;
    let compiling =
        tokio::task::spawn_blocking(move || cache.load_or_compile(&engine, &bytes, &key));
    let (component, cache) = tokio::time::timeout(limit, compiling)
        .await
        .map_err(|_| {
            // The compiler cannot be interrupted: it finishes on its blocking
            // thread and what it makes is dropped.
            LoadError::new(
                file,
                LoadKind::NotAComponent,
                format!(
                    "took longer than compile_timeout = \"{}\" to compile and is refused; a connector this large or this complex is not accepted (raise compile_timeout in [host] if the file is trusted)",
                    humantime::format_duration(limit)
                ),
            )
        })?
        .map_err(|e| LoadError::new(file, LoadKind::NotAComponent, format!("compilation stopped: {e}")))?
        .map_err(|e| {
            LoadError::new(file, LoadKind::NotAComponent, format!("is not a valid WebAssembly component: {e:#}"))
        })?;
    let version = check_exports(rt, file, &component)?;
    check_imports(rt, file, &component, version)?;
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
    let linked = rt.linker.instantiate_pre(&component).map_err(|e| {
        LoadError::new(
            file,
            LoadKind::Contract,
            format!(
                "needs an import this host does not provide ({e:#}); {}",
                linked_text()
            ),
        )
    })?;
    let mismatch = |e: wasmtime::Error| {
        LoadError::new(
            file,
            LoadKind::Contract,
            format!("does not match the payment-connector world: {e:#}"),
        )
    };
    let pre = match version {
        ContractVersion::V0_3 => Pre::Current(PaymentConnectorPre::new(linked).map_err(mismatch)?),
        ContractVersion::V0_2 => Pre::V0_2(v0_2::ConnectorPre::new(linked).map_err(mismatch)?),
        ContractVersion::V0_1 => {
            Pre::Legacy(legacy::PaymentConnectorPre::new(linked).map_err(mismatch)?)
        }
    };

    // Ask it who it is, with nothing granted.
    let bootstrap = Sandbox {
        pre,
        name: Arc::from(
            file.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        ),
        hosts: Arc::from(Vec::new()),
        secrets: Arc::new(SecretStore::default()),
        config: Arc::new(BTreeMap::new()),
        limits: Limits {
            max_requests: 0,
            ..settings.limits.apply(Limits::default())
        },
        pins: Arc::new(Pins::default()),
        secret_scrub: Arc::new(Scrubber::new(&[])),
    };
    let call = bootstrap.info(rt, Masker::default()).await;
    let info = match call.answer {
        Ok(info) => info,
        Err(failure) => {
            return Err(LoadError::new(
                file,
                LoadKind::Info,
                format!(
                    "its info() {}",
                    failure.fault.map_or(failure.message, |f| f.to_string())
                ),
            ));
        }
    };
    let info = check_info(file, info)?;
    check_package(file, settings, &info, package.as_ref())?;
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
    if let Some(note) = version.legacy_note() {
        tracing::warn!(
            connector = %info.name,
            "built for contract {}@{} ({note}); rebuild it against {}@{}, or refuse such connectors with min_contract = \"0.3\"",
            contract::CONTRACT_PACKAGE,
            version.as_str(),
            contract::CONTRACT_PACKAGE,
            contract::CONTRACT_VERSION
        );
    }
    let asked = Asked {
        name: &info.name,
        hosts: &info.hosts,
        secrets: &info.secrets,
        config_keys: &info.config_keys,
        placements: (version >= ContractVersion::V0_3).then_some(info.placements.as_slice()),
    };
    let (grant, hosts, secrets, config, pins) = grant(settings, &asked)
        .map_err(|e| LoadError::new(file, LoadKind::Refused, e.to_string()))?;
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
    let secret_scrub = Arc::new(Scrubber::new(&secrets.hidden_values()));
    let limits = settings.limits_for(&info.name);
    for missing in &grant.secrets_missing {
        tracing::warn!(connector = %info.name, "secret `{missing}` is not set in [connectors.{}]: calls that use it will be refused", info.name);
    }
    Ok(Connector {
        sandbox: Sandbox {
            pre: bootstrap.pre,
            name: Arc::from(info.name.as_str()),
            hosts: Arc::from(hosts),
            secrets: Arc::new(secrets),
            config: Arc::new(config),
            limits,
            pins: Arc::new(pins),
            secret_scrub,
        },
        places: Arc::new(tokio::sync::Semaphore::new(limits.max_concurrent as usize)),
        info,
        contract: version,
        grant,
        limits,
        file: file.to_owned(),
        sha256,
        package,
        loaded_at: SystemTime::now(),
        cache,
        load_time: started.elapsed(),
    })
}

fn check_header(file: &Path, bytes: &[u8]) -> Result<(), LoadError> {
    if wasmtime::Engine::detect_precompiled(bytes).is_some() {
        return Err(LoadError::new(
            file,
            LoadKind::NotAComponent,
            "is a precompiled native artifact; payhost only runs components it compiles itself. Ship the .wasm component instead",
        ));
    }
    match bytes.get(..8) {
        Some([0, b'a', b's', b'm', 0x0d, 0x00, 0x01, 0x00]) => Ok(()),
        Some([0, b'a', b's', b'm', 0x01, 0x00, 0x00, 0x00]) => Err(LoadError::new(
            file,
            LoadKind::NotAComponent,
            "is a core WebAssembly module, not a component: build the connector with `cargo build --release --target wasm32-wasip2`",
        )),
        _ => Err(LoadError::new(
            file,
            LoadKind::NotAComponent,
            "is not a WebAssembly component (it does not start with the `\\0asm` header): ship the .wasm that `cargo build --target wasm32-wasip2` writes",
        )),
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
fn linked_text() -> String {
    format!(
        "A connector may import payhost:connector (0.3.x, or the frozen 0.2.x and 0.1.x) and these WASI 0.2 interfaces, each confined (no directories, no network, no environment): {}. HTTP goes through payhost:connector/http, never wasi:http: build a JavaScript connector with componentize-js `-d stdio random clocks http fetch-event` (see plugins/examples/atlas-js/README.md)",
        LINKED_WASI.join(", ")
    )
}

fn check_imports(
    rt: &Runtime,
    file: &Path,
    component: &wasmtime::component::Component,
    version: ContractVersion,
) -> Result<(), LoadError> {
    let prefix = format!("{}/", contract::CONTRACT_PACKAGE);
    for (name, _) in component.component_type().imports(&rt.engine) {
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

fn check_exports(
    rt: &Runtime,
    file: &Path,
    component: &wasmtime::component::Component,
) -> Result<ContractVersion, LoadError> {
    let ty = component.component_type();
    let exports: Vec<String> = ty
        .exports(&rt.engine)
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

/// A package's manifest must be about this component, and a connector
/// whose section names publishers must come signed by one of them.
fn check_package(
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

/// The most entries any list in `info()` may have.
const MAX_DECLARED: usize = 64;

fn check_info(file: &Path, info: wit::ConnectorInfo) -> Result<ConnectorInfo, LoadError> {
    let bad = |what: String| {
        LoadError::new(
            file,
            LoadKind::Info,
            format!("its info() is invalid: {what}"),
        )
    };
    if !name::is_connector_name(&info.name) {
        return Err(bad(format!(
            "name `{}` must be 1 to 32 lower-case letters, digits or `-`, starting with a letter",
            info.name.escape_debug()
        )));
    }
    if semver::Version::parse(&info.version).is_err() {
        return Err(bad(format!(
            "version `{}` is not semver (like 1.2.0)",
            info.version.escape_debug()
        )));
    }
    if info.supplier.trim().is_empty() || info.supplier.len() > 100 {
        return Err(bad("supplier must be 1 to 100 characters".into()));
    }
    if info.methods.is_empty() {
        return Err(bad("it declares no payment method".into()));
    }
    for (what, list) in [
        ("methods", info.methods.len()),
        ("secrets", info.secrets.len()),
        ("config-keys", info.config_keys.len()),
        ("hosts", info.hosts.len()),
        ("placements", info.placements.len()),
    ] {
        if list > MAX_DECLARED {
            return Err(bad(format!(
                "{what} lists {list} entries; at most {MAX_DECLARED}"
            )));
        }
    }
    for key in info.secrets.iter().chain(&info.config_keys) {
        if !name::is_key_name(key) {
            return Err(bad(format!(
                "`{}` is not a valid secret or config key name (lower-case letters, digits, `_`, `-`)",
                key.escape_debug()
            )));
        }
    }
    for key in &info.config_keys {
        if host_keys().contains(&key.as_str()) {
            return Err(bad(format!(
                "config key `{key}` is one of the host's own settings"
            )));
        }
    }
    for host in &info.hosts {
        match host.strip_prefix("config:") {
            Some(key) if info.config_keys.contains(&key.to_owned()) => {}
            Some(key) => {
                return Err(bad(format!(
                    "host `config:{key}` names a config key it does not declare"
                )));
            }
            None => {
                OriginPattern::parse(host).map_err(|e| bad(format!("host {e}")))?;
            }
        }
    }
    let mut methods: Vec<MethodKind> = info.methods.into_iter().map(Into::into).collect();
    methods.sort();
    methods.dedup();
    let mut placements = Vec::with_capacity(info.placements.len());
    for (i, p) in info.placements.into_iter().enumerate() {
        let spec = PlacementSpec {
            value: p.value,
            request: p.request,
            at: p.at,
            encoding: p.encoding,
            prefix: p.prefix,
            origin: p.origin,
        };
        let placement =
            Placement::from_spec(&spec).map_err(|e| bad(format!("placement {}: {e}", i + 1)))?;
        if !placement.fits(&info.secrets) {
            return Err(bad(format!(
                "placement {} is for `{}`, which names a secret it does not declare",
                i + 1,
                spec.value.escape_debug()
            )));
        }
        placements.push(spec);
    }
    Ok(ConnectorInfo {
        name: info.name,
        version: info.version,
        supplier: info.supplier,
        methods,
        secrets: info.secrets,
        config_keys: info.config_keys,
        hosts: info.hosts,
        placements,
    })
}
