//! The unified error kinds: every supplier code maps to one of them.
//!
//! Each kind says what went wrong. Whether money may have moved is decided
//! by the outcome's state (`failed` when it cannot have, `unknown` when it
//! may have); each kind's documentation says which state it goes with, and
//! whether sending the same request again makes sense.

use std::fmt;
use std::str::FromStr;

/// The contract's `error-kind`, in the contract's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "kebab-case")
)]
pub enum ErrorKind {
    /// `invalid-request`: the request is invalid (a missing field, a bad
    /// value, a missing setting). The supplier refused it or it was never
    /// sent, so no money moved (`failed`); retrying makes sense only after
    /// fixing the request.
    InvalidRequest,
    /// `auth-failed`: the supplier rejected the credentials or the
    /// signature. No money moved (`failed`); retrying makes sense only after
    /// the operator fixes the credentials.
    AuthFailed,
    /// `order-not-found`: the supplier does not know the order. No money
    /// moved (`failed`); retrying the same order makes no sense.
    OrderNotFound,
    /// `order-expired`: the order's payment or ticketing deadline has
    /// passed. No money moved (`failed`); retrying makes no sense.
    OrderExpired,
    /// `invalid-order-state`: the order is in a state that cannot be paid
    /// (cancelled, not confirmed, fare not guaranteed). No money moved
    /// (`failed`); retrying makes sense only once the order's state changes.
    InvalidOrderState,
    /// `already-paid`: the order is paid already. This request moved no
    /// money (`failed`), but an earlier one did; never pay the order again.
    AlreadyPaid,
    /// `in-progress`: a payment for the order is under way. Money may be
    /// moving (`unknown`); never send the payment again, query it later.
    InProgress,
    /// `method-not-supported`: the payment method is not allowed for this
    /// order or account. No money moved (`failed`); retrying makes sense
    /// only with another method.
    MethodNotSupported,
    /// `card-rejected`: the card was refused (brand not supported, not the
    /// order's card, invalid). No money moved (`failed`); retrying makes
    /// sense only with another card.
    CardRejected,
    /// `declined`: the supplier or its gateway declined the payment
    /// (insufficient funds, risk). No money moved (`failed`); retrying as
    /// it is makes no sense until the cause is dealt with.
    Declined,
    /// `price-changed`: the price changed since it was quoted. No money
    /// moved (`failed`); get a new price before paying again.
    PriceChanged,
    /// `supplier-unavailable`: the supplier is down or busy. No money moved
    /// when the supplier says it did not process the request (`failed`,
    /// often retryable later); money may have moved after a system error
    /// the supplier does not explain (`unknown`, never retried blindly).
    SupplierUnavailable,
    /// `unknown-supplier-code`: the supplier answered a code its documents
    /// do not list. Money may have moved (`unknown`); never retry blindly,
    /// query the payment or resolve it by hand.
    UnknownSupplierCode,
    /// `protocol`: the supplier's answer could not be understood (not the
    /// documented format, a SOAP fault). The request reached the supplier,
    /// so money may have moved (`unknown`); never retry blindly.
    Protocol,
    /// `denied`: the host refused something the connector tried (a host
    /// that is not allowed, a limit). When nothing left, no money moved
    /// (`failed`); retrying makes sense only after the operator changes
    /// what is allowed.
    Denied,
    /// `timeout`: the supplier did not answer in time. Once the request may
    /// have been sent, money may have moved (`unknown`); never retry
    /// blindly, query the payment instead.
    Timeout,
    /// `unsupported`: the operation is not supported by this connector.
    /// Nothing was sent, so no money moved (`failed`); retrying makes no
    /// sense.
    Unsupported,
    /// `connector-fault`: the connector itself failed (a trap, a resource
    /// limit, an answer that contradicts itself); set by the host, never by
    /// a connector. Money may have moved once a request left the connector
    /// (`unknown`), otherwise none did (`failed`); never retry blindly.
    ConnectorFault,
}

impl ErrorKind {
    /// Every kind, in the contract's order.
    pub const ALL: &[ErrorKind] = &[
        ErrorKind::InvalidRequest,
        ErrorKind::AuthFailed,
        ErrorKind::OrderNotFound,
        ErrorKind::OrderExpired,
        ErrorKind::InvalidOrderState,
        ErrorKind::AlreadyPaid,
        ErrorKind::InProgress,
        ErrorKind::MethodNotSupported,
        ErrorKind::CardRejected,
        ErrorKind::Declined,
        ErrorKind::PriceChanged,
        ErrorKind::SupplierUnavailable,
        ErrorKind::UnknownSupplierCode,
        ErrorKind::Protocol,
        ErrorKind::Denied,
        ErrorKind::Timeout,
        ErrorKind::Unsupported,
        ErrorKind::ConnectorFault,
    ];

    /// The kind's name, as in the contract (`already-paid`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidRequest => "invalid-request",
            ErrorKind::AuthFailed => "auth-failed",
            ErrorKind::OrderNotFound => "order-not-found",
            ErrorKind::OrderExpired => "order-expired",
            ErrorKind::InvalidOrderState => "invalid-order-state",
            ErrorKind::AlreadyPaid => "already-paid",
            ErrorKind::InProgress => "in-progress",
            ErrorKind::MethodNotSupported => "method-not-supported",
            ErrorKind::CardRejected => "card-rejected",
            ErrorKind::Declined => "declined",
            ErrorKind::PriceChanged => "price-changed",
            ErrorKind::SupplierUnavailable => "supplier-unavailable",
            ErrorKind::UnknownSupplierCode => "unknown-supplier-code",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Denied => "denied",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::ConnectorFault => "connector-fault",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ErrorKind {
    type Err = UnknownKind;

    /// Reads a kind by its contract name (`already-paid`), exactly.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        ErrorKind::ALL
            .iter()
            .copied()
            .find(|kind| kind.as_str() == text)
            .ok_or_else(|| UnknownKind(text.to_owned()))
    }
}

/// A text that names no [`ErrorKind`]; its message lists the names that do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownKind(String);

impl UnknownKind {
    /// The text that was read.
    pub fn text(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UnknownKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is not an error kind; the kinds are ", self.0)?;
        for (i, kind) in ErrorKind::ALL.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(kind.as_str())?;
        }
        Ok(())
    }
}

impl std::error::Error for UnknownKind {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_is_the_contract_in_order() {
        let names: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names, crate::wit::enum_names("error-kind"));
    }

    #[test]
    fn all_holds_every_variant_once() {
        // A new variant fails to compile here until it is listed.
        let position = |kind: ErrorKind| match kind {
            ErrorKind::InvalidRequest => 0,
            ErrorKind::AuthFailed => 1,
            ErrorKind::OrderNotFound => 2,
            ErrorKind::OrderExpired => 3,
            ErrorKind::InvalidOrderState => 4,
            ErrorKind::AlreadyPaid => 5,
            ErrorKind::InProgress => 6,
            ErrorKind::MethodNotSupported => 7,
            ErrorKind::CardRejected => 8,
            ErrorKind::Declined => 9,
            ErrorKind::PriceChanged => 10,
            ErrorKind::SupplierUnavailable => 11,
            ErrorKind::UnknownSupplierCode => 12,
            ErrorKind::Protocol => 13,
            ErrorKind::Denied => 14,
            ErrorKind::Timeout => 15,
            ErrorKind::Unsupported => 16,
            ErrorKind::ConnectorFault => 17,
        };
        assert_eq!(ErrorKind::ALL.len(), 18);
        for (i, kind) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(position(*kind), i, "{kind:?}");
        }
        let mut sorted = ErrorKind::ALL.to_vec();
        sorted.sort();
        assert_eq!(sorted, ErrorKind::ALL, "Ord follows the contract's order");
    }

    #[test]
    fn every_kind_round_trips() {
        for &kind in ErrorKind::ALL {
            assert_eq!(kind.as_str().parse::<ErrorKind>(), Ok(kind));
            assert_eq!(kind.to_string(), kind.as_str());
        }
    }

    #[test]
    fn names_are_read_exactly() {
        for bad in [
            "",
            "AlreadyPaid",
            "already_paid",
            "Already-Paid",
            " already-paid",
            "already-paid ",
            "paid",
        ] {
            let err = bad.parse::<ErrorKind>().unwrap_err();
            assert_eq!(err.text(), bad);
        }
    }

    #[test]
    fn the_error_lists_the_kinds() {
        let message = "nope".parse::<ErrorKind>().unwrap_err().to_string();
        assert!(
            message.starts_with("`nope` is not an error kind"),
            "{message}"
        );
        for kind in ErrorKind::ALL {
            assert!(message.contains(kind.as_str()), "{message}");
        }
        assert!(
            message.ends_with("unsupported, connector-fault"),
            "{message}"
        );
    }
}

#[cfg(all(test, feature = "serde"))]
mod serde_tests {
    use super::ErrorKind;
    use serde::Deserialize;
    use serde::de::IntoDeserializer;
    use serde::de::value::{Error, StrDeserializer};

    #[test]
    fn deserializes_by_contract_name() {
        for &kind in ErrorKind::ALL {
            let text: StrDeserializer<'_, Error> = kind.as_str().into_deserializer();
            assert_eq!(ErrorKind::deserialize(text), Ok(kind));
        }
        let text: StrDeserializer<'_, Error> = "InProgress".into_deserializer();
        assert!(ErrorKind::deserialize(text).is_err());
    }
}
