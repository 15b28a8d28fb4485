//! One payment attempt as the journal keeps it, and the states it goes
//! through: `in-flight` from before the supplier is called until its
//! outcome is written, then the outcome's state.

use crate::payments::model::{PaymentOutcome, PaymentState};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Where an attempt stands in the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttemptState {
    /// Written before the supplier was called; no outcome yet.
    InFlight,
    /// The supplier took the money.
    Succeeded,
    /// Accepted; ticketing or settlement follows.
    Pending,
    /// Refused, or never sent: no money moved.
    Failed,
    /// May have reached the supplier; resolved by `query` or by hand.
    Unknown,
}

impl AttemptState {
    /// Every state.
    pub const ALL: [AttemptState; 5] = [
        AttemptState::InFlight,
        AttemptState::Succeeded,
        AttemptState::Pending,
        AttemptState::Failed,
        AttemptState::Unknown,
    ];

    /// The states of an attempt that may have gone through: an order with
    /// one takes no new attempt.
    pub const MAY_HAVE_GONE_THROUGH: [AttemptState; 4] = [
        AttemptState::InFlight,
        AttemptState::Unknown,
        AttemptState::Succeeded,
        AttemptState::Pending,
    ];

    /// The state's name, as stored and shown (`in-flight`).
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptState::InFlight => "in-flight",
            AttemptState::Succeeded => "succeeded",
            AttemptState::Pending => "pending",
            AttemptState::Failed => "failed",
            AttemptState::Unknown => "unknown",
        }
    }
}

impl From<PaymentState> for AttemptState {
    fn from(state: PaymentState) -> Self {
        match state {
            PaymentState::Succeeded => AttemptState::Succeeded,
            PaymentState::Pending => AttemptState::Pending,
            PaymentState::Failed => AttemptState::Failed,
            PaymentState::Unknown => AttemptState::Unknown,
        }
    }
}

impl fmt::Display for AttemptState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One attempt as the journal keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Attempt {
    /// Its id.
    pub id: i64,
    /// The idempotency key.
    pub idempotency_key: String,
    /// The connector.
    pub connector: String,
    /// The order.
    pub order_id: String,
    /// The method's kind.
    pub method: String,
    /// The card, masked, for card methods.
    pub card: Option<String>,
    /// The amount.
    pub amount: String,
    /// The currency.
    pub currency: String,
    /// `in-flight`, or the outcome's state.
    pub state: AttemptState,
    /// The outcome, once there is one.
    pub outcome: Option<PaymentOutcome>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
    /// The operator's note when resolved by hand.
    pub resolution: Option<String>,
    /// Who resolved it by hand: the API token's name, or the operating
    /// system's user for the command line.
    pub resolved_by: Option<String>,
    /// When it was resolved (Unix seconds).
    #[serde(default)]
    pub resolved_at: Option<i64>,
    /// The outcome the supplier (or the host) gave before a person
    /// resolved it: its code, kind and message are kept beside the
    /// resolution.
    #[serde(default)]
    pub supplier_outcome: Option<PaymentOutcome>,
    /// The host instance that made the attempt.
    pub instance: Option<String>,
    /// An outcome that came back after the attempt had been marked
    /// `unknown` (its host's lease had lapsed): kept for the operator, who
    /// resolves the attempt; it never changes the state on its own.
    pub late_outcome: Option<PaymentOutcome>,
}
