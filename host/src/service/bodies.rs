//! The API's typed bodies: what `POST /v1/payments` takes and answers,
//! what `GET /v1/connectors` and `GET /healthz` answer, and the error body.

use super::error::ApiError;
use crate::failure::Code;
use crate::payments::attempt::Attempt;
use crate::payments::model::{
    Card, MethodKind, Money, PaymentMethod, PaymentOutcome, PaymentRequest,
};
use crate::registry::{ConnectorSummary, FailedFile};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The body of `POST /v1/payments`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PaymentBody {
    connector: String,
    order_id: String,
    amount: String,
    currency: String,
    #[serde(default = "balance")]
    method: MethodKind,
    account: Option<String>,
    card: Option<Card>,
    client_order_id: Option<String>,
    idempotency_key: String,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
}

fn balance() -> MethodKind {
    MethodKind::Balance
}

impl PaymentBody {
    pub(crate) fn into_request(self) -> Result<(String, PaymentRequest), ApiError> {
        let bad = |e: crate::payments::model::RequestError| {
            ApiError::coded(Code::InvalidRequest, e.to_string())
        };
        let method =
            PaymentMethod::from_parts(self.method, self.card, self.account).map_err(bad)?;
        let amount = Money::parse(&self.amount, &self.currency).map_err(bad)?;
        Ok((
            self.connector,
            PaymentRequest {
                order_id: self.order_id,
                client_order_id: self.client_order_id,
                method,
                amount,
                idempotency_key: self.idempotency_key,
                attributes: self.attributes,
            },
        ))
    }
}

/// The answer to `POST /v1/payments`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PaymentAnswer {
    /// The journal's attempt id (`null` without a journal).
    pub id: Option<i64>,
    /// Whether the outcome is an earlier attempt's, replayed for its key.
    pub replayed: bool,
    /// The connector.
    pub connector: String,
    /// The order.
    pub order_id: String,
    /// The outcome.
    pub outcome: PaymentOutcome,
}

/// The answer to `GET /v1/connectors`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConnectorsAnswer {
    /// The live connectors.
    pub connectors: Vec<ConnectorSummary>,
    /// The files that failed to load.
    pub failed: Vec<FailedFile>,
}

/// The answer to `GET /healthz` (`503` when not `ok`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Health {
    /// `ok`, or `journal_unwritable` when the last lease renewal could not
    /// write the journal (payments would fail).
    pub status: String,
    /// How many connectors are live.
    pub connectors: usize,
    /// Payments under way.
    pub in_flight: usize,
    /// Why the journal cannot be written, when it cannot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journal_problem: Option<String>,
}

/// What `GET /readyz` answers: whether every connector `payhost.toml`
/// configures is live (their names are for `GET /v1/connectors`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Readiness {
    /// Every configured connector is live.
    pub ready: bool,
    /// How many configured connectors are not.
    pub not_live: usize,
}

/// The body of `POST /v1/payments/{id}/resolve`: the operator's decision
/// on an `unknown` attempt, or `{"query": true}` to ask the supplier
/// through the connector's `query()` on this host, which holds the secrets.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResolveBody {
    /// `succeeded`, `pending` or `failed`.
    #[serde(default)]
    pub(crate) state: Option<crate::payments::model::PaymentState>,
    /// Why (what the supplier said).
    #[serde(default)]
    pub(crate) note: Option<String>,
    /// Ask the supplier instead.
    #[serde(default)]
    pub(crate) query: bool,
}

/// What `GET /v1/payments/{id}` answers: the attempt, and every attempt
/// for its order, oldest first (it among them).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AttemptAnswer {
    /// The attempt.
    #[serde(flatten)]
    pub attempt: Attempt,
    /// The order's attempts, oldest first.
    pub history: Vec<Attempt>,
    /// The queries put to the supplier about this attempt and their
    /// answers (by the reconciler or a person), oldest first.
    #[serde(default)]
    pub queries: Vec<crate::payments::journal::QueryRecord>,
}
