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
use crate::capabilities::{config::ConfigCtx, crypto::CryptoCtx, http::HttpCtx, log::LogCtx};
use crate::limits::Limits;
use crate::mask::Masker;
use crate::payment::{
    ConnectorError, ErrorKind, MethodKind, PaymentOutcome, PaymentRequest, PaymentState,
};
use crate::runtime::Runtime;
use crate::secrets::SecretStore;
use crate::settings::{ConnectorSettings, HOST_KEYS, Settings, unknown_key};
use crate::state::{CallState, Fault};
use serde::Serialize;
use sha2::Digest;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use wasmtime::component::types::ComponentItem;
use wasmtime_wasi::WasiCtx;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

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

/// What the operator granted: what the connector asked for, intersected
/// with what its section in `payhost.toml` allows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
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
    fn new(file: &Path, reason: impl Into<String>) -> Self {
        LoadError {
            file: file.to_owned(),
            reason: reason.into(),
        }
    }
}

/// Everything a call into one connector's sandbox needs.
#[derive(Clone)]
struct Sandbox {
    pre: PaymentConnectorPre<CallState>,
    name: Arc<str>,
    hosts: Arc<[OriginPattern]>,
    secrets: Arc<SecretStore>,
    config: Arc<BTreeMap<String, String>>,
    limits: Limits,
}

/// What a call into a connector can ask.
enum Op {
    Info,
    Pay(Box<wit::PaymentRequest>),
    Query(String),
}

/// What it answered.
enum Answer {
    Info(wit::ConnectorInfo),
    Pay(wit::PaymentOutcome),
    Query(Result<wit::PaymentOutcome, wit::ConnectorError>),
}

/// How a call ended when it did not answer.
struct Failure {
    fault: Option<Fault>,
    message: String,
}

struct Call {
    answer: Result<Answer, Failure>,
    /// Requests that may have reached a server.
    sent: u32,
}

/// The most standard output or error a call may write before it is cut.
const STDIO_CAPACITY: usize = 64 * 1024;

impl Sandbox {
    async fn call(&self, rt: &Runtime, op: Op, masker: Masker) -> Call {
        let stdout = MemoryOutputPipe::new(STDIO_CAPACITY);
        let stderr = MemoryOutputPipe::new(STDIO_CAPACITY);
        let wasi = WasiCtx::builder()
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .socket_addr_check(|_, _| Box::pin(async { false }))
            .wall_clock(crate::clocks::CoarseWall)
            .monotonic_clock(crate::clocks::CoarseMonotonic::new())
            .build();
        let started = Instant::now();
        let state = CallState::new(
            wasi,
            HttpCtx {
                client: rt.client.clone(),
                grant: self.hosts.clone(),
                secrets: self.secrets.clone(),
                connector: self.name.clone(),
                max_requests: self.limits.max_requests,
                max_response_size: self.limits.max_response_size,
                // HTTP gives up a little before the call does, so the connector
                // still runs to turn a timeout into its own outcome.
                deadline: started + self.limits.timeout
                    - (self.limits.timeout / 10).min(Duration::from_millis(500)),
                sent: 0,
                attempted: 0,
                io_time: Duration::ZERO,
            },
            CryptoCtx {
                secrets: self.secrets.clone(),
            },
            ConfigCtx {
                values: self.config.clone(),
            },
            LogCtx::new(self.name.clone(), masker, self.limits.max_log_lines),
            self.limits,
        );
        let mut store = rt.store(state);
        let run = async {
            let instance = self.pre.instantiate_async(&mut store).await?;
            let connector = instance.payhost_connector_connector();
            Ok::<_, wasmtime::Error>(match op {
                Op::Info => Answer::Info(connector.call_info(&mut store).await?),
                Op::Pay(request) => Answer::Pay(connector.call_pay(&mut store, &request).await?),
                Op::Query(order) => Answer::Query(connector.call_query(&mut store, &order).await?),
            })
        };
        let result = tokio::time::timeout(self.limits.timeout, run).await;
        let state = store.data_mut();
        let answer = match result {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(error)) => Err(Failure {
                fault: state.fault(),
                message: trap_message(&error),
            }),
            Err(_) => {
                let fault = Fault::Timeout(self.limits.timeout);
                Err(Failure {
                    fault: Some(fault),
                    message: fault.to_string(),
                })
            }
        };
        let mut answer = answer;
        for (stream, pipe) in [("stdout", &stdout), ("stderr", &stderr)] {
            let contents = pipe.contents();
            let text = String::from_utf8_lossy(&contents);
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                state
                    .log
                    .write(bindings::log::Level::Info, stream, line, &[]);
            }
            // A Rust panic explains the trap that follows it.
            if let (Err(failure), Some(panic)) = (&mut answer, panic_message(&text)) {
                failure.message =
                    format!("{} ({})", failure.message, state.log.masker.mask(&panic));
            }
        }
        state.log.finish();
        Call {
            answer,
            sent: state.http.sent,
        }
    }
}

/// What a trap says, without the backtrace.
fn trap_message(error: &wasmtime::Error) -> String {
    match error.downcast_ref::<wasmtime::Trap>() {
        Some(trap) => format!("trapped: {trap}"),
        None => format!("failed: {error}"),
    }
}

/// The last panic a Rust guest printed: where, and its message.
fn panic_message(stderr: &str) -> Option<String> {
    let mut lines = stderr.lines();
    let mut found = None;
    while let Some(line) = lines.next() {
        if let Some(pos) = line.find("panicked at ") {
            let place = line[pos + "panicked at ".len()..].trim_end_matches(':');
            let message = lines.next().unwrap_or_default().trim();
            found = Some(format!("panicked at {place}: {message}"));
        }
    }
    found
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

/// Knows the request's card data, to mask it in whatever comes back.
fn masker_for(request: &PaymentRequest) -> Masker {
    match request.method.card() {
        Some(card) => Masker::new(
            vec![card.number.clone()],
            card.cvv.iter().cloned().collect(),
        ),
        None => Masker::default(),
    }
}

/// The most text an outcome may carry, in all its fields together.
const MAX_OUTCOME_BYTES: usize = 64 * 1024;
/// The most details an outcome may carry.
const MAX_DETAILS: usize = 256;

/// Masks card data in everything a connector returned, and refuses an
/// outcome that is too large or contradicts itself.
fn sanitize(mut outcome: PaymentOutcome, masker: &Masker, name: &str) -> PaymentOutcome {
    let size: usize = [
        &outcome.supplier_reference,
        &outcome.supplier_code,
        &outcome.supplier_message,
    ]
    .into_iter()
    .flatten()
    .map(String::len)
    .chain(outcome.error.iter().map(|e| e.message.len()))
    .chain(outcome.details.iter().map(|(k, v)| k.len() + v.len()))
    .sum();
    if size > MAX_OUTCOME_BYTES || outcome.details.len() > MAX_DETAILS {
        tracing::warn!(
            connector = name,
            "returned an outcome of {size} bytes in {} details; refused",
            outcome.details.len()
        );
        return PaymentOutcome::host(
            PaymentState::Unknown,
            ConnectorError::host(
                ErrorKind::ConnectorFault,
                format!(
                    "connector `{name}` returned an outcome of {size} bytes and {} details (the limits are {MAX_OUTCOME_BYTES} bytes and {MAX_DETAILS} details); the payment's state is unknown",
                    outcome.details.len()
                ),
            ),
        );
    }
    let mask = |s: &mut String| *s = masker.mask(s).into_owned();
    for field in [
        &mut outcome.supplier_reference,
        &mut outcome.supplier_code,
        &mut outcome.supplier_message,
    ]
    .into_iter()
    .flatten()
    {
        mask(field);
    }
    if let Some(error) = &mut outcome.error {
        mask(&mut error.message);
        if let Some(code) = &mut error.supplier_code {
            mask(code);
        }
    }
    for (k, v) in &mut outcome.details {
        mask(k);
        mask(v);
    }
    let charged_ok = outcome
        .charged
        .as_ref()
        .is_none_or(|m| crate::payment::Money::parse(&m.amount, &m.currency).is_ok());
    let contradiction = match (outcome.state, &outcome.error) {
        (PaymentState::Succeeded | PaymentState::Pending, Some(_)) => {
            Some("reported success together with an error")
        }
        (PaymentState::Failed | PaymentState::Unknown, None) => {
            Some("reported a failure without an error")
        }
        _ if !charged_ok => {
            Some("reported a charged amount that is not a plain decimal with a currency code")
        }
        _ => None,
    };
    if let Some(what) = contradiction {
        // Conservative: the connector cannot be believed either way.
        outcome.state = PaymentState::Unknown;
        outcome.error = Some(ConnectorError::host(
            ErrorKind::ConnectorFault,
            format!("connector `{name}` {what}; the payment's state is unknown"),
        ));
    }
    outcome
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

type Granted = (
    Grant,
    Vec<OriginPattern>,
    SecretStore,
    BTreeMap<String, String>,
);

fn grant(
    file: &Path,
    settings: &Settings,
    info: &ConnectorInfo,
    section: Option<&ConnectorSettings>,
) -> Result<Granted, LoadError> {
    let empty = ConnectorSettings::default();
    let section_ref = section.unwrap_or(&empty);
    let name = &info.name;
    let bad =
        |what: String| LoadError::new(file, format!("[connectors.{name}] in payhost.toml: {what}"));

    // Config: only keys the connector declares.
    let mut known: Vec<&str> = HOST_KEYS.to_vec();
    known.extend(info.config_keys.iter().map(String::as_str));
    for key in section_ref.config.keys() {
        if !info.config_keys.contains(key) {
            return Err(bad(unknown_key(key, &known)));
        }
    }

    // Hosts: what the connector asks for, resolved.
    let mut requested = Vec::new();
    let mut hosts_not_allowed = Vec::new();
    for host in &info.hosts {
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
    };
    Ok((
        grant,
        hosts,
        SecretStore::new(secrets),
        section_ref.config.clone(),
    ))
}
