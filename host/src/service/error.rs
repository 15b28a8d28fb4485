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
        let message = e.to_string();
        match e {
            PayError::UnknownConnector { .. } => {
                ApiError::new(StatusCode::NOT_FOUND, "unknown_connector", message)
            }
            PayError::Invalid(_) => {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", message)
            }
            PayError::Busy { .. } => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "connector_busy", message)
            }
            PayError::HostBusy { .. } => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "host_busy", message)
            }
            PayError::MethodNotSupported { .. } => {
                ApiError::new(StatusCode::BAD_REQUEST, "method_not_supported", message)
            }
            PayError::Journal(JournalError::KeyReused { .. }) => {
                ApiError::new(StatusCode::CONFLICT, "idempotency_key_reused", message)
            }
            PayError::Journal(JournalError::OrderBusy { .. }) => {
                ApiError::new(StatusCode::CONFLICT, "order_busy", message)
            }
            PayError::Journal(_) => {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "journal_error", message)
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
