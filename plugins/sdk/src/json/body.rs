//! A JSON object written as it is built, straight into the parts a request
//! sends: no tree of values first, keys in the order they are written.

use crate::{ConnectorError, Encoding, Parts, Sealed};

/// A JSON object (a request body, or one nested in it) written as it is
/// built: each call appends a member, in order, with no tree in between.
/// Strings are escaped as `serde_json` escapes them; a secret or a sealed
/// value becomes a part the host fills in.
///
/// ```
/// # use payhost_sdk::json::Body;
/// let mut body = Body::new();
/// body.str("orderNo", "ATL-1").uint("paymentMethod", 1).opt_str("clientOrderNo", None);
/// body.object("creditCard", |card| {
///     card.str("cardExpireMonth", "12").bool("reusable", false);
/// });
/// assert_eq!(
///     body.text_for_tests(),
///     r#"{"orderNo":"ATL-1","paymentMethod":1,"clientOrderNo":null,"creditCard":{"cardExpireMonth":"12","reusable":false}}"#
/// );
/// ```
#[derive(Debug)]
pub struct Body {
    parts: Parts,
    text: Vec<u8>,
    first: bool,
}

impl Default for Body {
    fn default() -> Self {
        Body::new()
    }
}

impl Body {
    /// An object with no member yet.
    pub fn new() -> Body {
        Body {
            parts: Parts::new(),
            text: b"{".to_vec(),
            first: true,
        }
    }

    fn key(&mut self, key: &str) {
        if !self.first {
            self.text.push(b',');
        }
        self.first = false;
        self.escaped(key);
        self.text.push(b':');
    }

    fn escaped(&mut self, s: &str) {
        // Writing into a `Vec` cannot fail.
        let _ = serde_json::to_writer(&mut self.text, s);
    }

    fn flush(&mut self) {
        if !self.text.is_empty() {
            self.parts = std::mem::take(&mut self.parts).bytes(&self.text);
            self.text.clear();
        }
    }

    /// A string member.
    pub fn str(&mut self, key: &str, value: &str) -> &mut Body {
        self.key(key);
        self.escaped(value);
        self
    }

    /// A string member, `null` when absent.
    pub fn opt_str(&mut self, key: &str, value: Option<&str>) -> &mut Body {
        match value {
            Some(value) => self.str(key, value),
            None => self.null(key),
        }
    }

    /// A whole-number member.
    pub fn uint(&mut self, key: &str, value: u64) -> &mut Body {
        self.key(key);
        self.text.extend_from_slice(value.to_string().as_bytes());
        self
    }

    /// A `true` or `false` member.
    pub fn bool(&mut self, key: &str, value: bool) -> &mut Body {
        self.key(key);
        self.text
            .extend_from_slice(if value { b"true" } else { b"false" });
        self
    }

    /// A `null` member.
    pub fn null(&mut self, key: &str) -> &mut Body {
        self.key(key);
        self.text.extend_from_slice(b"null");
        self
    }

    /// An amount as a JSON number with exactly its text (`312.99`, never
    /// through a float); an amount that is not a plain decimal is an
    /// `invalid-request` error (see [`super::decimal`]).
    pub fn decimal(&mut self, key: &str, amount: &str) -> Result<&mut Body, ConnectorError> {
        super::decimal(amount)?;
        self.key(key);
        self.text.extend_from_slice(amount.as_bytes());
        Ok(self)
    }

    /// A sealed value (a card number, a CVV) as a JSON string the host
    /// writes.
    pub fn sealed(&mut self, key: &str, value: &Sealed) -> &mut Body {
        self.key(key);
        self.flush();
        self.parts = std::mem::take(&mut self.parts).sealed(value, Encoding::JsonString);
        self
    }

    /// A sealed value as a JSON string, `null` when absent.
    pub fn opt_sealed(&mut self, key: &str, value: Option<&Sealed>) -> &mut Body {
        match value {
            Some(value) => self.sealed(key, value),
            None => self.null(key),
        }
    }

    /// A sealed value inside quotes, written by the host with `encoding`
    /// (`hex`, `hex-upper`, `base64`, `base64url` or `url-component`, whose
    /// output needs no escaping; any other is written as a JSON string, as
    /// [`super::Json::sealed_string`] does).
    pub fn sealed_string(&mut self, key: &str, value: &Sealed, encoding: Encoding) -> &mut Body {
        if !super::quotable(encoding) {
            return self.sealed(key, value);
        }
        self.key(key);
        self.text.push(b'"');
        self.flush();
        self.parts = std::mem::take(&mut self.parts).sealed(value, encoding);
        self.text.push(b'"');
        self
    }

    /// The secret `name` as a JSON string the host writes.
    pub fn secret(&mut self, key: &str, name: &str) -> &mut Body {
        self.key(key);
        self.flush();
        self.parts = std::mem::take(&mut self.parts).secret(name, Encoding::JsonString);
        self
    }

    /// A nested object, its members written by `members`.
    pub fn object(&mut self, key: &str, members: impl FnOnce(&mut Body)) -> &mut Body {
        self.key(key);
        self.text.push(b'{');
        self.first = true;
        members(self);
        self.text.push(b'}');
        self.first = false;
        self
    }

    /// The object, closed, as the parts a request sends.
    pub fn finish(mut self) -> Parts {
        self.text.push(b'}');
        self.flush();
        self.parts
    }

    /// The object as text, each hidden value as `<hidden>`: for tests.
    #[doc(hidden)]
    pub fn text_for_tests(self) -> String {
        self.finish().text_for_tests()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_written_in_order_escaped_with_hidden_values_as_parts() {
        let sealed = Sealed::native(b"4111111111111111".to_vec());
        let mut body = Body::new();
        body.str("a\"b", "x\u{1}\"y")
            .decimal("amount", "100.00")
            .unwrap()
            .sealed("cardNumber", &sealed)
            .opt_sealed("cvv", None)
            .sealed_string("sign", &sealed, Encoding::Hex)
            .secret("token", "api_key");
        body.object("empty", |_| {});
        assert_eq!(
            body.text_for_tests(),
            r#"{"a\"b":"x\u0001\"y","amount":100.00,"cardNumber":<hidden>,"cvv":null,"sign":"<hidden>","token":<hidden>,"empty":{}}"#
        );
        let mut bad = Body::new();
        assert!(bad.decimal("amount", "1e5").is_err());
    }
}
