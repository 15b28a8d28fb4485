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
