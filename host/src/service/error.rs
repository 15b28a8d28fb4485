//! The API's errors: an HTTP status, a stable machine code and a message,
//! answered as `{"error": {"code", "message"}}`.

use crate::execution::PayError;
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

impl From<PayError> for ApiError {
    fn from(e: PayError) -> Self {
        // Messages name no value the caller sent, only what was wrong.
        match e {
            PayError::UnknownConnector(_) => ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_connector",
                "no live connector has this name; GET /v1/connectors lists the live ones",
            ),
            PayError::Invalid(e) => {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", e.to_string())
            }
            e @ PayError::Busy { .. } => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "connector_busy",
                e.to_string(),
            ),
            e @ PayError::HostBusy { .. } => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "host_busy", e.to_string())
            }
            e @ PayError::MethodNotSupported { .. } => ApiError::new(
                StatusCode::BAD_REQUEST,
                "method_not_supported",
                e.to_string(),
            ),
            e @ PayError::Superseded { .. } => {
                ApiError::new(StatusCode::CONFLICT, "superseded", e.to_string())
            }
            e @ PayError::Unrecorded { .. } => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "not_recorded",
                e.to_string(),
            ),
            PayError::Journal(e) => e.into(),
        }
    }
}

impl From<JournalError> for ApiError {
    fn from(e: JournalError) -> Self {
        match e {
            JournalError::KeyReused { id, .. } => ApiError::new(
                StatusCode::CONFLICT,
                "idempotency_key_reused",
                format!(
                    "this idempotency key was used for a different payment (attempt {id}); use a new key for a new payment"
                ),
            ),
            JournalError::OrderBusy {
                id, state, advice, ..
            } => ApiError::new(
                StatusCode::CONFLICT,
                "order_busy",
                format!("this order already has attempt {id} in state {state}; {advice}"),
            ),
            e @ JournalError::NotFound(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string())
            }
            e @ JournalError::NotUnknown { .. } => {
                ApiError::new(StatusCode::CONFLICT, "not_unknown", e.to_string())
            }
            e @ JournalError::Busy { .. } => {
                tracing::warn!("{e}");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "journal_busy",
                    "the journal is locked by another process past the busy timeout; nothing was changed or sent, try again",
                )
            }
            e @ JournalError::Moved { .. } => {
                tracing::error!("{e}");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "journal_unwritable",
                    "the journal's file changed under this host (the host's log says how): it takes no payment; nothing was sent",
                )
            }
            e @ JournalError::Closed => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "stopping", e.to_string())
            }
            e @ JournalError::StillRunning { .. } => {
                ApiError::new(StatusCode::CONFLICT, "still_running", e.to_string())
            }
            e @ (JournalError::Sqlite { .. }
            | JournalError::Write { .. }
            | JournalError::Postgres { .. }
            | JournalError::Options(_)) => {
                tracing::error!("{e}");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "journal_error",
                    "the journal cannot be used (the host's log says why)",
                )
            }
        }
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
