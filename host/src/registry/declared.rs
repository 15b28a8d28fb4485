//! Asking a connector who it is, in a sandbox with nothing granted, and
//! checking that what its `info()` declares is well-formed: its name,
//! version and supplier, bounded lists, valid keys, origins and placements.

use super::info::{ConnectorInfo, LoadError, LoadKind};
use crate::capabilities::http::scrub::Scrubber;
use crate::contract::placement::PlacementSpec;
use crate::contract::types as wit;
use crate::engine::Runtime;
use crate::engine::call::{Pre, Sandbox};
use crate::payments::mask::Masker;
use crate::payments::model::MethodKind;
use crate::policy::allowlist::OriginPattern;
use crate::policy::limits::Limits;
use crate::policy::placement::{Pins, Placement};
use crate::policy::secrets::SecretStore;
use crate::policy::settings::{Settings, host_keys};
use payhost_rules::name;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// What the connector linked as `pre` answers to `info()` in a sandbox
/// with nothing granted (no origin, secret or config, no outgoing request),
/// and whether it can `query` (see [`can_query`]); `pre` is given back for
/// the sandbox it is granted.
pub(super) async fn ask_info(
    rt: &Runtime,
    settings: &Settings,
    file: &Path,
    pre: Pre,
) -> Result<(Pre, wit::ConnectorInfo, bool), LoadError> {
    let bootstrap = Sandbox {
        imports_wasi: pre.imports_wasi(),
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
        pinned_clock: Arc::default(),
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
    let queries = can_query(rt, &bootstrap).await;
    Ok((bootstrap.pre, info, queries))
}

/// The longest the `query` probe may take.
const PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Whether the connector can ask its supplier where a payment stands: its
/// `query` is called once, for an empty order id, in `sandbox` (nothing
/// granted, no request can leave). A connector whose supplier has no status
/// call answers `unsupported` at once, as the contract asks; any other
/// answer (an invalid request, a refused request) says it would try.
async fn can_query(rt: &Runtime, sandbox: &Sandbox) -> bool {
    let probe = Sandbox {
        limits: Limits {
            timeout: sandbox.limits.timeout.min(PROBE_TIMEOUT),
            ..sandbox.limits
        },
        ..sandbox.clone()
    };
    let call = probe.query(rt, "", Masker::default()).await;
    !matches!(call.answer, Ok(Err(e)) if e.kind == wit::ErrorKind::Unsupported)
}

/// The most entries any list in `info()` may have.
const MAX_DECLARED: usize = 64;

/// What `info()` declared, checked well-formed.
pub(super) fn check_info(
    file: &Path,
    info: wit::ConnectorInfo,
) -> Result<ConnectorInfo, LoadError> {
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
