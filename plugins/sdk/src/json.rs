//! JSON bodies with secrets in them, and exact decimal numbers.
//!
//! Put [`secret`] where a secret string belongs in a `serde_json::Value`; the
//! body sent carries the secret as a JSON string, escaped by the host.
//! Numbers keep their exact text both ways: use [`decimal`] to write an
//! amount as a JSON number without a float, and [`number_text`] to read one.

use crate::{Parts, SecretEncoding};
use serde_json::Value;

const MARK: &str = "\u{1}payhost-secret\u{1}";
const MARK_JSON: &str = "\"\\u0001payhost-secret\\u0001";
const END_JSON: &str = "\\u0001\"";

/// A JSON string value that stands for the secret `name`.
pub fn secret(name: &str) -> Value {
    Value::String(format!("{MARK}{name}\u{1}"))
}

/// A JSON number with exactly the text `amount` (`"312.99"` stays
/// `312.99`), or `None` when `amount` is not a plain decimal (see
/// [`crate::rules::amount::is_plain_decimal`]).
pub fn decimal(amount: &str) -> Option<Value> {
    if !payhost_rules::amount::is_plain_decimal(amount) {
        return None;
    }
    serde_json::from_str::<serde_json::Number>(amount)
        .ok()
        .map(Value::Number)
}

/// The exact text of a JSON number or string, for amounts read from a
/// supplier's answer (`59805.02` stays `"59805.02"`).
pub fn number_text(value: &Value) -> Option<String> {
    match value {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// A JSON number written as a plain integer (`0`, `404`, `-3`), or `None`
/// for anything else: a string, `0.0`, `-0`, `1e0`, or one too large.
/// Use it for status codes, so that only the literal `0` can mean success.
pub fn integer(value: &Value) -> Option<i64> {
    let Value::Number(n) = value else { return None };
    let text = n.to_string();
    let digits = text.strip_prefix('-').unwrap_or(&text);
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && text != "-0";
    if canonical { text.parse().ok() } else { None }
}

/// Serializes `value` to parts, turning every [`secret`] into a secret
/// reference written as a JSON string.
pub fn to_parts<T: serde::Serialize + ?Sized>(value: &T) -> Result<Parts, serde_json::Error> {
    let text = serde_json::to_string(value)?;
    let mut parts = Parts::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find(MARK_JSON) {
        let after = &rest[start + MARK_JSON.len()..];
        let Some(end) = after.find(END_JSON) else {
            break;
        };
        parts = parts
            .text(&rest[..start])
            .secret(&after[..end], SecretEncoding::JsonString);
        rest = &after[end + END_JSON.len()..];
    }
    Ok(parts.text(rest))
}
