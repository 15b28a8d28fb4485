//! One row of a supplier's code table.
//!
//! ```
//! # use payhost_sdk::{Code, ErrorKind, PaymentState};
//! fn map_status(status: i64) -> Code {
//!     match status {
//!         401 => Code::failed(ErrorKind::OrderExpired),
//!         406 => Code::unknown(ErrorKind::InProgress),
//!         1003 => Code::failed(ErrorKind::SupplierUnavailable).retryable(),
//!         _ => Code::unknown(ErrorKind::UnknownSupplierCode),
//!     }
//! }
//!
//! # let (status, message) = (406, "processing");
//! let outcome = map_status(status).outcome(status.to_string(), message);
//! # assert_eq!(outcome.state, PaymentState::Unknown);
//! ```

use crate::{ConnectorError, ErrorKind, PaymentOutcome, PaymentState};

/// What one supplier error code means: the outcome's state, the unified
/// kind, and whether the same request may be sent again.
///
/// The state is [`PaymentState::Failed`] (the supplier refused: no money
/// moved) or [`PaymentState::Unknown`] (money may have moved: never send the
/// payment again blindly); a code table decides it here, once per code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    state: PaymentState,
    kind: ErrorKind,
    retryable: bool,
}

impl Code {
    /// A code that means the payment was refused and no money moved: the
    /// outcome is `failed`. Not retryable unless marked with
    /// [`Code::retryable`].
    pub const fn failed(kind: ErrorKind) -> Code {
        Code {
            state: PaymentState::Failed,
            kind,
            retryable: false,
        }
    }

    /// A code after which money may have moved (a payment in progress, an
    /// unexplained system error, an undocumented code): the outcome is
    /// `unknown`. Not retryable unless marked with [`Code::retryable`].
    pub const fn unknown(kind: ErrorKind) -> Code {
        Code {
            state: PaymentState::Unknown,
            kind,
            retryable: false,
        }
    }

    /// The same code, marked as one the same request may be sent again for.
    pub const fn retryable(self) -> Code {
        Code {
            retryable: true,
            ..self
        }
    }

    /// The outcome's state: `failed` or `unknown`.
    pub const fn state(&self) -> PaymentState {
        self.state
    }

    /// The unified kind.
    pub const fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Whether the same request may be sent again.
    pub const fn is_retryable(&self) -> bool {
        self.retryable
    }

    /// The outcome for this code: `failed` or `unknown`, with a supplier
    /// error carrying the raw `code` and the supplier's own `message`
    /// (which become the outcome's supplier code and message too). When the
    /// supplier may say nothing, use [`Code::said`]: a message made up here
    /// would read as the supplier's.
    pub fn outcome(self, code: impl Into<String>, message: impl Into<String>) -> PaymentOutcome {
        let error = ConnectorError::supplier(self.kind, code, message).retryable(self.retryable);
        match self.state {
            PaymentState::Failed => PaymentOutcome::failed(error),
            // `unknown`, the only other state a `Code` is built with.
            _ => PaymentOutcome::unknown(error),
        }
    }
}

impl Code {
    /// The outcome for this code with what the supplier said, if anything:
    /// its `message` is the outcome's supplier message only when it sent
    /// one; the error's message is then `supplier code CODE`, and the
    /// outcome has no supplier message.
    pub fn said(self, code: impl Into<String>, message: Option<String>) -> PaymentOutcome {
        let code = code.into();
        match message {
            Some(message) => self.outcome(code, message),
            None => {
                let mut outcome = self.outcome(code.clone(), format!("supplier code {code}"));
                outcome.supplier_message = None;
                outcome
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_and_unknown_are_not_retryable_by_default() {
        let failed = Code::failed(ErrorKind::Declined);
        assert_eq!(failed.state(), PaymentState::Failed);
        assert_eq!(failed.kind(), ErrorKind::Declined);
        assert!(!failed.is_retryable());
        let unknown = Code::unknown(ErrorKind::InProgress);
        assert_eq!(unknown.state(), PaymentState::Unknown);
        assert_eq!(unknown.kind(), ErrorKind::InProgress);
        assert!(!unknown.is_retryable());
        let retry = Code::failed(ErrorKind::SupplierUnavailable).retryable();
        assert_eq!(retry.state(), PaymentState::Failed);
        assert!(retry.is_retryable());
    }

    #[test]
    fn the_outcome_carries_the_supplier_code_and_message() {
        for (code, state) in [
            (Code::failed(ErrorKind::Declined), PaymentState::Failed),
            (
                Code::unknown(ErrorKind::UnknownSupplierCode),
                PaymentState::Unknown,
            ),
            (
                Code::failed(ErrorKind::SupplierUnavailable).retryable(),
                PaymentState::Failed,
            ),
        ] {
            let outcome = code.outcome("B119", "system busy");
            assert_eq!(outcome.state, state);
            assert_eq!(outcome.supplier_code.as_deref(), Some("B119"));
            assert_eq!(outcome.supplier_message.as_deref(), Some("system busy"));
            let error = outcome.error.expect("an error");
            assert_eq!(error.kind, code.kind());
            assert_eq!(error.retryable, code.is_retryable());
            assert_eq!(error.supplier_code.as_deref(), Some("B119"));
            assert_eq!(error.message, "system busy");
        }
    }

    #[test]
    fn a_supplier_that_said_nothing_has_no_supplier_message() {
        let code = Code::failed(ErrorKind::Declined);
        let silent = code.said("411", None);
        assert_eq!(silent.supplier_code.as_deref(), Some("411"));
        assert_eq!(silent.supplier_message, None);
        assert_eq!(silent.error.expect("an error").message, "supplier code 411");
        let said = code.said("411", Some("gateway declined".into()));
        assert_eq!(said.supplier_message.as_deref(), Some("gateway declined"));
    }
}
