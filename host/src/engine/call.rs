//! One call into a connector: a fresh store and instance with the call's
//! limits armed, the call, and what its standard output, standard error,
//! logged panic and limits say about how it ended.

use crate::capabilities::http::scrub::{Echoes, Scrubber};
use crate::capabilities::{config::ConfigCtx, crypto::CryptoCtx, http::HttpCtx, log::LogCtx};
use crate::contract::convert::request_to_wit;
use crate::contract::hidden::Hidden;
use crate::contract::{self, exports, legacy, types as wit, v0_2};
use crate::engine::Runtime;
use crate::engine::guest_clock::GuestClock;
use crate::engine::store::{CallState, Fault};
use crate::engine::wasi::LazyWasi;
use crate::payments::journal::Fence;
use crate::payments::mask::Masker;
use crate::payments::model::PaymentRequest;
use crate::policy::allowlist::OriginPattern;
use crate::policy::limits::Limits;
use crate::policy::placement::Pins;
use crate::policy::secrets::{HiddenBudget, SecretStore};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::Store;

/// A connector's component, linked and ready to instantiate, by the
/// contract version it was built for.
#[derive(Clone)]
pub(crate) enum Pre {
    /// `payhost:connector@0.3.x`.
    Current(exports::ConnectorPre<CallState>),
    /// `payhost:connector@0.2.x`, frozen, called with the current types.
    V0_2(v0_2::ConnectorPre<CallState>),
    /// `payhost:connector@0.1.x`, frozen.
    Legacy(legacy::PaymentConnectorPre<CallState>),
}

/// Everything a call into one connector's sandbox needs.
#[derive(Clone)]
pub(crate) struct Sandbox {
    pub(crate) pre: Pre,
    pub(crate) name: Arc<str>,
    pub(crate) hosts: Arc<[OriginPattern]>,
    pub(crate) secrets: Arc<SecretStore>,
    pub(crate) config: Arc<BTreeMap<String, String>>,
    pub(crate) limits: Limits,
    /// Where each hidden value may stand in a request.
    pub(crate) pins: Arc<Pins>,
    /// The connector's secrets, ready to be scrubbed from answers.
    pub(crate) secret_scrub: Arc<Scrubber>,
    /// The Unix time (seconds) its clock is pinned to; 0 for real time.
    pub(crate) pinned_clock: Arc<std::sync::atomic::AtomicU64>,
    /// Whether its component imports WASI ([`Pre::imports_wasi`]).
    pub(crate) imports_wasi: bool,
}

/// A connector's instance, by the contract version it was built for: one
/// typed call per export, each version's conversions in one place.
enum Instance {
    /// `payhost:connector@0.3.x`.
    Current(exports::Connector),
    /// `payhost:connector@0.2.x`, frozen, called with the current types.
    V0_2(v0_2::Connector),
    /// `payhost:connector@0.1.x`, frozen.
    Legacy(legacy::PaymentConnector),
}

impl Pre {
    /// The engine its component was compiled by (the optimised or the
    /// baseline one): its stores must be of the same.
    fn engine(&self) -> &wasmtime::Engine {
        match self {
            Pre::Current(pre) => pre.engine(),
            Pre::V0_2(pre) => pre.engine(),
            Pre::Legacy(pre) => pre.engine(),
        }
    }

    /// Whether the component imports WASI (a `wasm32-wasip2` build with
    /// Rust's std): its calls are timed by a call hook on every crossing,
    /// as WASI's waits (`poll`, `block`, the blocking stream calls) are
    /// host time the capabilities' own stops do not see
    /// (`engine::guest_clock`).
    pub(crate) fn imports_wasi(&self) -> bool {
        let component = match self {
            Pre::Current(pre) => pre.component(),
            Pre::V0_2(pre) => pre.component(),
            Pre::Legacy(pre) => pre.instance_pre().component(),
        };
        component
            .component_type()
            .imports(component.engine())
            .any(|(name, _)| name.starts_with("wasi:"))
    }

    /// A fresh instance in `store`.
    async fn instantiate(&self, store: &mut Store<CallState>) -> wasmtime::Result<Instance> {
        Ok(match self {
            Pre::Current(pre) => Instance::Current(pre.instantiate_async(store).await?),
            Pre::V0_2(pre) => Instance::V0_2(pre.instantiate_async(store).await?),
            Pre::Legacy(pre) => Instance::Legacy(pre.instantiate_async(store).await?),
        })
    }
}

impl Instance {
    /// `info()`, as the current record.
    async fn info(&self, store: &mut Store<CallState>) -> wasmtime::Result<wit::ConnectorInfo> {
        match self {
            Instance::Current(i) => i.call_info(store).await,
            Instance::V0_2(i) => i.call_info(store).await,
            Instance::Legacy(i) => Ok(i
                .payhost_connector_connector()
                .call_info(store)
                .await?
                .into()),
        }
    }

    /// `pay(request)`, the request in the version's types.
    async fn pay(
        &self,
        store: &mut Store<CallState>,
        request: &PaymentRequest,
    ) -> wasmtime::Result<wit::PaymentOutcome> {
        match self {
            Instance::Current(i) => {
                let request = request_to_wit(request, &mut store.data_mut().table)?;
                i.call_pay(store, &request).await
            }
            Instance::V0_2(i) => {
                let request = request_to_wit(request, &mut store.data_mut().table)?;
                i.call_pay(store, &request).await
            }
            Instance::Legacy(i) => {
                let request = legacy::convert::request_to_legacy(request);
                Ok(i.payhost_connector_connector()
                    .call_pay(store, &request)
                    .await?
                    .into())
            }
        }
    }

    /// `query(order-id)`.
    async fn query(
        &self,
        store: &mut Store<CallState>,
        order: &str,
    ) -> wasmtime::Result<Result<wit::PaymentOutcome, wit::ConnectorError>> {
        match self {
            Instance::Current(i) => i.call_query(store, order).await,
            Instance::V0_2(i) => i.call_query(store, order).await,
            Instance::Legacy(i) => Ok(i
                .payhost_connector_connector()
                .call_query(store, order)
                .await?
                .map(Into::into)
                .map_err(Into::into)),
        }
    }
}

/// How a call ended when it did not answer.
pub(crate) struct Failure {
    pub(crate) fault: Option<Fault>,
    pub(crate) message: String,
}

/// How a call ended: the export's answer, or why there is none.
pub(crate) struct Call<T> {
    pub(crate) answer: Result<T, Failure>,
    /// Requests that may have reached a server.
    pub(crate) sent: u32,
    /// Hidden values its answers echoed, scrubbed before it read them.
    pub(crate) echoes: Echoes,
}

impl Sandbox {
    /// `info()` in a fresh instance.
    pub(crate) async fn info(&self, rt: &Runtime, masker: Masker) -> Call<wit::ConnectorInfo> {
        self.call(rt, "info", None, masker, async |i, store| {
            i.info(store).await
        })
        .await
    }

    /// `pay(request)` in a fresh instance.
    pub(crate) async fn pay(
        &self,
        rt: &Runtime,
        request: &PaymentRequest,
        masker: Masker,
        fence: Option<Fence>,
    ) -> Call<wit::PaymentOutcome> {
        self.call(
            rt,
            "pay",
            Some((request, fence)),
            masker,
            async |i, store| i.pay(store, request).await,
        )
        .await
    }

    /// `query(order)` in a fresh instance.
    pub(crate) async fn query(
        &self,
        rt: &Runtime,
        order: &str,
        masker: Masker,
    ) -> Call<Result<wit::PaymentOutcome, wit::ConnectorError>> {
        self.call(rt, "query", None, masker, async |i, store| {
            i.query(store, order).await
        })
        .await
    }

    /// One call: a fresh store and instance with the call's limits armed
    /// (`paying`: the payment whose card data is scrubbed from answers, and
    /// the fence its supplier requests pass),
    /// `export` (named `what`) called on it, and how it ended; in a span
    /// (`connector.call`) whose attributes are the connector and the export.
    async fn call<T>(
        &self,
        rt: &Runtime,
        what: &'static str,
        paying: Option<(&PaymentRequest, Option<Fence>)>,
        masker: Masker,
        export: impl AsyncFnOnce(&Instance, &mut Store<CallState>) -> wasmtime::Result<T>,
    ) -> Call<T> {
        let clock = crate::capabilities::clock::Clock {
            pinned: match self.pinned_clock.load(std::sync::atomic::Ordering::Relaxed) {
                0 => None,
                secs => Some(Duration::from_secs(secs)),
            },
        };
        let started = Instant::now();
        let wasi = LazyWasi::new(clock, started);
        let hidden = HiddenBudget::default();
        let mut state = CallState::new(
            wasi,
            HttpCtx {
                client: rt.client.clone(),
                grant: self.hosts.clone(),
                secrets: self.secrets.clone(),
                hidden: hidden.clone(),
                connector: self.name.clone(),
                max_requests: self.limits.max_requests,
                max_response_size: self.limits.max_response_size,
                // HTTP gives up a little before the call does, so the connector
                // still runs to turn a timeout into its own outcome.
                deadline: started + self.limits.timeout
                    - (self.limits.timeout / 10).min(Duration::from_millis(500)),
                sent: 0,
                attempted: 0,
                tried: 0,
                pins: self.pins.clone(),
                secret_scrub: self.secret_scrub.clone(),
                hidden_values: card_values(paying.as_ref().map(|(r, _)| *r)),
                scrubber: None,
                echoes: Echoes::default(),
                nonce: HttpCtx::fresh_nonce(),
                fence: paying.and_then(|(_, fence)| fence),
            },
            CryptoCtx::new(self.secrets.clone(), hidden, started + self.limits.timeout),
            ConfigCtx {
                values: self.config.clone(),
            },
            LogCtx::new(self.name.clone(), masker, self.limits.max_log_lines),
            clock,
            self.limits,
        );
        if self.imports_wasi {
            state.guest = GuestClock::hooked();
        }
        let mut store = rt.store(self.pre.engine(), state);
        let run = async {
            // Debug spans, never exported as traces and off below the
            // debug log level: the benchmark times a payment's phases with
            // them (section 0c).
            let instantiating = tracing::debug_span!("connector.instantiate");
            let instance =
                tracing::Instrument::instrument(self.pre.instantiate(&mut store), instantiating)
                    .await?;
            // The connector's clock runs from here (`engine::guest_clock`;
            // a hooked clock is started by its hook as the call enters).
            let hooked = store.data().guest.is_hooked();
            if !hooked {
                store.data_mut().guest.start();
            }
            let answer = export(&instance, &mut store).await;
            store.data_mut().guest.stop();
            answer
        };
        let span = tracing::info_span!("connector.call", connector = %self.name, export = what);
        let result =
            tracing::Instrument::instrument(tokio::time::timeout(self.limits.timeout, run), span)
                .await;
        let state = store.data_mut();
        let answer = match result {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(error)) => {
                // A host call that refused to start past the deadline ended
                // the call as a timeout.
                let fault = state.fault().or_else(|| {
                    (started.elapsed() >= self.limits.timeout)
                        .then_some(Fault::Timeout(self.limits.timeout))
                });
                Err(Failure {
                    message: match fault {
                        Some(fault @ Fault::Timeout(_)) => fault.to_string(),
                        _ => trap_message(&error),
                    },
                    fault,
                })
            }
            Err(_) => {
                let fault = Fault::Timeout(self.limits.timeout);
                Err(Failure {
                    fault: Some(fault),
                    message: fault.to_string(),
                })
            }
        };
        let mut answer = answer;
        let mut panic = None;
        for (stream, contents) in state.wasi.output() {
            let text = String::from_utf8_lossy(&contents);
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                state
                    .log
                    .write(contract::log::Level::Info, stream, line, &[]);
            }
            panic = panic_message(&text).or(panic);
        }
        // A Rust panic explains the trap that follows it: printed on
        // standard error, or, with none (wasm32-unknown-unknown), reported
        // by the SDK through the log.
        let panic = panic.or_else(|| state.log.panic.as_deref().and_then(panic_message));
        // Masked, and escaped as a log line is: the connector wrote it.
        if let (Err(failure), Some(panic)) = (&mut answer, panic) {
            let shown = payhost_rules::text::escape(&state.log.masker.mask(&panic)).into_owned();
            failure.message = format!("{} ({shown})", failure.message);
        }
        state.log.finish();
        tracing::debug!(
            connector = %self.name,
            cpu_us = state.guest.used().as_micros() as u64,
            host_calls = state.guest.host_calls,
            wall_us = started.elapsed().as_micros() as u64,
            "call ended"
        );
        let call = Call {
            answer,
            sent: state.http.sent,
            echoes: std::mem::take(&mut state.http.echoes),
        };
        // The instance goes back to the pool, its dirtied pages reset.
        let teardown = tracing::debug_span!("connector.teardown").entered();
        drop(store);
        drop(teardown);
        call
    }
}

/// The card data a payment carries, to be scrubbed from every answer of
/// its call whether or not the connector sent it.
fn card_values(paying: Option<&PaymentRequest>) -> Vec<(Hidden, Vec<u8>)> {
    let Some(card) = paying.and_then(|request| request.method.card()) else {
        return Vec::new();
    };
    let mut values = vec![(Hidden::CardNumber, card.number.expose().as_bytes().to_vec())];
    if let Some(cvv) = &card.cvv {
        values.push((Hidden::Cvv, cvv.expose().as_bytes().to_vec()));
    }
    values
}

/// What a trap says, without the backtrace: its cause.
fn trap_message(error: &wasmtime::Error) -> String {
    match error.downcast_ref::<wasmtime::Trap>() {
        Some(trap) => format!("trapped: {trap}"),
        None => format!("failed: {}", error.root_cause()),
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
