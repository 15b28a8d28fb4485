//! payhost connector for HK Ramble: `POST {base_url}/json/pay`, JSON with
//! `authentication{partnerId, sign}` in the body, where `sign` is the
//! lower-case hex MD5 of the partner id followed by the secret key (an
//! assumption; see README.md). The host computes the MD5 and writes it: the
//! connector holds it sealed.

use payhost_sdk::answer::{Object, Text};
use payhost_sdk::http::Request;
use payhost_sdk::json::Body;
use payhost_sdk::{
    Code, Connector, ConnectorError, ConnectorInfo, Encoding, ErrorKind, MethodKind, Parts,
    PaymentMethod, PaymentOutcome, PaymentRequest, Placement, Sealed, config, crypto, json,
    register_connector,
};

/// The HK Ramble connector.
pub struct HkRamble;

// ---- building the request ----

/// `md5(partnerId + key)`, computed by the host and sealed: it is written
/// into the body as lower-case hex.
fn sign(partner_id: &str) -> Result<Sealed, ConnectorError> {
    let input = Parts::new()
        .text(partner_id)
        .secret("secret_key", Encoding::Raw);
    let digest = crypto::md5(&input).map_err(|e| {
        ConnectorError::new(ErrorKind::Denied, format!("cannot sign: {}", e.message()))
    })?;
    digest.sealed().ok_or_else(|| {
        ConnectorError::new(
            ErrorKind::Denied,
            "cannot sign: the host answered a signature over the secret key unsealed",
        )
    })
}

fn body(request: &PaymentRequest, partner_id: &str) -> Result<Body, ConnectorError> {
    // A bad amount is refused before anything is signed.
    json::decimal(&request.amount.amount)?;
    let sign = sign(partner_id)?;
    let mut body = Body::new();
    body.object("authentication", |auth| {
        auth.str("partnerId", partner_id)
            .sealed_string("sign", &sign, Encoding::Hex);
    });
    let mut pricing = Ok(());
    body.object("orderPricing", |order| {
        order
            .str("orderNum", &request.order_id)
            .str("currency", &request.amount.currency);
        pricing = order
            .decimal("totalPrice", &request.amount.amount)
            .map(|_| ());
    });
    pricing.map(|()| body)
}

// ---- reading the answer ----

/// HK Ramble's `errorCode`s, as one table: every documented code is a
/// refusal (`failed`); an undocumented one is `unknown`.
fn map_code(code: &str) -> Code {
    match code {
        "P001" => Code::failed(ErrorKind::InvalidRequest),
        "S001" | "310" | "B103" => Code::failed(ErrorKind::SupplierUnavailable).retryable(),
        "B002" | "B003" => Code::failed(ErrorKind::AuthFailed),
        "B010" => Code::failed(ErrorKind::OrderNotFound),
        "B026" | "B115" => Code::failed(ErrorKind::OrderExpired),
        "B112" => Code::failed(ErrorKind::AlreadyPaid),
        "B107" => Code::failed(ErrorKind::PriceChanged).retryable(),
        "B106" | "B109" | "B113" | "B116" => Code::failed(ErrorKind::PriceChanged),
        "B009" | "B102" | "B104" | "B105" | "B108" | "B114" | "B118" => {
            Code::failed(ErrorKind::InvalidOrderState)
        }
        "B101" | "B117" | "B120" => Code::failed(ErrorKind::SupplierUnavailable),
        "B119" => Code::failed(ErrorKind::SupplierUnavailable).retryable(),
        _ => Code::unknown(ErrorKind::UnknownSupplierCode),
    }
}

/// The fields of HK Ramble's answer the connector reads.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Answer<'a> {
    #[serde(default, borrow)]
    error_code: Text<'a>,
    #[serde(default, borrow)]
    error_msg: Text<'a>,
    #[serde(default, borrow)]
    data: Object<Data<'a>>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Data<'a> {
    #[serde(default, borrow)]
    order_result: Object<OrderResult<'a>>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderResult<'a> {
    #[serde(default, borrow)]
    pnr: Text<'a>,
    #[serde(default, borrow)]
    order_num: Text<'a>,
}

fn outcome(response: &payhost_sdk::http::Response) -> PaymentOutcome {
    let Ok(answer) = response.object::<Answer>() else {
        return response.unreadable("not the JSON answer HK Ramble documents");
    };
    // `errorCode` is documented as a string; anything else is not an answer we know.
    let Some(code) = answer.error_code.to_owned_string() else {
        return response.unreadable("the answer has no string `errorCode`");
    };
    let message = answer.error_msg.to_owned_string();
    if code == "0" {
        if !response.is_success() {
            return response.unreadable("a success code with an HTTP error status");
        }
        let order = answer.data.get().and_then(|d| d.order_result.get());
        let mut outcome = PaymentOutcome::succeeded().supplier(code, message);
        if let Some(pnr) = order.and_then(|o| o.pnr.get()) {
            outcome = outcome.reference(pnr).detail("pnr", pnr);
        }
        if let Some(num) = order.and_then(|o| o.order_num.get()) {
            outcome = outcome.detail("order-num", num);
        }
        return outcome;
    }
    map_code(&code).said(code.clone(), message)
}

impl Connector for HkRamble {
    fn info() -> ConnectorInfo {
        ConnectorInfo::new("hkramble", env!("CARGO_PKG_VERSION"), "HK Ramble")
            .methods([MethodKind::Balance])
            .secrets(["secret_key"])
            .config_keys(["base_url", "partner_id"])
            .hosts(["config:base_url"])
            // Where each hidden value goes, from the supplier's documents: the
            // operator grants these (`payhost plugins inspect` prints them).
            .placements([Placement::new(
                "derived:secret_key",
                "POST **/json/pay",
                "json:/authentication/sign",
                "hex",
            )])
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
        Request::post(format!("{}/json/pay", base.trim_end_matches('/')))
            .json_body(body)
            .exchange(outcome)
    }
}

register_connector!(HkRamble);
