//! AeroHub `POST /flight/booking`, action `SetPaymentToBooking`.
//!
//! Test inputs (session ids): `AH-<status>-…` answers that documented status
//! (1000–1006, 1101, 1102, 2301, 2024) or an undocumented one (3333);
//! anything else is an unpaid booking that pays once, then answers 2024
//! ("booking already paid"). The signature is checked by encrypting
//! `key&timestamp` with the API secret, as the supplier does.

use super::{Fault, State, Supplier};
use crate::serve::{Answer, respond};
use aes::cipher::{BlockEncryptMut, KeyIvInit, block_padding::Pkcs7};
use base64::Engine as _;
use serde_json::{Value, json};

fn message(status: i64) -> &'static str {
    match status {
        0 => "Success",
        1000 => "General system error",
        1001 => "Request parameters or part of parameters missing",
        1002 => "Invalid Action",
        1003 => "API request timeout, please request again",
        1004 => "Invalid request parameter",
        1005 => "Service system error",
        1006 => "System busy, please try again",
        1101 => "Authentication fail, wrong signature",
        1102 => "Account disabled, please contact with account administrator",
        2301 => "Invalid payment methods",
        2024 => "Set payment failed",
        _ => "Unexpected error",
    }
}

fn error(status: i64) -> Answer {
    Ok(respond(
        200,
        "application/json",
        json!({ "status": status, "msg": message(status) }).to_string(),
    ))
}

/// The supplier's own signature: Base64(AES-256-CBC(secret, zero IV, `key&timestamp`)).
pub fn sign(secret: &[u8], key: &str, timestamp: &str) -> Option<String> {
    let cipher = cbc::Encryptor::<aes::Aes256>::new_from_slices(secret, &[0; 16]).ok()?;
    let bytes = cipher.encrypt_padded_vec_mut::<Pkcs7>(format!("{key}&{timestamp}").as_bytes());
    Some(base64::engine::general_purpose::STANDARD.encode(bytes))
}

pub(super) const SUCCESS: &str = r#"{ "status": 0, "originalAmount": 13320.00, "balanceDue": 13320.00, "originalCurrency": "TWD", "msg": "Success", "amount": 59805.02, "currency": "JPY", "contentStatus": 0, "contentMsg": "Success", "paymentDetails": [ { "type": 1, "desc": "orderPrice", "originalAmount": 211.08, "originalCurrency": "SGD", "amount": 146.52, "currency": "EUR" }, { "type": 2, "desc": "CreditCard PaymentFee", "originalAmount": 4.07, "originalCurrency": "SGD", "amount": 2.83, "currency": "EUR" } ] }"#;

pub(super) async fn handle(state: &State, body: &[u8]) -> Answer {
    let Ok(envelope) = serde_json::from_slice::<Value>(body) else {
        return error(1001);
    };
    let request = &envelope["request"];
    let session = request["sessionId"].as_str().unwrap_or_default().to_owned();
    if let Some(fault) = Fault::in_order(&session) {
        state.count(Supplier::AeroHub, &session);
        return fault.answer("application/json", SUCCESS).await;
    }
    if envelope["action"].as_str() != Some("SetPaymentToBooking") {
        return error(1002);
    }
    let creds = &state.credentials;
    let key = envelope["key"].as_str().unwrap_or_default();
    let timestamp = match &envelope["timestamp"] {
        Value::Number(n) if n.is_u64() => n.to_string(),
        _ => return error(1001),
    };
    if timestamp.len() != 10 {
        return error(1004);
    }
    let expected = sign(
        creds.aerohub_secret.as_bytes(),
        &creds.aerohub_key,
        &timestamp,
    );
    if key != creds.aerohub_key || envelope["signature"].as_str() != expected.as_deref() {
        return error(1101);
    }
    if session.is_empty() {
        return error(1001);
    }
    let code = request["paymentCode"].as_str().unwrap_or_default();
    match code {
        "AAG" | "CAG" => {}
        "CC" => {
            let cc = &request["ccFields"];
            let expiration = cc["expiration"].as_str().unwrap_or_default();
            let valid_expiration = expiration.len() == 5 && expiration.as_bytes()[2] == b'/';
            if cc["cardNumber"].as_str().is_none() || !valid_expiration || !cc["cardType"].is_u64()
            {
                return error(1004);
            }
        }
        "" => return error(1001),
        _ => return error(2301),
    }
    state.count(Supplier::AeroHub, &session);
    if let Some(status) = session
        .strip_prefix("AH-")
        .and_then(|r| r.split('-').next())
        .and_then(|s| s.parse::<i64>().ok())
    {
        return error(status);
    }
    if state.settle(Supplier::AeroHub, &session) {
        return Ok(respond(
            200,
            "application/json",
            json!({ "status": 2024, "msg": "Set payment failed: booking already paid" })
                .to_string(),
        ));
    }
    Ok(respond(200, "application/json", SUCCESS))
}
