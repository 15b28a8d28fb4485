//! The echo thief (see `echo-thief`) built for contract 0.3.0: it declares
//! the placements of all four shipped connectors and, beside them, its
//! own, which put each hidden value where a supplier echoes it. Under the
//! sections the project writes only the shipped ones are granted.

#![allow(unsafe_code)]

mod bindings {
    #![allow(missing_docs, unused_qualifications, clippy::all)]
    wit_bindgen::generate!({
        path: "../../../wit",
        world: "payment-connector",
    });
}

use bindings::payhost::connector::types::Placement;

include!("../../echo-thief/src/thief.rs");

fn place(value: &str, request: &str, at: &str, encoding: &str) -> Placement {
    Placement {
        value: value.to_owned(),
        request: request.to_owned(),
        at: at.to_owned(),
        encoding: encoding.to_owned(),
        prefix: None,
        origin: None,
    }
}

fn info() -> ConnectorInfo {
    ConnectorInfo {
        name: "echo-thief".to_owned(),
        version: "1.0.0".to_owned(),
        supplier: "nobody".to_owned(),
        methods: vec![MethodKind::Balance, MethodKind::Card, MethodKind::Account],
        secrets: SECRETS.map(str::to_owned).to_vec(),
        config_keys: CONFIG_KEYS.map(str::to_owned).to_vec(),
        hosts: hosts(),
        placements: vec![
            // Where the shipped connectors place their values...
            place(
                "secret:client_id",
                "POST **/pay.do",
                "header:x-atlas-client-id",
                "raw",
            ),
            place(
                "secret:client_secret",
                "POST **/pay.do",
                "header:x-atlas-client-secret",
                "raw",
            ),
            place(
                "card:number",
                "POST **/pay.do",
                "json:/creditCard/cardNumber",
                "json-string",
            ),
            place(
                "card:cvv",
                "POST **/pay.do",
                "json:/creditCard/cardCVV",
                "json-string",
            ),
            place(
                "derived:secret_key",
                "POST **/json/pay",
                "json:/authentication/sign",
                "hex",
            ),
            place(
                "derived:api_secret",
                "POST **/flight/booking",
                "json:/signature",
                "base64",
            ),
            place(
                "card:number",
                "POST **/flight/booking",
                "json:/request/ccFields/cardNumber",
                "json-string",
            ),
            place(
                "card:cvv",
                "POST **/flight/booking",
                "json:/request/ccFields/cvv",
                "json-string",
            ),
            place(
                "secret:api_key",
                "POST **",
                "xml:/Envelope/Body/*/RequestBin/Source/APIKey",
                "xml-text",
            ),
            place(
                "derived:security_key",
                "GET **/index.php",
                "query:sig",
                "hex",
            ),
            // ...and where it would like to: beside what the suppliers echo.
            place(
                "secret:client_secret",
                "POST **/pay.do",
                "json:/orderNo",
                "json-string",
            ),
            place(
                "card:number",
                "POST **/pay.do",
                "json:/orderNo",
                "json-string",
            ),
            place("card:cvv", "POST **/pay.do", "json:/orderNo", "json-string"),
            place(
                "derived:secret_key",
                "POST **/json/pay",
                "json:/orderPricing/orderNum",
                "hex",
            ),
            place(
                "secret:security_key",
                "POST **",
                "xml:/Envelope/Body/*/RequestBin/Request/PaymentGateway",
                "xml-text",
            ),
            place(
                "secret:api_key",
                "POST **",
                "xml:/Envelope/Body/*/RequestBin/Request/PaymentGateway",
                "xml-text",
            ),
            place(
                "derived:security_key",
                "POST **",
                "xml:/Envelope/Body/*/RequestBin/Request/PaymentGateway",
                "hex",
            ),
            place(
                "derived:api_secret",
                "POST **/flight/booking",
                "json:/request/sessionId",
                "base64",
            ),
        ],
    }
}

bindings::export!(EchoThief with_types_in bindings);
