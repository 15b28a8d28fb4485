//! Conversions between the contract's generated types and the host's own, at
//! the sandbox wall: a request goes in (its card data sealed), an outcome,
//! an error or a method kind comes out.

use super::hidden::Hidden;
use super::parts::{Encoding, Piece};
use super::sealed::{CARD_NUMBER_BOUND, CVV_BOUND, SealedValue};
use super::types as wit;
use crate::payments::model::{
    Card, CardBrand, ConnectorError, ErrorKind, MethodKind, Money, PaymentMethod, PaymentOutcome,
    PaymentRequest, PaymentState,
};
use wasmtime::component::ResourceTable;

impl From<wit::ErrorKind> for ErrorKind {
    fn from(kind: wit::ErrorKind) -> Self {
        match kind {
            wit::ErrorKind::InvalidRequest => ErrorKind::InvalidRequest,
            wit::ErrorKind::AuthFailed => ErrorKind::AuthFailed,
            wit::ErrorKind::OrderNotFound => ErrorKind::OrderNotFound,
            wit::ErrorKind::OrderExpired => ErrorKind::OrderExpired,
            wit::ErrorKind::InvalidOrderState => ErrorKind::InvalidOrderState,
            wit::ErrorKind::AlreadyPaid => ErrorKind::AlreadyPaid,
            wit::ErrorKind::InProgress => ErrorKind::InProgress,
            wit::ErrorKind::MethodNotSupported => ErrorKind::MethodNotSupported,
            wit::ErrorKind::CardRejected => ErrorKind::CardRejected,
            wit::ErrorKind::Declined => ErrorKind::Declined,
            wit::ErrorKind::PriceChanged => ErrorKind::PriceChanged,
            wit::ErrorKind::SupplierUnavailable => ErrorKind::SupplierUnavailable,
            wit::ErrorKind::UnknownSupplierCode => ErrorKind::UnknownSupplierCode,
            wit::ErrorKind::Protocol => ErrorKind::Protocol,
            wit::ErrorKind::Denied => ErrorKind::Denied,
            wit::ErrorKind::Timeout => ErrorKind::Timeout,
            wit::ErrorKind::Unsupported => ErrorKind::Unsupported,
            wit::ErrorKind::ConnectorFault => ErrorKind::ConnectorFault,
        }
    }
}

/// The card as a 0.2.0 connector gets it: number and CVV sealed in `table`.
fn card_to_wit(card: &Card, table: &mut ResourceTable) -> wasmtime::Result<wit::Card> {
    let number = table.push(SealedValue::card_data(
        card.number.expose(),
        CARD_NUMBER_BOUND,
        Hidden::CardNumber,
    ))?;
    let cvv = match &card.cvv {
        Some(cvv) => {
            Some(table.push(SealedValue::card_data(cvv.expose(), CVV_BOUND, Hidden::Cvv))?)
        }
        None => None,
    };
    Ok(wit::Card {
        number,
        brand: match card.brand() {
            CardBrand::Visa => wit::CardBrand::Visa,
            CardBrand::Mastercard => wit::CardBrand::Mastercard,
            CardBrand::Amex => wit::CardBrand::Amex,
            CardBrand::Discover => wit::CardBrand::Discover,
            CardBrand::Jcb => wit::CardBrand::Jcb,
            CardBrand::UnionPay => wit::CardBrand::Unionpay,
            CardBrand::Diners => wit::CardBrand::Diners,
            CardBrand::Mir => wit::CardBrand::Mir,
            CardBrand::Other => wit::CardBrand::Other,
        },
        first_six: card.first_six().to_owned(),
        last_four: card.last_four().to_owned(),
        expiry_month: card.expiry_month,
        expiry_year: card.expiry_year,
        cvv,
        holder_first_name: card.holder_first_name.clone(),
        holder_last_name: card.holder_last_name.clone(),
        billing_address: card.billing_address.as_ref().map(|a| wit::BillingAddress {
            street: a.street.clone(),
            city: a.city.clone(),
            region: a.region.clone(),
            postal_code: a.postal_code.clone(),
            country: a.country.clone(),
        }),
        reusable: card.reusable,
    })
}

/// The request as a 0.2.0 connector gets it; card data is sealed in `table`.
pub(crate) fn request_to_wit(
    r: &PaymentRequest,
    table: &mut ResourceTable,
) -> wasmtime::Result<wit::PaymentRequest> {
    Ok(wit::PaymentRequest {
        order_id: r.order_id.clone(),
        client_order_id: r.client_order_id.clone(),
        method: match &r.method {
            PaymentMethod::Balance => wit::PaymentMethod::Balance,
            PaymentMethod::Card(c) => wit::PaymentMethod::Card(card_to_wit(c, table)?),
            PaymentMethod::MerchantOfRecord(c) => {
                wit::PaymentMethod::MerchantOfRecord(card_to_wit(c, table)?)
            }
            PaymentMethod::Account(a) => wit::PaymentMethod::Account(a.clone()),
        },
        amount: wit::Money {
            amount: r.amount.amount.clone(),
            currency: r.amount.currency.clone(),
        },
        idempotency_key: r.idempotency_key.clone(),
        attributes: r
            .attributes
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    })
}

/// The pieces of 0.2.0 parts, sealed handles looked up in the call's table.
pub(crate) fn pieces<'p>(
    table: &'p ResourceTable,
    parts: &'p [wit::Part],
) -> wasmtime::Result<Vec<Piece<'p>>> {
    parts
        .iter()
        .map(|part| {
            Ok(match part {
                wit::Part::Literal(bytes) => Piece::Literal(bytes),
                wit::Part::Secret(r) => Piece::Secret {
                    name: &r.name,
                    encoding: to_encoding(r.encoding),
                },
                wit::Part::Sealed(r) => Piece::Sealed {
                    value: table.get::<SealedValue>(&r.value)?,
                    encoding: to_encoding(r.encoding),
                },
            })
        })
        .collect()
}

/// The host's encoding for the contract's.
pub(crate) fn to_encoding(encoding: wit::Encoding) -> Encoding {
    match encoding {
        wit::Encoding::Raw => Encoding::Raw,
        wit::Encoding::Hex => Encoding::Hex,
        wit::Encoding::HexUpper => Encoding::HexUpper,
        wit::Encoding::Base64 => Encoding::Base64,
        wit::Encoding::Base64url => Encoding::Base64Url,
        wit::Encoding::JsonString => Encoding::JsonString,
        wit::Encoding::XmlText => Encoding::XmlText,
        wit::Encoding::UrlComponent => Encoding::UrlComponent,
    }
}

impl From<wit::MethodKind> for MethodKind {
    fn from(kind: wit::MethodKind) -> Self {
        match kind {
            wit::MethodKind::Balance => MethodKind::Balance,
            wit::MethodKind::Card => MethodKind::Card,
            wit::MethodKind::MerchantOfRecord => MethodKind::MerchantOfRecord,
            wit::MethodKind::Account => MethodKind::Account,
        }
    }
}

impl From<wit::ConnectorError> for ConnectorError {
    fn from(e: wit::ConnectorError) -> Self {
        ConnectorError {
            kind: e.kind.into(),
            retryable: e.retryable,
            supplier_code: e.supplier_code,
            message: e.message,
        }
    }
}

impl From<wit::PaymentOutcome> for PaymentOutcome {
    fn from(o: wit::PaymentOutcome) -> Self {
        PaymentOutcome {
            state: match o.state {
                wit::PaymentState::Succeeded => PaymentState::Succeeded,
                wit::PaymentState::Pending => PaymentState::Pending,
                wit::PaymentState::Failed => PaymentState::Failed,
                wit::PaymentState::Unknown => PaymentState::Unknown,
            },
            supplier_reference: o.supplier_reference,
            charged: o.charged.map(|m| Money {
                amount: m.amount,
                currency: m.currency,
            }),
            supplier_code: o.supplier_code,
            supplier_message: o.supplier_message,
            error: o.error.map(Into::into),
            details: o.details,
        }
    }
}
