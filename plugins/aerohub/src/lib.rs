//! payhost connector for AeroHub: `POST {base_url}/flight/booking` with the
//! envelope `{action, key, signature, timestamp, request}`, action
//! `SetPaymentToBooking`. `signature` is the Base64 of AES-256-CBC (zero IV,
//! PKCS#7) of `key + "&" + timestamp` under the API secret, made by the host
//! and written by it: the connector holds it sealed.

use payhost_sdk::answer::{Int, Number, Text};
use payhost_sdk::http::Request;
use payhost_sdk::json::Body;
use payhost_sdk::{
    Card, Code, Connector, ConnectorError, ConnectorInfo, Encoding, ErrorKind, MethodKind, Parts,
    PaymentMethod, PaymentOutcome, PaymentRequest, Placement, Sealed, clock, config, crypto,
    register_connector,
};

/// The AeroHub connector.
pub struct AeroHub;

// ---- building the request ----

/// AES-256-CBC of `key&timestamp` under the API secret, sealed: it is
/// written into the envelope as Base64.
fn signature(key: &str, timestamp: u64) -> Result<Sealed, ConnectorError> {
    let plaintext = Parts::new().text(format!("{key}&{timestamp}"));
    let secret = Parts::new().secret("api_secret", Encoding::Raw);
    let cipher = crypto::aes256_cbc_encrypt(&secret, &[0; 16], &plaintext).map_err(|e| {
        ConnectorError::new(ErrorKind::Denied, format!("cannot sign: {}", e.message()))
    })?;
    cipher.sealed().ok_or_else(|| {
        ConnectorError::new(
            ErrorKind::Denied,
            "cannot sign: the host answered a signature under the API secret unsealed",
        )
    })
}

/// AeroHub's `cardType`: 0 VISA, 1 MasterCard, 2 American Express,
/// 3 UnionPay, 4 JCB, 5 Diners Club, 6 UATP; from the `card-type` attribute
/// or else the prefix of the card number (its first six digits).
fn card_type(card: &Card, request: &PaymentRequest) -> Option<u8> {
    if let Some(t) = request.attribute("card-type").and_then(|t| t.parse().ok()) {
        return Some(t);
    }
    let n = card.first_six.as_str();
    let prefix2: u32 = n.get(..2).and_then(|p| p.parse().ok()).unwrap_or(0);
    let prefix4: u32 = n.get(..4).and_then(|p| p.parse().ok()).unwrap_or(0);
    match () {
        _ if n.starts_with('4') => Some(0),
        _ if (51..=55).contains(&prefix2) || (2221..=2720).contains(&prefix4) => Some(1),
        _ if prefix2 == 34 || prefix2 == 37 => Some(2),
        _ if prefix2 == 62 => Some(3),
        _ if (3528..=3589).contains(&prefix4) => Some(4),
        _ if prefix2 == 36 || prefix2 == 38 || (3000..=3059).contains(&prefix4) => Some(5),
        _ if n.starts_with('1') => Some(6),
        _ => None,
    }
}

/// The `request` member: what is paid and how, written into `body`.
fn payment(request: &PaymentRequest, body: &mut Body) -> Result<(), ConnectorError> {
    let session = request.attribute("session-id").unwrap_or(&request.order_id);
    body.str("sessionId", session);
    match &request.method {
        PaymentMethod::Balance => {
            body.str("paymentCode", "AAG");
        }
        PaymentMethod::Account(code) if code == "AAG" || code == "CAG" => {
            body.str("paymentCode", code);
        }
        PaymentMethod::Account(code) => {
            return Err(ConnectorError::new(
                ErrorKind::MethodNotSupported,
                format!("AeroHub accounts are AAG or CAG, not {code}"),
            ));
        }
        PaymentMethod::Card(card) => {
            body.str("paymentCode", "CC");
            // The number and the CVV are sealed: the host writes them as
            // JSON strings.
            body.object("ccFields", |fields| {
                fields
                    .str(
                        "expiration",
                        &format!("{:02}/{:02}", card.expiry_month, card.expiry_year % 100),
                    )
                    .str(
                        "holderName",
                        &format!("{} {}", card.holder_first_name, card.holder_last_name),
                    );
                match card_type(card, request) {
                    Some(t) => fields.uint("cardType", u64::from(t)),
                    None => fields.null("cardType"),
                };
                fields
                    .sealed("cardNumber", &card.number)
                    .opt_sealed("cvv", card.cvv.as_ref());
            });
        }
        PaymentMethod::MerchantOfRecord(_) => {
            return Err(ConnectorError::new(
                ErrorKind::MethodNotSupported,
                "AeroHub takes AAG, CAG or CC payments",
            ));
        }
    }
    if let Some(timeout) = request
        .attribute("timeout")
        .and_then(|t| t.parse::<u32>().ok())
    {
        body.uint("timeout", u64::from(timeout));
    }
    Ok(())
}

// ---- reading the answer ----

/// AeroHub's status codes (status code appendix), as one table: a general
/// or service system error does not say whether the payment was set, so it
/// is `unknown`, like an undocumented code.
fn map_status(status: i64) -> Code {
    match status {
        1001 | 1002 | 1004 => Code::failed(ErrorKind::InvalidRequest),
        1003 | 1006 => Code::failed(ErrorKind::SupplierUnavailable).retryable(),
        1000 | 1005 => Code::unknown(ErrorKind::SupplierUnavailable),
        1101 | 1102 => Code::failed(ErrorKind::AuthFailed),
        2301 => Code::failed(ErrorKind::MethodNotSupported),
        2024 => Code::failed(ErrorKind::Declined),
        _ => Code::unknown(ErrorKind::UnknownSupplierCode),
    }
}

/// The fields of AeroHub's answer the connector reads.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Answer<'a> {
    #[serde(default)]
    status: Int,
    #[serde(default, borrow)]
    msg: Text<'a>,
    #[serde(default, borrow)]
    content_status: Number<'a>,
    #[serde(default, borrow)]
    content_msg: Number<'a>,
    #[serde(default, borrow)]
    balance_due: Number<'a>,
    #[serde(default, borrow)]
    original_amount: Number<'a>,
    #[serde(default, borrow)]
    original_currency: Number<'a>,
    #[serde(default, borrow)]
    amount: Number<'a>,
    #[serde(default, borrow)]
    currency: Text<'a>,
}

fn outcome(response: &payhost_sdk::http::Response) -> PaymentOutcome {
    let Ok(answer) = response.object::<Answer>() else {
        return response.unreadable("not the JSON answer AeroHub documents");
    };
    let Some(status) = answer.status.get() else {
        return response.unreadable("the answer has no integer `status` (a plain literal)");
    };
    let message = answer.msg.to_owned_string();
    if status == 0 && !response.is_success() {
        return response.unreadable("a success status with an HTTP error status");
    }
    let mut outcome = if status == 0 {
        let mut ok = PaymentOutcome::succeeded().supplier("0", message);
        if let (Some(amount), Some(currency)) = (answer.amount.text(), answer.currency.get()) {
            ok = ok.charged(payhost_sdk::Money::new(amount, currency));
        }
        ok
    } else {
        map_status(status).said(status.to_string(), message)
    };
    for (key, value) in [
        ("contentStatus", &answer.content_status),
        ("contentMsg", &answer.content_msg),
        ("balanceDue", &answer.balance_due),
        ("originalAmount", &answer.original_amount),
        ("originalCurrency", &answer.original_currency),
    ] {
        if let Some(v) = value.text() {
            outcome = outcome.detail(key, v);
        }
    }
    outcome
}

impl Connector for AeroHub {
    fn info() -> ConnectorInfo {
        ConnectorInfo::new("aerohub", env!("CARGO_PKG_VERSION"), "AeroHub")
            .methods([MethodKind::Balance, MethodKind::Account, MethodKind::Card])
            .secrets(["api_secret"])
            .config_keys(["base_url", "api_key", "version"])
            .hosts(["config:base_url"])
            // Where each hidden value goes, from the supplier's documents: the
            // operator grants these (`payhost plugins inspect` prints them).
            .placements([
                Placement::new(
                    "derived:api_secret",
                    "POST **/flight/booking",
                    "json:/signature",
                    "base64",
                ),
                Placement::new(
                    "card:number",
                    "POST **/flight/booking",
                    "json:/request/ccFields/cardNumber",
                    "json-string",
                ),
                Placement::new(
                    "card:cvv",
                    "POST **/flight/booking",
                    "json:/request/ccFields/cvv",
                    "json-string",
                ),
            ])
    }

    fn pay(request: PaymentRequest) -> PaymentOutcome {
        let prepared = (|| {
            let base = config::require("base_url")?;
            let key = config::require("api_key")?;
            let timestamp = clock::unix_seconds();
            let signature = signature(&key, timestamp)?;
            let mut envelope = Body::new();
            envelope
                .str("action", "SetPaymentToBooking")
                .str("key", &key)
                .uint("timestamp", timestamp)
                .sealed_string("signature", &signature, Encoding::Base64);
            let mut paying = Ok(());
            envelope.object("request", |body| paying = payment(&request, body));
            paying?;
            if let Some(version) = config::get("version") {
                envelope.str("version", &version);
            }
            Ok::<_, ConnectorError>((base, envelope))
        })();
        let (base, envelope) = match prepared {
            Ok(p) => p,
            Err(e) => return PaymentOutcome::failed(e),
        };
        Request::post(format!("{}/flight/booking", base.trim_end_matches('/')))
            .json_body(envelope)
            .exchange(outcome)
    }
}

register_connector!(AeroHub);
