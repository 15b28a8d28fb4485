//! One loaded connector: its component, checked and ready to instantiate,
//! what it declared, what the operator granted it, and what a call into it
//! means: a fresh instance per call, an outcome vetted on the way out, and a
//! connector that failed turned into `failed` or `unknown` by whether a
//! request may have left it.

use super::info::ConnectorInfo;
use crate::capabilities::http::scrub::Echoes;
use crate::contract::ContractVersion;
use crate::engine::Runtime;
use crate::engine::cache::CacheOutcome;
use crate::engine::call::{Failure, Sandbox};
use crate::engine::store::Fault;
use crate::payments::journal::Fence;
use crate::payments::mask::Masker;
use crate::payments::model::{
    ConnectorError, ErrorKind, PaymentOutcome, PaymentRequest, PaymentState,
};
use crate::payments::vet::{masker_for, sanitize};
use crate::policy::grant::Grant;
use crate::policy::limits::Limits;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// A loaded connector.
pub struct Connector {
    /// What it declared.
    pub info: ConnectorInfo,
    /// The contract version it is built for.
    pub contract: ContractVersion,
    /// Whether it can ask its supplier where a payment stands (its `query`
    /// does not answer `unsupported`): the reconciler asks only such.
    pub can_query: bool,
    /// What it was granted.
    pub grant: Grant,
    /// Its limits per call.
    pub limits: Limits,
    /// The file it was loaded from.
    pub file: PathBuf,
    /// The SHA-256 of that file, hex.
    pub sha256: String,
    /// The signed manifest, for a connector loaded from a signed package
    /// (its signature and digest verified).
    pub package: Option<crate::package::Manifest>,
    /// When it was loaded.
    pub loaded_at: SystemTime,
    /// Whether its compiled code came from the cache.
    pub cache: CacheOutcome,
    /// How long loading took.
    pub load_time: Duration,
    pub(super) sandbox: Sandbox,
    pub(super) places: Arc<tokio::sync::Semaphore>,
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
    /// One of its `max_concurrent` places, waiting at most `wait`; `None`
    /// when all stay taken (the connector is busy).
    pub async fn place(&self, wait: Duration) -> Option<tokio::sync::OwnedSemaphorePermit> {
        tokio::time::timeout(wait, self.places.clone().acquire_owned())
            .await
            .ok()
            .and_then(Result::ok)
    }

    /// The connector's name.
    pub fn name(&self) -> &str {
        &self.info.name
    }

    /// Pins the clock its calls read to `unix_seconds` (its `clock` import
    /// and WASI's wall clock), or back to real time with `None`: for
    /// scenarios that check a signature over a timestamp.
    pub fn pin_clock(&self, unix_seconds: Option<u64>) {
        self.sandbox.pinned_clock.store(
            unix_seconds.unwrap_or(0),
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    /// Runs one payment in a fresh instance. The request must be validated.
    ///
    /// Never fails: a connector that traps or exceeds a limit gives a
    /// `failed` outcome if no request left the sandbox, `unknown` if one may
    /// have reached the supplier.
    pub async fn pay(&self, rt: &Runtime, request: &PaymentRequest) -> PaymentOutcome {
        self.pay_within(rt, request, None).await
    }

    /// `pay(request)` in a fresh instance whose supplier requests are sent
    /// only while `fence` holds: the lease of the journal that holds the
    /// payment's attempt (see [`Fence`]).
    pub async fn pay_within(
        &self,
        rt: &Runtime,
        request: &PaymentRequest,
        fence: Option<Fence>,
    ) -> PaymentOutcome {
        let masker = masker_for(request);
        let call = self.sandbox.pay(rt, request, masker.clone(), fence).await;
        let mut outcome = match call.answer {
            Ok(outcome) => sanitize(outcome.into(), &masker, &self.info.name),
            Err(failure) => self.failed_call(failure, call.sent),
        };
        note_echoes(&mut outcome, &call.echoes);
        outcome
    }

    /// Asks the supplier where an order's payment stands, in a fresh instance.
    pub async fn query(
        &self,
        rt: &Runtime,
        order_id: &str,
    ) -> Result<PaymentOutcome, ConnectorError> {
        let masker = Masker::default();
        let call = self.sandbox.query(rt, order_id, masker.clone()).await;
        match call.answer {
            Ok(Ok(outcome)) => {
                let mut outcome = sanitize(outcome.into(), &masker, &self.info.name);
                note_echoes(&mut outcome, &call.echoes);
                Ok(outcome)
            }
            Ok(Err(error)) => {
                let mut error: ConnectorError = error.into();
                error.message = masker.mask(&error.message).into_owned();
                Err(error)
            }
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

/// The detail the journal keeps when an answer echoed a hidden value.
pub(crate) const ECHO_DETAIL: &str = "payhost.echoed";

/// Records, beside the outcome, which hidden values the supplier's answers
/// echoed and where (names only): the host scrubbed them before the
/// connector read the answer. The detail is the host's: a connector's own
/// detail of that name is dropped, so it cannot forge or hide one.
fn note_echoes(outcome: &mut PaymentOutcome, echoes: &Echoes) {
    outcome.details.retain(|(k, _)| k != ECHO_DETAIL);
    if !echoes.is_empty() {
        outcome
            .details
            .push((ECHO_DETAIL.to_owned(), echoes.to_string()));
    }
}
