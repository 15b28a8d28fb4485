//! Atlas `POST /pay.do`.
//!
//! Test inputs (order numbers): `ATL-<status>-…` answers that status (any
//! documented code 400–415, 900–902, 9999, or an undocumented one such as
//! 777); `ATL-NOVCC-…` only takes deposit (VCC answers 403); anything else is
//! an unpaid order that pays once, then answers 404. Cards: the sandbox test
//! cards pay; another Luhn-valid card answers 411; a JCB card with MoR 413.

use super::{Fault, State, Supplier};
use crate::serve::{Answer, respond};
use hyper::HeaderMap;
use serde_json::{Value, json};

/// The sandbox test cards from the supplier's page.
pub const TEST_CARDS: [&str; 19] = [
    "4532015112830366",
    "4916931584764308",
    "4485275742308327",
    "4556737586899855",
    "4532644189324563",
    "5555555555554444",
    "5105105105105100",
    "5223456789012346",
    "5301250070000191",
    "5454545454545454",
    "378282246310005",
    "371449635398431",
    "340000000000009",
    "370000000000002",
    "375987654321001",
    "6011111111111117",
    "6011000990139424",
    "6011987612345678",
    "3566002020360505",
];

/// The message Atlas answers with each status.
fn message(status: i64) -> &'static str {
    match status {
        0 => "Success",
        400 => "Illegal request param",
        401 => "Later than the payment deadline",
        402 => "Order status does not support payment",
        403 => "Unsupported payment method",
        404 => "The order is already paid",
        405 => "Illegal order status",
        406 => "Payment operation is in progress",
        407 => "Some mandatory element for the passenger has not been submitted.",
        408 => "Passenger can not board alone",
        409 => "Additional baggage does not match the flight segment",
        410 => "The contact information is not in the correct format.",
        411 => "Some error happened with the payment gateway",
        412 => "No available payment methods",
        413 => "Card is not supported",
        414 => "Card mismatch",
        415 => "order is not confirmed by user",
        900 => "Invalid client id",
        901 => "Malformed JSON request",
        902 => "Invalid client secret",
        9999 => "System error",
        _ => "Unexpected error",
    }
}

fn answer(status: i64, order: &str, method: i64) -> Answer {
    let body = json!({ "status": status, "msg": message(status), "orderNo": order, "paymentMethod": method });
    Ok(respond(200, "application/json", body.to_string()))
}

fn luhn(number: &str) -> bool {
    let digits: Vec<u32> = number.chars().filter_map(|c| c.to_digit(10)).collect();
    if digits.len() != number.len() || digits.len() < 12 {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Checks the `creditCard` object as the OpenAPI document describes it;
/// `Err` is the status to answer.
fn check_card(card: &Value, method: i64) -> Result<&str, i64> {
    let text = |k: &str| card.get(k).and_then(Value::as_str);
    let number = text("cardNumber").ok_or(400)?;
    let month = text("cardExpireMonth").ok_or(400)?;
    let year = text("cardExpireYear").ok_or(400)?;
    text("cardHolderFirstName").ok_or(400)?;
    text("cardHolderLastName").ok_or(400)?;
    if !luhn(number) {
        return Err(400);
    }
    let two_digits = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !two_digits(month)
        || !two_digits(year)
        || !(1..=12).contains(&month.parse::<u8>().unwrap_or(0))
    {
        return Err(400);
    }
    // VCC needs the CVV; for MoR it may be null but never "".
    match card.get("cardCVV") {
        Some(Value::String(cvv)) if cvv.len() >= 3 => {}
        Some(Value::Null) | None if method == 5 => {}
        _ => return Err(400),
    }
    Ok(number)
}

pub(super) async fn handle(state: &State, headers: &HeaderMap, body: &[u8]) -> Answer {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let creds = &state.credentials;
    let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let order = request
        .get("orderNo")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let method = request
        .get("paymentMethod")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if let Some(fault) = Fault::in_order(&order) {
        state.count(Supplier::Atlas, &order);
        return fault
            .answer(
                "application/json",
                &json!({"status": 0, "msg": "Success", "orderNo": order, "paymentMethod": method})
                    .to_string(),
            )
            .await;
    }
    if header("x-atlas-client-id") != Some(creds.atlas_client_id.as_str()) {
        return answer(900, &order, method);
    }
    if header("x-atlas-client-secret") != Some(creds.atlas_client_secret.as_str()) {
        return answer(902, &order, method);
    }
    if request.is_null() {
        return answer(901, &order, method);
    }
    let content_type_ok = header("content-type").is_some_and(|c| c.starts_with("application/json"));
    if !content_type_ok
        || header("accept") != Some("application/json")
        || header("accept-encoding").is_none_or(|e| !e.contains("gzip"))
    {
        return answer(400, &order, method);
    }
    if order.is_empty() || ![1, 3, 4, 5].contains(&method) {
        return answer(400, &order, method);
    }
    state.count(Supplier::Atlas, &order);
    if let Some(status) = order
        .strip_prefix("ATL-")
        .and_then(|r| r.split('-').next())
        .and_then(|s| s.parse::<i64>().ok())
    {
        return answer(status, &order, method);
    }
    if method == 3 || method == 5 {
        let Some(card) = request.get("creditCard").filter(|c| c.is_object()) else {
            return answer(400, &order, method);
        };
        let number = match check_card(card, method) {
            Ok(n) => n,
            Err(status) => return answer(status, &order, method),
        };
        if method == 3 && order.starts_with("ATL-NOVCC-") {
            return answer(403, &order, method);
        }
        if method == 5 && number.starts_with("35") {
            return answer(413, &order, method);
        }
        if !TEST_CARDS.contains(&number) {
            return answer(411, &order, method);
        }
    }
    if state.settle(Supplier::Atlas, &order) {
        return answer(404, &order, method);
    }
    answer(0, &order, method)
}
