//! What an operator or a platform hands in, built once for the CLI and the
//! API alike: a payment method from its kind and the card or account that
//! came with it, and an operator's resolution of an `unknown` attempt.

use crate::payments::model::{
    Card, ConnectorError, ErrorKind, MethodKind, PaymentMethod, PaymentOutcome, PaymentState,
    RequestError,
};

impl PaymentMethod {
    /// The method of `kind`, with the `card` or `account` it needs and
    /// nothing it does not.
    pub fn from_parts(
        kind: MethodKind,
        card: Option<Card>,
        account: Option<String>,
    ) -> Result<PaymentMethod, RequestError> {
        match (kind, card, account) {
            (MethodKind::Balance, None, None) => Ok(PaymentMethod::Balance),
            (MethodKind::Card, Some(card), None) => Ok(PaymentMethod::Card(card)),
            (MethodKind::MerchantOfRecord, Some(card), None) => {
                Ok(PaymentMethod::MerchantOfRecord(card))
            }
            (MethodKind::Account, None, Some(code)) => Ok(PaymentMethod::Account(code)),
            (MethodKind::Card | MethodKind::MerchantOfRecord, None, _) => {
                Err(RequestError::new("this method needs `card`"))
            }
            (MethodKind::Account, _, None) => Err(RequestError::new(
                "method `account` needs `account`, the supplier's account code",
            )),
            _ => Err(RequestError::new(
                "give `card` only for card methods and `account` only for method `account`",
            )),
        }
    }
}

/// An operator's decision on an `unknown` attempt: the outcome to record
/// and the note that says why.
#[derive(Debug, Clone)]
pub struct Resolution {
    /// The outcome recorded.
    pub outcome: PaymentOutcome,
    /// Why, as the journal keeps it.
    pub note: String,
}

impl Resolution {
    /// The operator states `state`, saying why in `note` (what the
    /// supplier said): printable and not empty; `unknown` is no decision.
    pub fn stated(state: PaymentState, note: &str) -> Result<Resolution, RequestError> {
        if payhost_rules::text::forbidden_char(note).is_some() || note.trim().is_empty() {
            return Err(RequestError::new(
                "`note` must be printable text saying why (what the supplier said)",
            ));
        }
        let outcome = match state {
            PaymentState::Succeeded | PaymentState::Pending => PaymentOutcome::new(state),
            PaymentState::Failed => PaymentOutcome::host(
                PaymentState::Failed,
                ConnectorError::host(
                    ErrorKind::Declined,
                    format!("resolved by the operator: {note}"),
                ),
            ),
            PaymentState::Unknown => {
                return Err(RequestError::new("resolve to succeeded, pending or failed"));
            }
        };
        Ok(Resolution {
            outcome,
            note: format!("by the operator: {note}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_method_takes_exactly_what_it_needs() {
        assert!(matches!(
            PaymentMethod::from_parts(MethodKind::Account, None, Some("CAG".into())),
            Ok(PaymentMethod::Account(_))
        ));
        assert!(PaymentMethod::from_parts(MethodKind::Card, None, None).is_err());
        assert!(PaymentMethod::from_parts(MethodKind::Account, None, None).is_err());
        assert!(PaymentMethod::from_parts(MethodKind::Balance, None, Some("CAG".into())).is_err());
    }

    #[test]
    fn a_stated_resolution_needs_a_printable_note_and_a_final_state() {
        assert!(Resolution::stated(PaymentState::Failed, "  ").is_err());
        assert!(Resolution::stated(PaymentState::Failed, "ok\u{202e}").is_err());
        assert!(Resolution::stated(PaymentState::Unknown, "checked").is_err());
        let r = Resolution::stated(PaymentState::Failed, "Atlas: no charge").unwrap();
        assert_eq!(r.outcome.state, PaymentState::Failed);
        assert_eq!(r.note, "by the operator: Atlas: no charge");
    }
}
