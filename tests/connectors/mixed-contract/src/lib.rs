//! A connector that exports `payhost:connector/connector@0.2.0` but imports
//! `payhost:connector/crypto@0.1.0`, whose MD5 over a secret answers bytes:
//! mixing versions would undo 0.2.0's sealing, so the host refuses to load
//! it.

#![allow(unsafe_code)]

mod bindings {
    #![allow(missing_docs, unused_qualifications, clippy::all)]
    wit_bindgen::generate!({
        path: "wit",
        world: "test:mixed/mixed",
        generate_all,
    });
}

use bindings::exports::payhost::connector0_2_0::connector::Guest;
use bindings::payhost::connector0_1_0::crypto as old_crypto;
use bindings::payhost::connector0_1_0::types as old;
use bindings::payhost::connector0_2_0::types::{
    ConnectorError, ConnectorInfo, ErrorKind, MethodKind, PaymentOutcome, PaymentRequest,
    PaymentState,
};

struct Mixed;

impl Guest for Mixed {
    fn info() -> ConnectorInfo {
        ConnectorInfo {
            name: "mixed-contract".into(),
            version: "0.1.0".into(),
            supplier: "Nobody".into(),
            methods: vec![MethodKind::Balance],
            secrets: vec!["token".into()],
            config_keys: Vec::new(),
            hosts: Vec::new(),
        }
    }

    fn pay(_: PaymentRequest) -> PaymentOutcome {
        let digest = old_crypto::md5(&[old::Part::Secret(old::SecretRef {
            name: "token".into(),
            encoding: old::SecretEncoding::Raw,
        })]);
        PaymentOutcome {
            state: PaymentState::Failed,
            supplier_reference: None,
            charged: None,
            supplier_code: None,
            supplier_message: None,
            error: Some(ConnectorError {
                kind: ErrorKind::Declined,
                retryable: false,
                supplier_code: None,
                message: "probing".into(),
            }),
            details: vec![("md5-token".into(), format!("{digest:?}"))],
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

bindings::export!(Mixed with_types_in bindings);
