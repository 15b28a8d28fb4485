//! What a supplier's answer to a query decides about an attempt whose
//! outcome is not final. Only a definite answer moves it; `failed` only
//! when the supplier itself says no money moved.

use crate::payments::attempt::AttemptState;
use crate::payments::model::{ConnectorError, ErrorKind, PaymentOutcome, PaymentState};

/// What a query's answer decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The attempt takes this outcome.
    Settle {
        /// The outcome the supplier gave.
        outcome: Box<PaymentOutcome>,
        /// The note the journal keeps beside it.
        note: String,
    },
    /// The attempt stays as it is: why.
    Undecided(String),
}

/// The error kinds by which a supplier says, of a payment it knows, that
/// no money moved. Anything else the connector calls `failed` says nothing
/// about the payment: a request it could not make, credentials refused, a
/// status call that failed, and what describes the order rather than the
/// payment (`order-expired`, `invalid-order-state`: on a status call they
/// may mean paid, ticketed or cancelled).
const NO_MONEY_MOVED: [ErrorKind; 4] = [
    ErrorKind::Declined,
    ErrorKind::CardRejected,
    ErrorKind::MethodNotSupported,
    ErrorKind::PriceChanged,
];

/// What `answer` decides for an attempt in state `seen` (`unknown` or
/// `pending`).
pub fn verdict(seen: AttemptState, answer: &Result<PaymentOutcome, ConnectorError>) -> Verdict {
    let outcome = match answer {
        Ok(outcome) => outcome,
        Err(e) if e.kind == ErrorKind::Unsupported => {
            return Verdict::Undecided(format!(
                "the connector cannot query ({}: {}); ask the supplier and state the outcome it gives",
                e.kind, e.message
            ));
        }
        Err(e) => {
            return Verdict::Undecided(format!(
                "the query failed ({}: {}); it is asked again later",
                e.kind, e.message
            ));
        }
    };
    let code = outcome.supplier_code.as_deref().unwrap_or("none");
    let settle = |what: &str| Verdict::Settle {
        outcome: Box::new(outcome.clone()),
        note: format!("the supplier answered a query: {what} (code {code})"),
    };
    match outcome.state {
        PaymentState::Succeeded => settle("paid"),
        PaymentState::Pending if seen == AttemptState::Unknown => {
            settle("accepted, settling later")
        }
        PaymentState::Pending => Verdict::Undecided("still pending at the supplier".to_owned()),
        PaymentState::Unknown => Verdict::Undecided(
            "the supplier does not know yet; it is asked again later, or state the outcome the supplier gave".to_owned(),
        ),
        PaymentState::Failed => {
            let said = outcome.supplier_code.is_some()
                && outcome
                    .error
                    .as_ref()
                    .is_some_and(|e| NO_MONEY_MOVED.contains(&e.kind));
            if said {
                settle("not paid")
            } else {
                Verdict::Undecided(format!(
                    "the answer says failed but not that the supplier took no money ({}); money may have moved, so it stays {seen}",
                    outcome
                        .error
                        .as_ref()
                        .map_or("no supplier code".to_owned(), |e| format!(
                            "{}, supplier code {code}",
                            e.kind
                        ))
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(kind: ErrorKind, code: Option<&str>) -> PaymentOutcome {
        let mut o = PaymentOutcome::host(PaymentState::Failed, ConnectorError::host(kind, "x"));
        o.supplier_code = code.map(str::to_owned);
        o
    }

    #[test]
    fn only_the_supplier_saying_no_money_moved_fails_an_attempt() {
        let unknown = AttemptState::Unknown;
        let settles = |a: &Result<PaymentOutcome, ConnectorError>| {
            matches!(verdict(unknown, a), Verdict::Settle { .. })
        };
        assert!(settles(&Ok(PaymentOutcome::new(PaymentState::Succeeded))));
        assert!(settles(&Ok(PaymentOutcome::new(PaymentState::Pending))));
        assert!(settles(&Ok(failed(ErrorKind::Declined, Some("2024")))));
        // No supplier code, or a kind that says nothing about the payment.
        assert!(!settles(&Ok(failed(ErrorKind::Declined, None))));
        for kind in [
            ErrorKind::Timeout,
            ErrorKind::Protocol,
            ErrorKind::SupplierUnavailable,
            ErrorKind::AuthFailed,
            ErrorKind::InvalidRequest,
            ErrorKind::AlreadyPaid,
            ErrorKind::OrderNotFound,
            ErrorKind::Denied,
            ErrorKind::ConnectorFault,
            ErrorKind::UnknownSupplierCode,
            ErrorKind::OrderExpired,
            ErrorKind::InvalidOrderState,
        ] {
            assert!(!settles(&Ok(failed(kind, Some("1")))), "{kind}");
        }
        assert!(!settles(&Ok(PaymentOutcome::new(PaymentState::Unknown))));
        assert!(!settles(&Err(ConnectorError::host(
            ErrorKind::Timeout,
            "slow"
        ))));
        // A pending attempt is not moved by "still pending".
        assert!(matches!(
            verdict(
                AttemptState::Pending,
                &Ok(PaymentOutcome::new(PaymentState::Pending))
            ),
            Verdict::Undecided(_)
        ));
    }
}
