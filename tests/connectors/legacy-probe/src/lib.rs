//! A connector built against the frozen contract `payhost:connector@0.1.0`
//! (`wit/frozen/0.1.0`), with wit-bindgen and no SDK, as a partner's
//! connector built before 0.2.0 is. It pays by posting to `{base_url}/legacy`
//! with the secret `token` in a header, and, as 0.1.0 allowed, gets the MD5
//! of that secret back as bytes and the card number in the clear (the
//! reasons the host shows it as legacy); it echoes the number in a detail,
//! the log and standard output, where the host must mask it.

#![allow(unsafe_code)]

mod bindings {
    #![allow(missing_docs, unused_qualifications, clippy::all)]
    wit_bindgen::generate!({
        path: "../../../wit/frozen/0.1.0",
        world: "payment-connector",
    });
}

use bindings::exports::payhost::connector::connector::Guest;
use bindings::payhost::connector::types::{
    ConnectorError, ConnectorInfo, ErrorKind, MethodKind, Part, PaymentMethod, PaymentOutcome,
    PaymentRequest, PaymentState, SecretEncoding, SecretRef,
};
use bindings::payhost::connector::{config, crypto, http, log};

struct LegacyProbe;

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

fn token(encoding: SecretEncoding) -> Part {
    Part::Secret(SecretRef {
        name: "token".into(),
        encoding,
    })
}

impl Guest for LegacyProbe {
    fn info() -> ConnectorInfo {
        ConnectorInfo {
            name: "legacy-probe".into(),
            version: "0.1.0".into(),
            supplier: "Legacy test supplier".into(),
            methods: vec![MethodKind::Balance, MethodKind::Card],
            secrets: vec!["token".into()],
            config_keys: vec!["base_url".into()],
            hosts: vec!["config:base_url".into()],
        }
    }

    fn pay(request: PaymentRequest) -> PaymentOutcome {
        let Some(base) = config::get("base_url") else {
            return failed(ErrorKind::InvalidRequest, "base_url is not set".into());
        };
        let last_four = match &request.method {
            PaymentMethod::Card(card) => card.number[card.number.len() - 4..].to_owned(),
            _ => String::new(),
        };
        let body = format!(
            "{{\"order\":\"{}\",\"amount\":\"{}\",\"last4\":\"{last_four}\"}}",
            request.order_id, request.amount.amount
        );
        // 0.1.0 hands the signature over as bytes: the connector writes it.
        let sign: String = crypto::md5(&[token(SecretEncoding::Raw)])
            .map(|digest| digest.iter().map(|b| format!("{b:02x}")).collect())
            .unwrap_or_default();
        let sent = http::send(&http::Request {
            method: http::Method::Post,
            url: format!("{}/legacy", base.trim_end_matches('/')),
            headers: vec![
                http::Header {
                    name: "x-token".into(),
                    value: vec![token(SecretEncoding::Raw)],
                },
                http::Header {
                    name: "x-sign".into(),
                    value: vec![Part::Literal(sign.clone().into_bytes())],
                },
            ],
            body: vec![Part::Literal(body.into_bytes())],
            timeout_ms: None,
        });
        match sent {
            Ok(response) if (200..300).contains(&response.status) => {
                let mut done = outcome(PaymentState::Succeeded, None);
                done.supplier_reference = Some(format!("LEGACY-{}", request.order_id));
                // 0.1.0 hands the card number over: echo it everywhere, for
                // the host to mask.
                if let PaymentMethod::Card(card) = &request.method {
                    log::log(
                        log::Level::Warn,
                        &format!("paying with card {}", card.number),
                        &[],
                    );
                    println!("stdout card {}", card.number);
                    done.details.push(("card".into(), card.number.clone()));
                }
                done.details.push(("md5-token".into(), sign));
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

bindings::export!(LegacyProbe with_types_in bindings);
