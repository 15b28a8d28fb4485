//! The 0.3.0 twin of `legacy-probe`, built with wit-bindgen alone: the same
//! payment (a POST to `{base_url}/legacy` with the secret `token` in a
//! header and the MD5 of that secret as a signature header), but the
//! signature is sealed and the host writes it. The benchmark pays through
//! both to measure what sealing costs.

#![allow(unsafe_code)]

mod bindings {
    #![allow(missing_docs, unused_qualifications, clippy::all)]
    wit_bindgen::generate!({
        path: "../../../wit",
        world: "payment-connector",
    });
}

use bindings::exports::payhost::connector::connector::Guest;
use bindings::payhost::connector::crypto::{self, Output};
use bindings::payhost::connector::types::{
    ConnectorError, ConnectorInfo, Encoding, ErrorKind, MethodKind, Part, PaymentOutcome,
    PaymentRequest, PaymentState, SealedRef, SecretRef,
};
use bindings::payhost::connector::{config, http};

struct SealedProbe;

fn outcome(state: PaymentState, error: Option<ConnectorError>) -> PaymentOutcome {
    PaymentOutcome {
        state,
        supplier_reference: None,
        charged: None,
        supplier_code: None,
        supplier_message: None,
        error,
        details: Vec::new(),
    }
}

fn failed(kind: ErrorKind, message: String) -> PaymentOutcome {
    outcome(
        PaymentState::Failed,
        Some(ConnectorError {
            kind,
            retryable: false,
            supplier_code: None,
            message,
        }),
    )
}

fn token() -> Part<'static> {
    Part::Secret(SecretRef {
        name: "token".into(),
        encoding: Encoding::Raw,
    })
}

impl Guest for SealedProbe {
    fn info() -> ConnectorInfo {
        ConnectorInfo {
            name: "sealed-probe".into(),
            version: "0.2.0".into(),
            supplier: "Sealed test supplier".into(),
            methods: vec![MethodKind::Balance],
            secrets: vec!["token".into()],
            config_keys: vec!["base_url".into()],
            hosts: vec!["config:base_url".into()],
            placements: vec![],
        }
    }

    fn pay(request: PaymentRequest) -> PaymentOutcome {
        let Some(base) = config::get("base_url") else {
            return failed(ErrorKind::InvalidRequest, "base_url is not set".into());
        };
        let sign = match crypto::md5(&[token()]) {
            Ok(Output::Sealed(sign)) => sign,
            _ => return failed(ErrorKind::Denied, "no sealed signature".into()),
        };
        let body = format!(
            "{{\"order\":\"{}\",\"amount\":\"{}\",\"last4\":\"\"}}",
            request.order_id, request.amount.amount
        );
        let sent = http::send(&http::Request {
            method: http::Method::Post,
            url: vec![Part::Literal(
                format!("{}/legacy", base.trim_end_matches('/')).into_bytes(),
            )],
            headers: vec![
                http::Header {
                    name: "x-token".into(),
                    value: vec![token()],
                },
                http::Header {
                    name: "x-sign".into(),
                    value: vec![Part::Sealed(SealedRef {
                        value: &sign,
                        encoding: Encoding::Hex,
                    })],
                },
            ],
            body: vec![Part::Literal(body.into_bytes())],
            timeout_ms: None,
        });
        match sent {
            Ok(response) if (200..300).contains(&response.status) => {
                let mut done = outcome(PaymentState::Succeeded, None);
                done.supplier_reference = Some(format!("SEALED-{}", request.order_id));
                done
            }
            Ok(response) => outcome(
                PaymentState::Unknown,
                Some(ConnectorError {
                    kind: ErrorKind::Protocol,
                    retryable: false,
                    supplier_code: Some(response.status.to_string()),
                    message: "an answer that is not a success".into(),
                }),
            ),
            Err(e) => failed(ErrorKind::SupplierUnavailable, format!("{e:?}")),
        }
    }

    fn query(order_id: String) -> Result<PaymentOutcome, ConnectorError> {
        Err(ConnectorError {
            kind: ErrorKind::Unsupported,
            retryable: false,
            supplier_code: None,
            message: format!("cannot query {order_id}"),
        })
    }
}

bindings::export!(SealedProbe with_types_in bindings);
