//! The frozen 0.1.0 types to and from the current ones: a request goes in
//! as 0.1.0 had it (the card number in the clear), and what comes out is
//! turned into the 0.2.0 records the rest of the host reads.

use super::types as old;
use crate::contract::parts::{Encoding, Piece};
use crate::contract::types as wit;
use crate::payments::model::{Card, PaymentMethod, PaymentRequest};

fn card(card: &Card) -> old::Card {
    old::Card {
        number: card.number.expose().to_owned(),
        expiry_month: card.expiry_month,
        expiry_year: card.expiry_year,
        cvv: card.cvv.as_ref().map(|c| c.expose().to_owned()),
        holder_first_name: card.holder_first_name.clone(),
        holder_last_name: card.holder_last_name.clone(),
        billing_address: card.billing_address.as_ref().map(|a| old::BillingAddress {
            street: a.street.clone(),
            city: a.city.clone(),
            region: a.region.clone(),
            postal_code: a.postal_code.clone(),
            country: a.country.clone(),
        }),
        reusable: card.reusable,
    }
}

/// The pieces of 0.1.0 parts (literals and secrets; 0.1.0 has no sealed
/// values).
pub(crate) fn pieces(parts: &[old::Part]) -> Vec<Piece<'_>> {
    parts
        .iter()
        .map(|part| match part {
            old::Part::Literal(bytes) => Piece::Literal(bytes),
            old::Part::Secret(r) => Piece::Secret {
                name: &r.name,
                encoding: match r.encoding {
                    old::SecretEncoding::Raw => Encoding::Raw,
                    old::SecretEncoding::JsonString => Encoding::JsonString,
                    old::SecretEncoding::XmlText => Encoding::XmlText,
                    old::SecretEncoding::Url => Encoding::UrlComponent,
                },
            },
        })
        .collect()
}

/// The request as a 0.1.0 connector gets it.
pub(crate) fn request_to_legacy(r: &PaymentRequest) -> old::PaymentRequest {
    old::PaymentRequest {
        order_id: r.order_id.clone(),
        client_order_id: r.client_order_id.clone(),
        method: match &r.method {
            PaymentMethod::Balance => old::PaymentMethod::Balance,
            PaymentMethod::Card(c) => old::PaymentMethod::Card(card(c)),
            PaymentMethod::MerchantOfRecord(c) => old::PaymentMethod::MerchantOfRecord(card(c)),
            PaymentMethod::Account(a) => old::PaymentMethod::Account(a.clone()),
        },
        amount: old::Money {
            amount: r.amount.amount.clone(),
            currency: r.amount.currency.clone(),
        },
        idempotency_key: r.idempotency_key.clone(),
        attributes: r
            .attributes
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

impl From<old::MethodKind> for wit::MethodKind {
    fn from(kind: old::MethodKind) -> Self {
        match kind {
            old::MethodKind::Balance => wit::MethodKind::Balance,
            old::MethodKind::Card => wit::MethodKind::Card,
            old::MethodKind::MerchantOfRecord => wit::MethodKind::MerchantOfRecord,
            old::MethodKind::Account => wit::MethodKind::Account,
        }
    }
}

impl From<old::ConnectorInfo> for wit::ConnectorInfo {
    fn from(i: old::ConnectorInfo) -> Self {
        wit::ConnectorInfo {
            name: i.name,
            version: i.version,
            supplier: i.supplier,
            methods: i.methods.into_iter().map(Into::into).collect(),
            secrets: i.secrets,
            config_keys: i.config_keys,
            hosts: i.hosts,
            placements: Vec::new(),
        }
    }
}

impl From<old::ErrorKind> for wit::ErrorKind {
    fn from(kind: old::ErrorKind) -> Self {
        match kind {
            old::ErrorKind::InvalidRequest => wit::ErrorKind::InvalidRequest,
            old::ErrorKind::AuthFailed => wit::ErrorKind::AuthFailed,
            old::ErrorKind::OrderNotFound => wit::ErrorKind::OrderNotFound,
            old::ErrorKind::OrderExpired => wit::ErrorKind::OrderExpired,
            old::ErrorKind::InvalidOrderState => wit::ErrorKind::InvalidOrderState,
            old::ErrorKind::AlreadyPaid => wit::ErrorKind::AlreadyPaid,
            old::ErrorKind::InProgress => wit::ErrorKind::InProgress,
            old::ErrorKind::MethodNotSupported => wit::ErrorKind::MethodNotSupported,
            old::ErrorKind::CardRejected => wit::ErrorKind::CardRejected,
            old::ErrorKind::Declined => wit::ErrorKind::Declined,
            old::ErrorKind::PriceChanged => wit::ErrorKind::PriceChanged,
            old::ErrorKind::SupplierUnavailable => wit::ErrorKind::SupplierUnavailable,
            old::ErrorKind::UnknownSupplierCode => wit::ErrorKind::UnknownSupplierCode,
            old::ErrorKind::Protocol => wit::ErrorKind::Protocol,
            old::ErrorKind::Denied => wit::ErrorKind::Denied,
            old::ErrorKind::Timeout => wit::ErrorKind::Timeout,
            old::ErrorKind::Unsupported => wit::ErrorKind::Unsupported,
            old::ErrorKind::ConnectorFault => wit::ErrorKind::ConnectorFault,
        }
    }
}

impl From<old::ConnectorError> for wit::ConnectorError {
    fn from(e: old::ConnectorError) -> Self {
        wit::ConnectorError {
            kind: e.kind.into(),
            retryable: e.retryable,
            supplier_code: e.supplier_code,
            message: e.message,
        }
    }
}

impl From<old::PaymentOutcome> for wit::PaymentOutcome {
    fn from(o: old::PaymentOutcome) -> Self {
        wit::PaymentOutcome {
            state: match o.state {
                old::PaymentState::Succeeded => wit::PaymentState::Succeeded,
                old::PaymentState::Pending => wit::PaymentState::Pending,
                old::PaymentState::Failed => wit::PaymentState::Failed,
                old::PaymentState::Unknown => wit::PaymentState::Unknown,
            },
            supplier_reference: o.supplier_reference,
            charged: o.charged.map(|m| wit::Money {
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
