//! HK Ramble `POST /json/pay`.
//!
//! Test inputs (order numbers): `HKR-<code>-…` answers that documented code
//! (`P001`, `S001`, `310`, `B002`…`B120`) or an undocumented one (`B999`);
//! anything else is an unpaid order that pays once, then answers `B112`.
//! The sign is checked as `md5(partnerId + secret key)`.

use super::{Fault, State, Supplier};
use crate::serve::{Answer, respond};
use md5::Digest;
use serde_json::{Value, json};

/// The documented `erroMsg` of each code.
fn message(code: &str) -> &'static str {
    match code {
        "0" => "ok",
        "P001" => "Wrong parameter",
        "S001" => "System error",
        "310" => "Retrieve PNR failed, please try again.",
        "B002" => "Partner is not exists",
        "B003" => "Illegal sign",
        "B009" => "Order status is invalid",
        "B010" => "The order was not found",
        "B026" => "Latest_tkt_time will be expired within 1 hour.",
        "B101" => "supplier status is invalid",
        "B102" => "Segment status is invalid.",
        "B103" => "No airline PNR existed, please try again.",
        "B104" => "Flight No. in PNR is not match with the one in the order",
        "B105" => "Passenger No. in PNR is not match with the one in the order",
        "B106" => "No price",
        "B107" => "Fare changed, and update order failed. Please try again.",
        "B108" => "Supplier has cross the day, fare is not guaranteed.",
        "B109" => "Supplier has cross the day, and price has changed",
        "B112" => "The order has been paid before, please update status accordingly.",
        "B113" => {
            "Filed fare in PNR is not match with the price in the order, and price has changed."
        }
        "B114" => "Flight changed",
        "B115" => "Latest_tkt_time has expired.",
        "B116" => "Price changed",
        "B117" => "Order Pricing failed",
        "B118" => "PNR status is invalid",
        "B119" => "Order Pricing failed, please try again",
        "B120" => "Order Pricing failed",
        _ => "Unknown error",
    }
}

fn error(code: &str) -> Answer {
    Ok(respond(
        200,
        "application/json",
        json!({ "errorCode": code, "errorMsg": message(code) }).to_string(),
    ))
}

pub(super) fn success(order: &str, currency: &str) -> String {
    json!({
        "errorCode": "0",
        "errorMsg": "ok",
        "data": {
            "pricingResult": {
                "solution": { "fareType": "PRIVATE", "currency": currency, "adtFare": 2862, "adtTax": 1211, "adults": 1, "children": 0, "infants": 0 },
                "flights": [{ "flightId": "f5deaeeae1538fb6c45901d524ee2f98", "journeyTime": 360, "transferCount": 1, "lastTktTime": "2023-11-09 13:47:00" }],
                "segments": [],
                "ancillary": []
            },
            "orderResult": { "orderNum": order, "pnr": format!("P{}", &format!("{:x}", md5::Md5::digest(order.as_bytes()))[..5].to_uppercase()) }
        }
    })
    .to_string()
}

pub(super) async fn handle(state: &State, body: &[u8]) -> Answer {
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return error("P001");
    };
    let pricing = &request["orderPricing"];
    let order = pricing["orderNum"].as_str().unwrap_or_default().to_owned();
    let currency = pricing["currency"].as_str().unwrap_or_default();
    if let Some(fault) = Fault::in_order(&order) {
        state.count(Supplier::HkRamble, &order);
        return fault
            .answer("application/json", &success(&order, currency))
            .await;
    }
    let auth = &request["authentication"];
    let partner = auth["partnerId"].as_str().unwrap_or_default();
    let creds = &state.credentials;
    if partner != creds.hk_partner_id {
        return error("B002");
    }
    let expected = format!(
        "{:x}",
        md5::Md5::digest(format!("{partner}{}", creds.hk_secret_key).as_bytes())
    );
    if auth["sign"].as_str() != Some(expected.as_str()) {
        return error("B003");
    }
    if order.is_empty() || currency.len() != 3 || !pricing["totalPrice"].is_number() {
        return error("P001");
    }
    state.count(Supplier::HkRamble, &order);
    if let Some(code) = order
        .strip_prefix("HKR-")
        .and_then(|r| r.split('-').next())
        .filter(|c| *c != "OK")
    {
        return error(code);
    }
    if state.settle(Supplier::HkRamble, &order) {
        return error("B112");
    }
    Ok(respond(200, "application/json", success(&order, currency)))
}
