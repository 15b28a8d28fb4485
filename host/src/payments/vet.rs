//! Vetting what a connector returned: card data masked in every field, and
//! an outcome that is too large or contradicts itself made `unknown`.

use crate::payments::mask::Masker;
use crate::payments::model::{
    ConnectorError, ErrorKind, Money, PaymentOutcome, PaymentRequest, PaymentState,
};

/// Knows the request's card data, to mask it in whatever comes back.
pub(crate) fn masker_for(request: &PaymentRequest) -> Masker {
    match request.method.card() {
        Some(card) => Masker::new(
            vec![card.number.expose().to_owned()],
            card.cvv.iter().map(|c| c.expose().to_owned()).collect(),
        ),
        None => Masker::default(),
    }
}

/// The most text an outcome may carry, in all its fields together.
const MAX_OUTCOME_BYTES: usize = 64 * 1024;
/// The most details an outcome may carry.
const MAX_DETAILS: usize = 256;

/// The longest supplier reference or code kept.
const MAX_IDENTIFIER: usize = 256;

/// `text` as an identifier: control and bidi characters escaped, cut to
/// [`MAX_IDENTIFIER`] characters (marked with `…`).
fn identifier(text: &str) -> String {
    let escaped = payhost_rules::text::escape(text);
    if escaped.chars().count() <= MAX_IDENTIFIER {
        return escaped.into_owned();
    }
    let mut cut: String = escaped.chars().take(MAX_IDENTIFIER - 1).collect();
    cut.push('…');
    cut
}

/// Masks card data in everything a connector returned, and refuses an
/// outcome that is too large or contradicts itself.
pub(crate) fn sanitize(mut outcome: PaymentOutcome, masker: &Masker, name: &str) -> PaymentOutcome {
    let size: usize = [
        &outcome.supplier_reference,
        &outcome.supplier_code,
        &outcome.supplier_message,
    ]
    .into_iter()
    .flatten()
    .map(String::len)
    .chain(
        outcome
            .error
            .iter()
            .map(|e| e.message.len() + e.supplier_code.as_ref().map_or(0, String::len)),
    )
    .chain(
        outcome
            .charged
            .iter()
            .map(|m| m.amount.len() + m.currency.len()),
    )
    .chain(outcome.details.iter().map(|(k, v)| k.len() + v.len()))
    .sum();
    if size > MAX_OUTCOME_BYTES || outcome.details.len() > MAX_DETAILS {
        tracing::warn!(
            connector = name,
            "returned an outcome of {size} bytes in {} details; refused",
            outcome.details.len()
        );
        return PaymentOutcome::host(
            PaymentState::Unknown,
            ConnectorError::host(
                ErrorKind::ConnectorFault,
                format!(
                    "connector `{name}` returned an outcome of {size} bytes and {} details (the limits are {MAX_OUTCOME_BYTES} bytes and {MAX_DETAILS} details); the payment's state is unknown",
                    outcome.details.len()
                ),
            ),
        );
    }
    let mask = |s: &mut String| {
        // Most fields hold no card data: only a masked one is replaced.
        if let std::borrow::Cow::Owned(masked) = masker.mask(s) {
            *s = masked;
        }
    };
    for field in [
        &mut outcome.supplier_reference,
        &mut outcome.supplier_code,
        &mut outcome.supplier_message,
    ]
    .into_iter()
    .flatten()
    {
        mask(field);
    }
    if let Some(error) = &mut outcome.error {
        mask(&mut error.message);
        if let Some(code) = &mut error.supplier_code {
            mask(code);
        }
    }
    for (k, v) in &mut outcome.details {
        mask(k);
        mask(v);
    }
    // A reference or a code is an identifier: printable, and short. One
    // that is not is kept escaped and cut, never as it came.
    for field in [&mut outcome.supplier_reference, &mut outcome.supplier_code]
        .into_iter()
        .flatten()
        .chain(
            outcome
                .error
                .iter_mut()
                .filter_map(|e| e.supplier_code.as_mut()),
        )
    {
        *field = identifier(field);
    }
    // An amount is a plain decimal; one that reads as a card number is a
    // card number, whatever its form.
    let charged_ok = outcome.charged.as_ref().is_none_or(|m| {
        Money::parse(&m.amount, &m.currency).is_ok() && masker.mask(&m.amount) == m.amount
    });
    let contradiction = match (outcome.state, &outcome.error) {
        (PaymentState::Succeeded | PaymentState::Pending, Some(_)) => {
            Some("reported success together with an error")
        }
        (PaymentState::Failed | PaymentState::Unknown, None) => {
            Some("reported a failure without an error")
        }
        _ if !charged_ok => Some(
            "reported a charged amount that is not a plain decimal with a currency code, or reads as a card number",
        ),
        _ => None,
    };
    if !charged_ok {
        // Neither shown nor stored: it may be card data.
        outcome.charged = None;
    }
    if let Some(what) = contradiction {
        // Conservative: the connector cannot be believed either way.
        outcome.state = PaymentState::Unknown;
        outcome.error = Some(ConnectorError::host(
            ErrorKind::ConnectorFault,
            format!("connector `{name}` {what}; the payment's state is unknown"),
        ));
    }
    outcome
}
