//! The API's errors: an HTTP status, a stable machine code and a message,
//! answered as `{"error": {"code", "message"}}`.

use crate::execution::PayError;
use crate::failure::Code;
use crate::payments::journal::JournalError;
use crate::payments::mask::mask_text;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// An API error: an HTTP status, a stable machine code and a message.
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        // Nothing a client sent is echoed unmasked.
        ApiError {
            status,
            code,
            message: mask_text(&message.into()).into_owned(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(ErrorBody {
                error: ErrorDetail {
                    code: self.code.to_owned(),
                    message: self.message,
                },
            }),
        )
            .into_response()
    }
}

impl ApiError {
    /// An error of the failure table: its code's text and status.
    pub(crate) fn coded(code: Code, message: impl Into<String>) -> Self {
        ApiError::new(
            StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            code.as_str(),
            message,
        )
    }
}

impl From<PayError> for ApiError {
    fn from(e: PayError) -> Self {
        // Messages name no value the caller sent, only what was wrong.
        match e {
            PayError::UnknownConnector(_) => ApiError::coded(
                Code::UnknownConnector,
                "no live connector has this name; GET /v1/connectors lists the live ones",
            ),
            PayError::Journal(e) => e.into(),
            e => ApiError::coded(e.code(), e.to_string()),
        }
    }
}

impl From<JournalError> for ApiError {
    fn from(e: JournalError) -> Self {
        let code = e.code();
        let message = match e {
            JournalError::KeyReused { id, .. } => format!(
                "this idempotency key was used for a different payment (attempt {id}); use a new key for a new payment"
            ),
            JournalError::OrderBusy {
                id, state, advice, ..
            } => format!("this order already has attempt {id} in state {state}; {advice}"),
            e @ JournalError::Busy { .. } => {
                tracing::warn!("{e}");
                "the journal is locked by another process past the busy timeout; nothing was changed or sent, try again".to_owned()
            }
            e @ JournalError::Unanswered { .. } => {
                tracing::warn!("{e}");
                "the journal did not answer in time (the host's log says which): what was asked may or may not have been done; look at the payment before trying again".to_owned()
            }
            e @ JournalError::Moved { .. } => {
                tracing::error!("{e}");
                "the journal's file changed under this host (the host's log says how): it takes no payment; nothing was sent".to_owned()
            }
            e @ (JournalError::Sqlite { .. }
            | JournalError::File { .. }
            | JournalError::Newer { .. }
            | JournalError::Write { .. }
            | JournalError::Postgres { .. }
            | JournalError::Options(_)) => {
                tracing::error!("{e}");
                "the journal cannot be used (the host's log says why)".to_owned()
            }
            e => e.to_string(),
        };
        ApiError::coded(code, message)
    }
}

/// An error answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// A stable machine code (`invalid_request`, `order_busy`, …).
    pub code: String,
    /// What is wrong and what to do.
    pub message: String,
}
