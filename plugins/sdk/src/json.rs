//! JSON bodies with secrets and sealed values in them, and exact decimal
//! numbers.
//!
//! Build a body as a [`Json`] value: plain values come from
//! `serde_json::Value` (or `&str`, numbers, …) and are written as
//! `serde_json` writes them; a secret is a [`Json::secret`] leaf and a
//! sealed value a [`Json::sealed`] or [`Json::sealed_string`] leaf, which
//! become parts the host fills in. No string, however it reads, is ever
//! taken for a secret: only these typed leaves are.
//!
//! ```
//! # use payhost_sdk::{Encoding, Parts, Sealed, crypto, http::Request, json::Json};
//! # let host = payhost_sdk::testing::TestHost::new().secret("key", "k").shared();
//! # host.run(|| {
//! # let (order, url) = ("O-1", "https://supplier.test/pay");
//! # struct Card { number: Sealed }
//! # let card = Card { number: Sealed::native(b"4111111111111111".to_vec()) };
//! # let sign = crypto::md5(&Parts::new().text(order).secret("key", Encoding::Raw)).unwrap().sealed().unwrap();
//! let body = Json::from(serde_json::json!({ "orderNo": order }))
//!     .set("token", Json::secret("token"))
//!     .set("cardNumber", Json::sealed(&card.number))
//!     .set("sign", Json::sealed_string(&sign, Encoding::Hex));
//! let request = Request::post(url).json(body);
//! # });
//! ```
//!
//! Numbers keep their exact text both ways: use [`decimal`] to write an
//! amount as a JSON number without a float, and [`number_text`] to read one.
//! Object keys are written in sorted order, as `serde_json` writes a `Value`.

mod body;

pub use body::Body;

use crate::{Encoding, Parts, Sealed};
use serde_json::Value;
use std::collections::BTreeMap;

/// A JSON value whose leaves may be secrets or sealed values.
#[derive(Debug, Clone, Default)]
pub enum Json {
    /// `null`.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, written with exactly its text.
    Number(serde_json::Number),
    /// A string, escaped as `serde_json` escapes it.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object; its keys are written in sorted order.
    Object(BTreeMap<String, Json>),
    /// The secret `name`, written with `encoding` where the value stands:
    /// with [`Encoding::JsonString`] (what [`Json::secret`] makes) it is a
    /// complete JSON string, quotes included.
    Secret {
        /// The secret's name.
        name: String,
        /// How the host writes it; anything but `json-string` must make
        /// valid JSON where it stands by itself.
        encoding: Encoding,
    },
    /// A sealed value, written with the encoding where the value stands:
    /// with [`Encoding::JsonString`] (what [`Json::sealed`] makes) it is a
    /// complete JSON string, quotes included.
    Sealed(Sealed, Encoding),
    /// A sealed value inside a JSON string: `"`, the value written with an
    /// encoding whose output needs no escaping in JSON (`hex`, `hex-upper`,
    /// `base64`, `base64url`, `url-component`), `"`. Made by
    /// [`Json::sealed_string`].
    SealedString(Sealed, Encoding),
}

impl Json {
    /// An empty object, to fill with [`Json::set`].
    pub fn object() -> Json {
        Json::Object(BTreeMap::new())
    }

    /// The secret `name` as a JSON string (escaped by the host).
    pub fn secret(name: impl Into<String>) -> Json {
        Json::Secret {
            name: name.into(),
            encoding: Encoding::JsonString,
        }
    }

    /// A sealed value as a JSON string (escaped by the host): a card
    /// number, a CVV.
    pub fn sealed(value: &Sealed) -> Json {
        Json::Sealed(value.clone(), Encoding::JsonString)
    }

    /// A sealed value as a JSON string whose content is the value written
    /// with `encoding`: `Json::sealed_string(&sign, Encoding::Hex)` is
    /// `"9f3a…"`. For `hex`, `hex-upper`, `base64`, `base64url` and
    /// `url-component` the quotes are written around the host's output;
    /// `json-string`, `raw` and `xml-text` (whose output JSON would have to
    /// escape) are written as `json-string`, the bytes as a JSON string.
    pub fn sealed_string(value: &Sealed, encoding: Encoding) -> Json {
        if quotable(encoding) {
            Json::SealedString(value.clone(), encoding)
        } else {
            Json::Sealed(value.clone(), Encoding::JsonString)
        }
    }

    /// Sets `key` to `value` and returns the object. `null` becomes an
    /// object first; any other value that is not an object panics, as
    /// indexing a `serde_json::Value` does.
    pub fn set(mut self, key: impl Into<String>, value: impl Into<Json>) -> Json {
        self.insert(key, value);
        self
    }

    /// Sets `key` to `value`, returning the value it replaces. `null`
    /// becomes an object first; any other value that is not an object
    /// panics, as indexing a `serde_json::Value` does.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<Json>) -> Option<Json> {
        if matches!(self, Json::Null) {
            *self = Json::object();
        }
        match self {
            Json::Object(map) => map.insert(key.into(), value.into()),
            other => panic!("cannot set a key in a JSON {}", other.kind()),
        }
    }

    /// The value of `key`, when this is an object that has it.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(map) => map.get(key),
            _ => None,
        }
    }

    /// The value of `key` to change, when this is an object that has it.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Json> {
        match self {
            Json::Object(map) => map.get_mut(key),
            _ => None,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "boolean",
            Json::Number(_) => "number",
            Json::String(_) => "string",
            Json::Array(_) => "array",
            Json::Object(_) => "object",
            Json::Secret { .. } => "secret",
            Json::Sealed(..) | Json::SealedString(..) => "sealed value",
        }
    }

    /// The value written as compact JSON, the secrets and sealed values as
    /// parts the host fills in.
    pub fn to_parts(&self) -> Parts {
        let mut writer = Writer::default();
        writer.value(self);
        writer.finish()
    }
}

/// Whether what `encoding` writes needs no escaping inside a JSON string
/// (`hex`, `hex-upper`, `base64`, `base64url`, `url-component`): such a
/// sealed value may stand between quotes as it is.
pub(crate) fn quotable(encoding: Encoding) -> bool {
    matches!(
        encoding,
        Encoding::Hex
            | Encoding::HexUpper
            | Encoding::Base64
            | Encoding::Base64url
            | Encoding::UrlComponent
    )
}

/// Writes literal text into a buffer and flushes it into parts before each
/// secret or sealed value.
#[derive(Default)]
struct Writer {
    parts: Parts,
    text: String,
}

impl Writer {
    fn flush(&mut self) {
        if !self.text.is_empty() {
            self.parts = std::mem::take(&mut self.parts).text(&self.text);
            self.text.clear();
        }
    }

    fn finish(mut self) -> Parts {
        self.flush();
        self.parts
    }

    fn string(&mut self, s: &str) {
        // Writing a string into a `String` cannot fail.
        self.text
            .push_str(&serde_json::to_string(s).unwrap_or_default());
    }

    fn value(&mut self, value: &Json) {
        match value {
            Json::Null => self.text.push_str("null"),
            Json::Bool(b) => self.text.push_str(if *b { "true" } else { "false" }),
            Json::Number(n) => self.text.push_str(&n.to_string()),
            Json::String(s) => self.string(s),
            Json::Array(items) => {
                self.text.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.text.push(',');
                    }
                    self.value(item);
                }
                self.text.push(']');
            }
            Json::Object(map) => {
                self.text.push('{');
                for (i, (key, item)) in map.iter().enumerate() {
                    if i > 0 {
                        self.text.push(',');
                    }
                    self.string(key);
                    self.text.push(':');
                    self.value(item);
                }
                self.text.push('}');
            }
            Json::Secret { name, encoding } => {
                self.flush();
                self.parts = std::mem::take(&mut self.parts).secret(name.as_str(), *encoding);
            }
            Json::Sealed(sealed, encoding) => {
                self.flush();
                self.parts = std::mem::take(&mut self.parts).sealed(sealed, *encoding);
            }
            Json::SealedString(sealed, encoding) => {
                self.text.push('"');
                self.flush();
                self.parts = std::mem::take(&mut self.parts).sealed(sealed, *encoding);
                self.text.push('"');
            }
        }
    }
}

impl From<Value> for Json {
    fn from(value: Value) -> Self {
        match value {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(b),
            Value::Number(n) => Json::Number(n),
            Value::String(s) => Json::String(s),
            Value::Array(items) => Json::Array(items.into_iter().map(Json::from).collect()),
            Value::Object(map) => {
                Json::Object(map.into_iter().map(|(k, v)| (k, Json::from(v))).collect())
            }
        }
    }
}

impl From<&Value> for Json {
    fn from(value: &Value) -> Self {
        Json::from(value.clone())
    }
}

impl From<&Json> for Json {
    fn from(value: &Json) -> Self {
        value.clone()
    }
}

impl From<&str> for Json {
    fn from(text: &str) -> Self {
        Json::String(text.to_owned())
    }
}

impl From<String> for Json {
    fn from(text: String) -> Self {
        Json::String(text)
    }
}

impl From<&String> for Json {
    fn from(text: &String) -> Self {
        Json::String(text.clone())
    }
}

impl From<bool> for Json {
    fn from(b: bool) -> Self {
        Json::Bool(b)
    }
}

macro_rules! from_integer {
    ($($t:ty),*) => {$(
        impl From<$t> for Json {
            fn from(n: $t) -> Self {
                Json::Number(n.into())
            }
        }
    )*};
}

from_integer!(u8, u16, u32, u64, i8, i16, i32, i64);

impl From<serde_json::Number> for Json {
    fn from(n: serde_json::Number) -> Self {
        Json::Number(n)
    }
}

impl<T: Into<Json>> From<Option<T>> for Json {
    fn from(value: Option<T>) -> Self {
        value.map_or(Json::Null, Into::into)
    }
}

impl<T: Into<Json>> From<Vec<T>> for Json {
    fn from(items: Vec<T>) -> Self {
        Json::Array(items.into_iter().map(Into::into).collect())
    }
}

/// A JSON number with exactly the text `amount` (`"312.99"` stays
/// `312.99`). An amount that is not a plain decimal (see
/// [`crate::rules::amount::is_plain_decimal`]) is an `invalid-request`
/// error, so it can never go out as `null`: use it with `?`.
pub fn decimal(amount: &str) -> Result<Value, crate::ConnectorError> {
    let invalid = || {
        crate::ConnectorError::new(
            crate::ErrorKind::InvalidRequest,
            format!(
                "amount `{}` is not a plain decimal like 312.99",
                amount.escape_debug()
            ),
        )
    };
    if !payhost_rules::amount::is_plain_decimal(amount) {
        return Err(invalid());
    }
    serde_json::from_str::<serde_json::Number>(amount)
        .map(Value::Number)
        .map_err(|_| invalid())
}

/// A JSON string with exactly the text `amount` (`"312.99"`), for a
/// supplier that wants its amounts quoted. Like [`decimal`], an amount
/// that is not a plain decimal is an `invalid-request` error.
pub fn decimal_string(amount: &str) -> Result<Value, crate::ConnectorError> {
    decimal(amount).map(|_| Value::String(amount.to_owned()))
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
    crate::answer::plain_integer(&n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parts::Part;
    use serde_json::json;

    #[test]
    fn an_amount_goes_out_as_a_number_or_a_string_with_its_exact_text() {
        assert_eq!(decimal("312.99").unwrap().to_string(), "312.99");
        assert_eq!(decimal_string("312.90").unwrap(), json!("312.90"));
        for bad in ["312,99", "1e3", "-1", ""] {
            assert!(decimal(bad).is_err(), "{bad}");
            assert!(decimal_string(bad).is_err(), "{bad}");
        }
    }

    /// The parts as text, each secret as `{secret name encoding}` and each
    /// sealed value as `{sealed bytes encoding}`.
    fn render(parts: &Parts) -> String {
        let mut out = String::new();
        for part in &parts.0 {
            match part {
                Part::Literal(bytes) => out.push_str(std::str::from_utf8(bytes).unwrap()),
                Part::Secret(s) => out.push_str(&format!(
                    "{{secret {} {}}}",
                    s.name,
                    format!("{:?}", s.encoding).trim_start_matches("Encoding::")
                )),
                Part::Sealed(s) => out.push_str(&format!(
                    "{{sealed {} {}}}",
                    String::from_utf8_lossy(s.value.native_bytes()),
                    format!("{:?}", s.encoding).trim_start_matches("Encoding::")
                )),
            }
        }
        out
    }

    #[test]
    fn plain_values_are_written_as_serde_json_writes_them() {
        let value = json!({
            "z": [1, "two", null, true, {"b": 1, "a": -2.50}],
            "a": "quote \" backslash \\ newline \n control \u{1} slash / é",
            "m": {"y": false, "x": {}},
            "e": [],
        });
        let parts = Json::from(value.clone()).to_parts();
        assert_eq!(parts.0.len(), 1);
        assert_eq!(render(&parts), serde_json::to_string(&value).unwrap());
    }

    #[test]
    fn numbers_keep_their_exact_text() {
        let body = Json::object()
            .set("amount", decimal("312.99").unwrap())
            .set("big", decimal("123456789012345.123456").unwrap())
            .set("zero", decimal("0.50").unwrap())
            .set("count", 7u32)
            .set("neg", -3i64);
        assert_eq!(
            render(&body.to_parts()),
            r#"{"amount":312.99,"big":123456789012345.123456,"count":7,"neg":-3,"zero":0.50}"#
        );
        assert!(decimal("1e5").is_err());
        assert!(decimal("-1").is_err());
    }

    #[test]
    fn a_string_that_looks_like_an_old_marker_is_plain_text() {
        for text in [
            "\u{1}payhost-secret\u{1}token\u{1}",
            "\\u0001payhost-secret\\u0001token\\u0001",
            "\"\\u0001payhost-secret\\u0001token\\u0001\"",
            "payhost-secret",
        ] {
            let body = Json::object().set("attr", text);
            let parts = body.to_parts();
            assert!(parts.as_literal().is_some(), "{text:?} became a reference");
            assert_eq!(
                render(&parts),
                serde_json::to_string(&json!({ "attr": text })).unwrap()
            );
            let from_value = Json::from(json!({ "attr": text, "n": [text] })).to_parts();
            assert!(from_value.as_literal().is_some());
        }
    }

    #[test]
    fn secrets_and_sealed_values_become_parts() {
        let number = Sealed::native(b"4111111111111111".to_vec());
        let sign = Sealed::native(b"sig".to_vec());
        let body = Json::from(json!({ "order": "O-1", "amount": decimal("1.10").unwrap() }))
            .set("token", Json::secret("token"))
            .set("card", Json::object().set("number", Json::sealed(&number)))
            .set("cvv", None::<Json>)
            .set("sign", Json::sealed_string(&sign, Encoding::Hex))
            .set("raw", Json::sealed_string(&sign, Encoding::Raw))
            .set("digits", Json::Sealed(number.clone(), Encoding::Raw));
        let parts = body.to_parts();
        assert_eq!(
            render(&parts),
            concat!(
                r#"{"amount":1.10,"card":{"number":{sealed 4111111111111111 JsonString}},"#,
                r#""cvv":null,"digits":{sealed 4111111111111111 Raw},"order":"O-1","#,
                r#""raw":{sealed sig JsonString},"sign":"{sealed sig Hex}","#,
                r#""token":{secret token JsonString}}"#
            )
        );
        // Literal text between references is merged into one part each.
        assert_eq!(parts.0.len(), 11);
        assert!(parts.as_literal().is_none());
    }

    #[test]
    fn set_turns_null_into_an_object_and_replaces_keys() {
        let mut body = Json::Null.set("a", 1u8);
        assert!(matches!(body.insert("a", "x"), Some(Json::Number(_))));
        assert!(matches!(body.get("a"), Some(Json::String(s)) if s == "x"));
        if let Some(a) = body.get_mut("a") {
            *a = Json::Bool(true);
        }
        assert_eq!(render(&body.to_parts()), r#"{"a":true}"#);
    }

    #[test]
    #[should_panic(expected = "cannot set a key in a JSON array")]
    fn set_on_an_array_panics() {
        let _ = Json::Array(Vec::new()).set("a", 1u8);
    }

    #[test]
    fn integers_are_only_plain_literals() {
        assert_eq!(integer(&json!(0)), Some(0));
        assert_eq!(integer(&serde_json::from_str("-3").unwrap()), Some(-3));
        assert_eq!(integer(&serde_json::from_str("0.0").unwrap()), None);
        assert_eq!(integer(&serde_json::from_str("1e0").unwrap()), None);
        assert_eq!(integer(&json!("0")), None);
    }
}
