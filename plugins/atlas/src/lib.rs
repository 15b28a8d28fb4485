//! payhost connector for Atlas (atriptech): `POST {base_url}/pay.do`, JSON,
//! credentials in the `x-atlas-client-id` and `x-atlas-client-secret`
//! headers. Source: the supplier's "Payment" page (English and Chinese with
//! its OpenAPI document); see README.md for the code table and assumptions.

use payhost_sdk::answer::{Int, Text};
use payhost_sdk::http::Request;
use payhost_sdk::json::Body;
use payhost_sdk::{
    Card, Code, Connector, ConnectorError, ConnectorInfo, Encoding, ErrorKind, MethodKind, Parts,
    PaymentMethod, PaymentOutcome, PaymentRequest, Placement, config, register_connector,
};

/// The Atlas connector.
pub struct Atlas;

// ---- building the request ----

/// Atlas's `paymentMethod` numbers.
fn method_number(method: &PaymentMethod) -> u8 {
    match method {
        PaymentMethod::Balance => 1,
        PaymentMethod::Card(_) => 3,
        PaymentMethod::Account(_) => 4,
        PaymentMethod::MerchantOfRecord(_) => 5,
    }
}

/// The `creditCard` object: two-digit month and year, CVV `null` when
/// absent (the document asks for `null`, not `""`). The number and the CVV
/// are sealed: the host writes them as JSON strings.
fn credit_card(card: &Card, request: &PaymentRequest, object: &mut Body) {
    let address = card.billing_address.as_ref();
    object
        .str("cardExpireMonth", &format!("{:02}", card.expiry_month))
        .str("cardExpireYear", &format!("{:02}", card.expiry_year % 100))
        .str("cardHolderFirstName", &card.holder_first_name)
        .str("cardHolderLastName", &card.holder_last_name)
        .opt_str("cardHolderCountry", address.map(|a| a.country.as_str()))
        .opt_str(
            "cardHolderProvince",
            address.and_then(|a| a.region.as_deref()),
        )
        .opt_str("cardHolderCity", address.map(|a| a.city.as_str()))
        .opt_str(
            "cardHolderPostCode",
            address.and_then(|a| a.postal_code.as_deref()),
        )
        .opt_str("cardHolderAddress", address.map(|a| a.street.as_str()))
        .bool("reusable", card.reusable);
    if let Some(limit) = request
        .attribute("payment-limit")
        .and_then(|l| l.parse::<u64>().ok())
    {
        object.uint("paymentLimit", limit);
    }
    if let Some(ip) = request.attribute("three-ds-ip") {
        object.object("threeDS", |three_ds| {
            three_ds.str("ip", ip);
        });
    }
    object
        .sealed("cardNumber", &card.number)
        .opt_sealed("cardCVV", card.cvv.as_ref());
}

fn body(request: &PaymentRequest) -> Result<Body, ConnectorError> {
    let mut body = Body::new();
    body.str("orderNo", &request.order_id)
        .uint("paymentMethod", u64::from(method_number(&request.method)))
        .opt_str("clientOrderNo", request.client_order_id.as_deref())
        .opt_str("requestSource", config::get("request_source").as_deref());
    match &request.method {
        PaymentMethod::Card(card) => {
            if card.cvv.is_none() {
                return Err(ConnectorError::new(
                    ErrorKind::InvalidRequest,
                    "Atlas needs the CVV for a VCC passthrough payment",
                ));
            }
            body.object("creditCard", |object| credit_card(card, request, object));
        }
        PaymentMethod::MerchantOfRecord(card) => {
            body.object("creditCard", |object| credit_card(card, request, object));
        }
        PaymentMethod::Balance | PaymentMethod::Account(_) => {}
    }
    Ok(body)
}

fn secret(name: &str) -> Parts {
    Parts::new().secret(name, Encoding::Raw)
}

// ---- reading the answer ----

/// Atlas's `status` codes (supplier error guide), as one table. A payment
/// that may be under way or may have been taken is `unknown`, never `failed`.
fn map_status(status: i64) -> Code {
    match status {
        400 | 407 | 408 | 409 | 410 | 901 => Code::failed(ErrorKind::InvalidRequest),
        401 => Code::failed(ErrorKind::OrderExpired),
        402 | 404 => Code::failed(ErrorKind::AlreadyPaid),
        403 | 412 => Code::failed(ErrorKind::MethodNotSupported),
        405 | 415 => Code::failed(ErrorKind::InvalidOrderState),
        406 => Code::unknown(ErrorKind::InProgress),
        411 => Code::failed(ErrorKind::Declined),
        413 | 414 => Code::failed(ErrorKind::CardRejected),
        900 | 902 => Code::failed(ErrorKind::AuthFailed),
        9999 => Code::unknown(ErrorKind::SupplierUnavailable),
        _ => Code::unknown(ErrorKind::UnknownSupplierCode),
    }
}

/// The fields of Atlas's answer the connector reads.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Answer<'a> {
    #[serde(default)]
    status: Int,
    #[serde(default, borrow)]
    msg: Text<'a>,
    #[serde(default, borrow)]
    order_no: Text<'a>,
}

fn outcome(response: &payhost_sdk::http::Response) -> PaymentOutcome {
    let Ok(answer) = response.object::<Answer>() else {
        return response.unreadable("not the JSON answer Atlas documents");
    };
    // Success is `status == 0` and nothing else; `msg` is for people only.
    let Some(status) = answer.status.get() else {
        return response.unreadable("the answer has no integer `status` (a plain literal)");
    };
    let code = status.to_string();
    let message = answer.msg.to_owned_string();
    if status == 0 {
        if !response.is_success() {
            return response.unreadable("a success status with an HTTP error status");
        }
        return PaymentOutcome::succeeded()
            .supplier(code, message)
            .reference(answer.order_no.get().unwrap_or_default())
            .detail("ticketing", "pending");
    }
    map_status(status).said(code, message)
}

impl Connector for Atlas {
    fn info() -> ConnectorInfo {
        ConnectorInfo::new("atlas", env!("CARGO_PKG_VERSION"), "Atlas (atriptech)")
            .methods([
                MethodKind::Balance,
                MethodKind::Card,
                MethodKind::Account,
                MethodKind::MerchantOfRecord,
            ])
            .secrets(["client_id", "client_secret"])
            .config_keys(["base_url", "request_source"])
            .hosts([
                "https://sandbox.atriptech.com",
                "https://*.atriptech.com",
                "config:base_url",
            ])
            // Where each hidden value goes, from the supplier's documents: the
            // operator grants these (`payhost plugins inspect` prints them).
            .placements([
                Placement::new(
                    "secret:client_id",
                    "POST **/pay.do",
                    "header:x-atlas-client-id",
                    "raw",
                ),
                Placement::new(
                    "secret:client_secret",
                    "POST **/pay.do",
                    "header:x-atlas-client-secret",
                    "raw",
                ),
                Placement::new(
                    "card:number",
                    "POST **/pay.do",
                    "json:/creditCard/cardNumber",
                    "json-string",
                ),
                Placement::new(
                    "card:cvv",
                    "POST **/pay.do",
                    "json:/creditCard/cardCVV",
                    "json-string",
                ),
            ])
    }

    fn pay(request: PaymentRequest) -> PaymentOutcome {
        let base = match config::require("base_url") {
            Ok(base) => base,
            Err(e) => return PaymentOutcome::failed(e),
        };
        let body = match body(&request) {
            Ok(body) => body,
            Err(e) => return PaymentOutcome::failed(e),
        };
        Request::post(format!("{}/pay.do", base.trim_end_matches('/')))
            .header("accept", "application/json")
            .header("accept-encoding", "gzip")
            .header("x-atlas-client-id", secret("client_id"))
            .header("x-atlas-client-secret", secret("client_secret"))
            .json_body(body)
            .exchange(outcome)
    }
}

register_connector!(Atlas);

#[cfg(test)]
mod tests {
    use super::*;
    use payhost_sdk::testing::TestHost;
    use payhost_sdk::{Money, PaymentState};

    fn request(order: &str) -> PaymentRequest {
        PaymentRequest {
            order_id: order.to_owned(),
            client_order_id: None,
            method: PaymentMethod::Balance,
            amount: Money::new("312.99", "USD"),
            idempotency_key: "k-1".to_owned(),
            attributes: Vec::new(),
        }
    }

    fn host() -> TestHost {
        TestHost::new()
            .config("base_url", "https://sandbox.atriptech.com")
            .config("request_source", "unit-test")
            .secret("client_id", "test-id")
            .secret("client_secret", "test-secret")
    }

    #[test]
    fn status_0_is_paid_and_the_credentials_go_in_their_headers() {
        let host = host()
            .answer(200, r#"{"status":0,"msg":"success","orderNo":"ATL-1"}"#)
            .shared();
        let outcome = host.run(|| Atlas::pay(request("ATL-1")));
        assert_eq!(outcome.state, PaymentState::Succeeded);
        assert_eq!(outcome.supplier_reference.as_deref(), Some("ATL-1"));
        let sent = host.sent();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].url, "https://sandbox.atriptech.com/pay.do");
        assert_eq!(sent[0].header("x-atlas-client-id"), Some("test-id"));
        assert_eq!(sent[0].header("x-atlas-client-secret"), Some("test-secret"));
        let body = sent[0].json().unwrap();
        assert_eq!(body["orderNo"], "ATL-1");
        assert_eq!(body["paymentMethod"], 1);
        assert_eq!(body["requestSource"], "unit-test");
    }

    #[test]
    fn a_documented_refusal_is_failed_and_an_undocumented_code_unknown() {
        let host = host()
            .answer(200, r#"{"status":411,"msg":"declined"}"#)
            .answer(200, r#"{"status":777,"msg":"?"}"#)
            .shared();
        let declined = host.run(|| Atlas::pay(request("ATL-2")));
        assert_eq!(declined.state, PaymentState::Failed);
        assert_eq!(declined.error.unwrap().kind, ErrorKind::Declined);
        let odd = host.run(|| Atlas::pay(request("ATL-3")));
        assert_eq!(odd.state, PaymentState::Unknown);
    }
}
