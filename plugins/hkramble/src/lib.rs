//! payhost connector for HK Ramble: `POST {base_url}/json/pay`, JSON with
//! `authentication{partnerId, sign}` in the body, where `sign` is the
//! lower-case hex MD5 of the partner id followed by the secret key (an
//! assumption; see README.md).

use payhost_sdk::http::Request;
use payhost_sdk::{
    Connector, ConnectorError, ConnectorInfo, ErrorKind, MethodKind, Parts, PaymentMethod,
    PaymentOutcome, PaymentRequest, SecretEncoding, config, crypto, json, register_connector,
};
use serde_json::{Value, json};

/// The HK Ramble connector.
pub struct HkRamble;

// ---- building the request ----

/// `md5(partnerId + key)`, lower-case hex, computed by the host.
fn sign(partner_id: &str) -> Result<String, ConnectorError> {
    let input = Parts::new()
        .text(partner_id)
        .secret("secret_key", SecretEncoding::Raw);
    crypto::md5(&input)
        .map(|digest| crypto::hex(&digest))
        .map_err(|e| {
            ConnectorError::new(ErrorKind::Denied, format!("cannot sign: {}", e.message()))
        })
}

fn body(request: &PaymentRequest, partner_id: &str) -> Result<Value, ConnectorError> {
    let total = json::decimal(&request.amount.amount).ok_or_else(|| {
        ConnectorError::new(
            ErrorKind::InvalidRequest,
            format!("amount {} is not a plain decimal", request.amount.amount),
        )
    })?;
    Ok(json!({
        "authentication": { "partnerId": partner_id, "sign": sign(partner_id)? },
        "orderPricing": {
            "orderNum": request.order_id,
            "currency": request.amount.currency,
            "totalPrice": total,
        },
    }))
}

// ---- reading the answer ----

/// HK Ramble's `errorCode`s, as one table: (kind, retryable).
fn map_code(code: &str) -> (ErrorKind, bool) {
    match code {
        "P001" => (ErrorKind::InvalidRequest, false),
        "S001" | "310" | "B103" => (ErrorKind::SupplierUnavailable, true),
        "B002" | "B003" => (ErrorKind::AuthFailed, false),
        "B010" => (ErrorKind::OrderNotFound, false),
        "B026" | "B115" => (ErrorKind::OrderExpired, false),
        "B112" => (ErrorKind::AlreadyPaid, false),
        "B107" => (ErrorKind::PriceChanged, true),
        "B106" | "B109" | "B113" | "B116" => (ErrorKind::PriceChanged, false),
        "B009" | "B102" | "B104" | "B105" | "B108" | "B114" | "B118" => {
            (ErrorKind::InvalidOrderState, false)
        }
        "B101" | "B117" | "B120" => (ErrorKind::SupplierUnavailable, false),
        "B119" => (ErrorKind::SupplierUnavailable, true),
        _ => (ErrorKind::UnknownSupplierCode, false),
    }
}

fn outcome(response: &payhost_sdk::http::Response) -> PaymentOutcome {
    let Ok(answer) = response.json::<Value>() else {
        return response.unreadable("not the JSON answer HK Ramble documents");
    };
    // `errorCode` is documented as a string; anything else is not an answer we know.
    let Some(code) = answer
        .get("errorCode")
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        return response.unreadable("the answer has no string `errorCode`");
    };
    let message = answer
        .get("errorMsg")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if code == "0" {
        if !response.is_success() {
            return response.unreadable("a success code with an HTTP error status");
        }
        let order = &answer["data"]["orderResult"];
        let mut outcome = PaymentOutcome::succeeded().supplier(code, message);
        if let Some(pnr) = order.get("pnr").and_then(Value::as_str) {
            outcome = outcome.reference(pnr).detail("pnr", pnr);
        }
        if let Some(num) = order.get("orderNum").and_then(Value::as_str) {
            outcome = outcome.detail("order-num", num);
        }
        return outcome;
    }
    let (kind, retryable) = map_code(&code);
    let text = message.unwrap_or_else(|| format!("HK Ramble error {code}"));
    let error = ConnectorError::supplier(kind, code, text).retryable(retryable);
    if kind == ErrorKind::UnknownSupplierCode {
        PaymentOutcome::unknown(error)
    } else {
        PaymentOutcome::failed(error)
    }
}

impl Connector for HkRamble {
    fn info() -> ConnectorInfo {
        ConnectorInfo::new("hkramble", env!("CARGO_PKG_VERSION"), "HK Ramble")
            .methods([MethodKind::Balance])
            .secrets(["secret_key"])
            .config_keys(["base_url", "partner_id"])
            .hosts(["config:base_url"])
    }

    fn pay(request: PaymentRequest) -> PaymentOutcome {
        if !matches!(request.method, PaymentMethod::Balance) {
            return PaymentOutcome::failed(ConnectorError::new(
                ErrorKind::MethodNotSupported,
                "HK Ramble is paid from the partner's balance only",
            ));
        }
        let prepared = config::require("base_url").and_then(|base| {
            let partner = config::require("partner_id")?;
            Ok((base, body(&request, &partner)?))
        });
        let (base, body) = match prepared {
            Ok(p) => p,
            Err(e) => return PaymentOutcome::failed(e),
        };
        let sent = Request::post(format!("{}/json/pay", base.trim_end_matches('/'))).json(&body);
        match sent {
            Ok(request) => request.exchange(outcome),
            Err(e) => PaymentOutcome::failed(e),
        }
    }
}

register_connector!(HkRamble);
