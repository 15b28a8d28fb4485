//! Why a payment was not attempted.

use crate::payments::journal::JournalError;
use crate::payments::model::RequestError;
use crate::registry::UnknownConnector;

/// Why a payment was not attempted.
#[derive(Debug, thiserror::Error)]
pub enum PayError {
    /// No connector has this name.
    #[error(transparent)]
    UnknownConnector(#[from] UnknownConnector),
    /// The request is malformed.
    #[error("invalid payment request: {0}")]
    Invalid(#[from] RequestError),
    /// The connector has `max_concurrent` calls in flight and none ended
    /// within the wait: nothing was sent.
    #[error(
        "connector `{name}` is busy: its {limit} places are taken and none came free within {wait:?}; nothing was sent, try again"
    )]
    Busy {
        /// The connector.
        name: String,
        /// Its `max_concurrent`.
        limit: u32,
        /// How long the payment waited.
        wait: std::time::Duration,
    },
    /// Every instance the host may run at once is in use and none came free
    /// within the wait: nothing was sent.
    #[error(
        "the host is busy: all {limit} connector instances it may run at once are in use and none came free within {wait:?}; nothing was sent, try again (or raise the instance pool)"
    )]
    HostBusy {
        /// The instance pool's size.
        limit: u32,
        /// How long the payment waited.
        wait: std::time::Duration,
    },
    /// The supplier call ended but the journal could not record its
    /// outcome. The host keeps trying; until it succeeds the attempt stays
    /// in flight (and becomes `unknown` if this host stops first).
    #[error(
        "attempt {id} ended {state} at the supplier, but the journal could not record it yet; the host keeps trying. Do not pay this order again: repeat the request with the same idempotency key to read its outcome"
    )]
    Unrecorded {
        /// The attempt.
        id: i64,
        /// The outcome's state, as the connector answered.
        state: crate::payments::model::PaymentState,
        /// Why the journal failed.
        error: JournalError,
    },
    /// The attempt was marked `unknown` while it ran (its host's lease
    /// lapsed) and may have been resolved since: the outcome that came back
    /// does not replace that; it is kept beside it for the operator.
    #[error(
        "attempt {id} ended {late} at the supplier after it had been marked unknown (this host stopped renewing its lease); the journal keeps it {state} and the late outcome beside it: settle it with `payhost payments show {id}`"
    )]
    Superseded {
        /// The attempt.
        id: i64,
        /// What the journal keeps.
        state: crate::payments::attempt::AttemptState,
        /// What the connector answered.
        late: crate::payments::model::PaymentState,
    },
    /// The connector does not implement the method.
    #[error("connector `{name}` does not support {method} payments (it supports: {supported})")]
    MethodNotSupported {
        /// The connector.
        name: String,
        /// The method asked for.
        method: String,
        /// The methods it supports.
        supported: String,
    },
    /// The journal refused the attempt (a reused key, an order that may be
    /// paid already) or failed.
    #[error(transparent)]
    Journal(#[from] JournalError),
}
