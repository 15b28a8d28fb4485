//! One loaded connector: its component, checked and ready to instantiate,
//! what it declared, and what the operator granted it.
//!
//! Loading checks, in order, that the file is a WebAssembly component (not
//! a core module, not a precompiled artifact), that it exports this
//! contract's `connector` interface, that it imports nothing the host does
//! not provide, that `info()` answers within its limits, and that what it
//! declares is well-formed and agrees with the operator's section.

use crate::allowlist::OriginPattern;
use crate::bindings::{self, PaymentConnectorPre, types as wit};
use crate::cache::CacheOutcome;
use crate::grant::{Grant, grant};
use crate::limits::Limits;
use crate::mask::Masker;
use crate::outcome::{masker_for, sanitize};
use crate::payment::{
    ConnectorError, ErrorKind, MethodKind, PaymentOutcome, PaymentRequest, PaymentState,
};
use crate::runtime::Runtime;
use crate::sandbox::{Answer, Failure, Op, Sandbox};
use crate::secrets::SecretStore;
use crate::settings::{HOST_KEYS, Settings};
use crate::state::Fault;
use serde::Serialize;
use sha2::Digest;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use wasmtime::component::types::ComponentItem;

/// What a connector declares about itself in `info()`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectorInfo {
    /// Its name, and the name of its section in `payhost.toml`.
    pub name: String,
    /// Its version (semver).
    pub version: String,
    /// The supplier it talks to.
    pub supplier: String,
    /// The payment methods it implements.
    pub methods: Vec<MethodKind>,
    /// The secrets it references.
    pub secrets: Vec<String>,
    /// The config keys it reads.
    pub config_keys: Vec<String>,
    /// The origins it expects to call.
    pub hosts: Vec<String>,
}

/// Why a connector file could not be loaded. Every message names the file.
#[derive(Debug, thiserror::Error)]
#[error("{}: {reason}", file.display())]
pub struct LoadError {
    /// The file.
    pub file: PathBuf,
    /// What is wrong and what to do.
    pub reason: String,
}

impl LoadError {
    pub(crate) fn new(file: &Path, reason: impl Into<String>) -> Self {
        LoadError {
            file: file.to_owned(),
            reason: reason.into(),
        }
    }
}

/// A loaded connector.
pub struct Connector {
    /// What it declared.
    pub info: ConnectorInfo,
    /// What it was granted.
    pub grant: Grant,
    /// Its limits per call.
    pub limits: Limits,
    /// The file it was loaded from.
    pub file: PathBuf,
    /// The SHA-256 of that file, hex.
    pub sha256: String,
    /// When it was loaded.
    pub loaded_at: SystemTime,
    /// Whether its compiled code came from the cache.
    pub cache: CacheOutcome,
    /// How long loading took.
    pub load_time: Duration,
    sandbox: Sandbox,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("info", &self.info)
            .field("grant", &self.grant)
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

impl Connector {
    /// Loads, checks and grants the connector in `file`.
    pub async fn load(
        rt: &Runtime,
        settings: &Settings,
        file: &Path,
    ) -> Result<Connector, LoadError> {
        let started = Instant::now();
        let bytes = tokio::fs::read(file)
            .await
            .map_err(|e| LoadError::new(file, format!("cannot read the file: {e}")))?;
        check_header(file, &bytes)?;
        let sha256 = hex::encode(sha2::Sha256::digest(&bytes));
        let engine = rt.engine.clone();
        let cache = rt.cache.clone();
        let key = sha256.clone();
        let (component, cache) =
            tokio::task::spawn_blocking(move || cache.load_or_compile(&engine, &bytes, &key))
                .await
                .map_err(|e| LoadError::new(file, format!("compilation stopped: {e}")))?
                .map_err(|e| {
                    LoadError::new(file, format!("is not a valid WebAssembly component: {e:#}"))
                })?;
        check_exports(rt, file, &component)?;
        let pre = rt.linker.instantiate_pre(&component).map_err(|e| {
            LoadError::new(
                file,
                format!("needs an import this host does not provide ({e:#}); a connector may import only payhost:connector@0.1.x and the WASI interfaces Rust's std uses"),
            )
        })?;
        let pre = PaymentConnectorPre::new(pre).map_err(|e| {
            LoadError::new(
                file,
                format!("does not match the payment-connector world: {e:#}"),
            )
        })?;

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
        };
        let call = bootstrap.call(rt, Op::Info, Masker::default()).await;
        let info = match call.answer {
            Ok(Answer::Info(info)) => info,
            Ok(_) => unreachable!("info() answers with info"),
            Err(failure) => {
                return Err(LoadError::new(
                    file,
                    format!(
                        "its info() {}",
                        failure.fault.map_or(failure.message, |f| f.to_string())
                    ),
                ));
            }
        };
        let info = check_info(file, info)?;
        let section = settings.connectors.get(&info.name);
        let (grant, hosts, secrets, config) = grant(file, settings, &info, section)?;
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
            },
            info,
            grant,
            limits,
            file: file.to_owned(),
            sha256,
            loaded_at: SystemTime::now(),
            cache,
            load_time: started.elapsed(),
        })
    }

    /// The connector's name.
    pub fn name(&self) -> &str {
        &self.info.name
    }

    /// Runs one payment in a fresh instance. The request must be validated.
    ///
    /// Never fails: a connector that traps or exceeds a limit gives a
    /// `failed` outcome if no request left the sandbox, `unknown` if one may
    /// have reached the supplier.
    pub async fn pay(&self, rt: &Runtime, request: &PaymentRequest) -> PaymentOutcome {
        let masker = masker_for(request);
        let call = self
            .sandbox
            .call(rt, Op::Pay(Box::new(request.into())), masker.clone())
            .await;
        match call.answer {
            Ok(Answer::Pay(outcome)) => sanitize(outcome.into(), &masker, &self.info.name),
            Ok(_) => unreachable!("pay() answers with an outcome"),
            Err(failure) => self.failed_call(failure, call.sent),
        }
    }

    /// Asks the supplier where an order's payment stands, in a fresh instance.
    pub async fn query(
        &self,
        rt: &Runtime,
        order_id: &str,
    ) -> Result<PaymentOutcome, ConnectorError> {
        let masker = Masker::default();
        let call = self
            .sandbox
            .call(rt, Op::Query(order_id.to_owned()), masker.clone())
            .await;
        match call.answer {
            Ok(Answer::Query(Ok(outcome))) => {
                Ok(sanitize(outcome.into(), &masker, &self.info.name))
            }
            Ok(Answer::Query(Err(error))) => {
                let mut error: ConnectorError = error.into();
                error.message = masker.mask(&error.message).into_owned();
                Err(error)
            }
            Ok(_) => unreachable!("query() answers with an outcome"),
            Err(failure) => Err(self
                .failed_call(failure, call.sent)
                .error
                .unwrap_or_else(|| {
                    ConnectorError::host(ErrorKind::ConnectorFault, "the connector failed")
                })),
        }
    }

    fn failed_call(&self, failure: Failure, sent: u32) -> PaymentOutcome {
        let name = &self.info.name;
        let (kind, what) = match failure.fault {
            Some(Fault::Timeout(_)) => (
                ErrorKind::Timeout,
                failure.fault.map(|f| f.to_string()).unwrap_or_default(),
            ),
            Some(fault) => (ErrorKind::ConnectorFault, fault.to_string()),
            None => (ErrorKind::ConnectorFault, failure.message),
        };
        tracing::warn!(connector = %name, "call {what}");
        let (state, tail) = if sent > 0 {
            (
                PaymentState::Unknown,
                format!(
                    "after {sent} request(s) left it: the payment may have reached the supplier; query it or resolve it by hand, do not retry blindly"
                ),
            )
        } else {
            (
                PaymentState::Failed,
                "before any request left it: nothing was sent".to_owned(),
            )
        };
        PaymentOutcome::host(
            state,
            ConnectorError::host(kind, format!("connector `{name}` {what}, {tail}")),
        )
    }
}

fn check_header(file: &Path, bytes: &[u8]) -> Result<(), LoadError> {
    if wasmtime::Engine::detect_precompiled(bytes).is_some() {
        return Err(LoadError::new(
            file,
            "is a precompiled native artifact; payhost only runs components it compiles itself. Ship the .wasm component instead",
        ));
    }
    match bytes.get(..8) {
        Some([0, b'a', b's', b'm', 0x0d, 0x00, 0x01, 0x00]) => Ok(()),
        Some([0, b'a', b's', b'm', 0x01, 0x00, 0x00, 0x00]) => Err(LoadError::new(
            file,
            "is a core WebAssembly module, not a component: build the connector with `cargo build --release --target wasm32-wasip2`",
        )),
        _ => Err(LoadError::new(
            file,
            "is not a WebAssembly component (it does not start with the `\\0asm` header): ship the .wasm that `cargo build --target wasm32-wasip2` writes",
        )),
    }
}

fn check_exports(
    rt: &Runtime,
    file: &Path,
    component: &wasmtime::component::Component,
) -> Result<(), LoadError> {
    let ty = component.component_type();
    let exports: Vec<String> = ty
        .exports(&rt.engine)
        .filter(|(_, item)| matches!(item.ty, ComponentItem::ComponentInstance(_)))
        .map(|(name, _)| name.to_owned())
        .collect();
    let prefix = format!("{}/connector@", bindings::CONTRACT_PACKAGE);
    match exports.iter().find(|name| name.starts_with(&prefix)) {
        Some(name) => {
            let version = &name[prefix.len()..];
            let supported =
                semver::Version::parse(version).is_ok_and(|v| v.major == 0 && v.minor == 1);
            if supported {
                Ok(())
            } else {
                Err(LoadError::new(
                    file,
                    format!(
                        "is built for contract {}@{version}; this host runs {}@{} (0.1.x). Rebuild the connector against the host's wit/ or upgrade the host",
                        bindings::CONTRACT_PACKAGE,
                        bindings::CONTRACT_PACKAGE,
                        bindings::CONTRACT_VERSION
                    ),
                ))
            }
        }
        None => Err(LoadError::new(
            file,
            format!(
                "does not export {}: it is not a payment connector (it exports: {}). Implement the payment-connector world from wit/",
                bindings::CONNECTOR_EXPORT,
                if exports.is_empty() {
                    "nothing".to_owned()
                } else {
                    exports.join(", ")
                }
            ),
        )),
    }
}

fn valid_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn valid_key(key: &str) -> bool {
    (1..=64).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// The most entries any list in `info()` may have.
const MAX_DECLARED: usize = 64;

fn check_info(file: &Path, info: wit::ConnectorInfo) -> Result<ConnectorInfo, LoadError> {
    let bad = |what: String| LoadError::new(file, format!("its info() is invalid: {what}"));
    if !valid_name(&info.name) {
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
    ] {
        if list > MAX_DECLARED {
            return Err(bad(format!(
                "{what} lists {list} entries; at most {MAX_DECLARED}"
            )));
        }
    }
    for key in info.secrets.iter().chain(&info.config_keys) {
        if !valid_key(key) {
            return Err(bad(format!(
                "`{}` is not a valid secret or config key name (lower-case letters, digits, `_`, `-`)",
                key.escape_debug()
            )));
        }
    }
    for key in &info.config_keys {
        if HOST_KEYS.contains(&key.as_str()) {
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
    Ok(ConnectorInfo {
        name: info.name,
        version: info.version,
        supplier: info.supplier,
        methods,
        secrets: info.secrets,
        config_keys: info.config_keys,
        hosts: info.hosts,
    })
}
