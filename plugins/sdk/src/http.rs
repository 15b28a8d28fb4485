//! Outbound HTTP through the host, to the origins the operator allowed.
//!
//! ```
//! # use payhost_sdk::{Encoding, Parts, crypto, http::{HttpError, Request}, json::Json};
//! # let host = payhost_sdk::testing::TestHost::new()
//! #     .secret("client_secret", "s").secret("key", "k")
//! #     .answer(200, "{}").answer(200, "ok").shared();
//! # host.run(|| -> Result<(), HttpError> {
//! # let (base, id, body) = ("https://supplier.test", "1", Json::object());
//! # let sig = crypto::md5(&Parts::new().text(id).secret("key", Encoding::Raw)).unwrap().sealed().unwrap();
//! let response = Request::post(format!("{base}/pay.do"))
//!     .header("accept", "application/json")
//!     .header("x-atlas-client-secret", Parts::new().secret("client_secret", Encoding::Raw))
//!     .json(body)
//!     .send()?;
//!
//! // A signature in the query: `…&sig=` and the sealed MD5 in hex.
//! let response = Request::get(format!("{base}/index.php?go=payment/bill&booking_id={id}"))
//!     .query_sealed("sig", &sig, Encoding::Hex)
//!     .send()?;
//! # Ok(()) }).unwrap();
//! ```
//!
//! The URL is parts too: everything before the `?` is literal, and a secret
//! or a sealed value may stand in the query only, with an encoding that is
//! safe there (`url-component`, `hex`, `hex-upper`, `base64url`).

use crate::backend;
use crate::bindings::payhost::connector::http as wit;
use crate::json::Json;
use crate::{Encoding, Parts, Sealed};

pub use wit::{HttpError, Method};

/// An outbound request, built step by step and sent with [`Request::send`].
#[derive(Debug, Clone)]
pub struct Request {
    method: Method,
    url: Parts,
    headers: Vec<backend::Header>,
    body: Parts,
    timeout_ms: Option<u32>,
}

impl Request {
    /// A request with `method` to `url`, an absolute `http` or `https` URL
    /// assembled from parts (see the module's documentation for where a
    /// secret or a sealed value may stand).
    pub fn new(method: Method, url: impl Into<Parts>) -> Self {
        Request {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: Parts::new(),
            timeout_ms: None,
        }
    }

    /// A GET request to a literal URL.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new(Method::Get, url.into())
    }

    /// A POST request to a literal URL.
    pub fn post(url: impl Into<String>) -> Self {
        Self::new(Method::Post, url.into())
    }

    /// Appends a query parameter with a literal value: `?` or `&`, then
    /// `name=value`, both percent-encoded.
    pub fn query(mut self, name: &str, value: &str) -> Self {
        self.start_parameter(name);
        self.url = std::mem::take(&mut self.url).text(url_component(value));
        self
    }

    /// Appends a query parameter whose value is the secret `secret`: `?` or
    /// `&`, `name=` (percent-encoded), then the secret written with
    /// `encoding` (`url-component`, `hex`, `hex-upper` or `base64url`).
    pub fn query_secret(mut self, name: &str, secret: &str, encoding: Encoding) -> Self {
        self.start_parameter(name);
        self.url = std::mem::take(&mut self.url).secret(secret, encoding);
        self
    }

    /// Appends a query parameter whose value is a sealed value: `?` or `&`,
    /// `name=` (percent-encoded), then the value written with `encoding`
    /// (`url-component`, `hex`, `hex-upper` or `base64url`).
    pub fn query_sealed(mut self, name: &str, value: &Sealed, encoding: Encoding) -> Self {
        self.start_parameter(name);
        self.url = std::mem::take(&mut self.url).sealed(value, encoding);
        self
    }

    /// Writes the separator before a new parameter and `name=`.
    fn start_parameter(&mut self, name: &str) {
        let separator = if !self.url.literal_contains(b'?') {
            "?"
        } else if matches!(self.url.last_literal_byte(), Some(b'?' | b'&')) {
            ""
        } else {
            "&"
        };
        self.url = std::mem::take(&mut self.url)
            .text(separator)
            .text(url_component(name))
            .text("=");
    }

    /// Adds a header; the value may hold secrets and sealed values.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<Parts>) -> Self {
        self.headers.push(backend::Header {
            name: name.into(),
            value: value.into().0,
        });
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Parts>) -> Self {
        self.body = body.into();
        self
    }

    /// Sets a JSON body (see [`crate::json::Json`] for secrets and sealed
    /// values inside it) and the `content-type` header.
    pub fn json(self, body: impl Into<Json>) -> Self {
        let body = body.into().to_parts();
        self.header("content-type", "application/json").body(body)
    }

    /// Sets a JSON body written with [`crate::json::Body`] and the
    /// `content-type` header.
    pub fn json_body(self, body: crate::json::Body) -> Self {
        self.header("content-type", "application/json")
            .body(body.finish())
    }

    /// Asks for the whole answer within `millis` milliseconds (the host caps
    /// it at the operator's limit).
    pub fn timeout_ms(mut self, millis: u32) -> Self {
        self.timeout_ms = Some(millis);
        self
    }

    /// Sends a payment's request and turns what happens into its outcome:
    /// an answer goes to `map`; no answer gives `failed` when nothing can
    /// have reached the supplier and `unknown` when it may have.
    pub fn exchange(
        self,
        map: impl FnOnce(&Response) -> crate::PaymentOutcome,
    ) -> crate::PaymentOutcome {
        match self.send() {
            Ok(response) => map(&response),
            Err(error) => error.into_outcome(),
        }
    }

    /// Sends the request and waits for the answer.
    pub fn send(self) -> Result<Response, HttpError> {
        let response = backend::send(backend::Request {
            method: self.method,
            url: self.url.0,
            headers: self.headers,
            body: self.body.0,
            timeout_ms: self.timeout_ms,
        })?;
        Ok(Response {
            status: response.status,
            headers: response.headers,
            body: response.body,
        })
    }
}

/// Percent-encodes everything but the unreserved characters of RFC 3986.
fn url_component(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(text.len());
    for &byte in text.as_bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
    out
}

/// An answer from a supplier.
#[derive(Debug, Clone)]
pub struct Response {
    /// The HTTP status code.
    pub status: u16,
    /// The headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body, decompressed.
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of a header, by its lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as UTF-8 text.
    pub fn text(&self) -> Result<&str, std::str::Utf8Error> {
        std::str::from_utf8(&self.body)
    }

    /// The body parsed as JSON. Numbers keep their exact text (see
    /// [`crate::json::decimal`]).
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }

    /// The body read as a JSON object into `T`, borrowing from it: only the
    /// fields a connector reads, no tree (see [`crate::answer`] for how
    /// each field type reads a hostile answer).
    pub fn object<'a, T: serde::Deserialize<'a>>(&'a self) -> Result<T, serde_json::Error> {
        crate::answer::object(&self.body)
    }
}

impl HttpError {
    /// Whether the request may have reached the supplier: if so, a payment
    /// must be reported `unknown`, never `failed`.
    pub fn may_have_been_sent(&self) -> bool {
        match self {
            HttpError::Denied(_) | HttpError::Invalid(_) | HttpError::Connect(_) => false,
            HttpError::Timeout(_) | HttpError::TooLarge(_) | HttpError::Broken(_) => true,
        }
    }

    /// The variant's name, as in the contract (`denied`, `timeout`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            HttpError::Denied(_) => "denied",
            HttpError::Timeout(_) => "timeout",
            HttpError::Connect(_) => "connect",
            HttpError::Broken(_) => "broken",
            HttpError::TooLarge(_) => "too-large",
            HttpError::Invalid(_) => "invalid",
        }
    }

    /// The error's text.
    pub fn message(&self) -> &str {
        match self {
            HttpError::Denied(m)
            | HttpError::Timeout(m)
            | HttpError::Connect(m)
            | HttpError::Broken(m)
            | HttpError::TooLarge(m)
            | HttpError::Invalid(m) => m,
        }
    }
}

impl HttpError {
    /// The outcome of a payment whose request failed this way: `failed` when
    /// nothing can have reached the supplier, `unknown` when it may have.
    pub fn into_outcome(self) -> crate::PaymentOutcome {
        use crate::{ConnectorError, ErrorKind, PaymentOutcome};
        let sent = self.may_have_been_sent();
        let (kind, retryable) = match &self {
            HttpError::Denied(_) => (ErrorKind::Denied, false),
            HttpError::Invalid(_) => (ErrorKind::InvalidRequest, false),
            HttpError::Connect(_) => (ErrorKind::SupplierUnavailable, true),
            HttpError::Timeout(_) => (ErrorKind::Timeout, false),
            HttpError::Broken(_) => (ErrorKind::SupplierUnavailable, false),
            HttpError::TooLarge(_) => (ErrorKind::Protocol, false),
        };
        let error = ConnectorError::new(kind, self.message()).retryable(retryable);
        if sent {
            PaymentOutcome::unknown(error)
        } else {
            PaymentOutcome::failed(error)
        }
    }
}

impl Response {
    /// The outcome of an answer that cannot be read as the supplier's
    /// documented format: the request reached the supplier, so `unknown`.
    pub fn unreadable(&self, what: &str) -> crate::PaymentOutcome {
        use crate::{ConnectorError, ErrorKind, PaymentOutcome};
        let kind = if self.status >= 500 {
            ErrorKind::SupplierUnavailable
        } else {
            ErrorKind::Protocol
        };
        let snippet: String = String::from_utf8_lossy(&self.body)
            .chars()
            .take(120)
            .collect();
        PaymentOutcome::unknown(ConnectorError::new(
            kind,
            format!(
                "HTTP {}: {what}; the answer began: {snippet:?}",
                self.status
            ),
        ))
        .detail("http-status", self.status.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parts::Part;

    fn literal(parts: &Parts) -> String {
        String::from_utf8(parts.as_literal().expect("literal")).unwrap()
    }

    #[test]
    fn query_parameters_get_the_right_separator() {
        let r = Request::get("https://x.test/a").query("b", "1 2&3");
        assert_eq!(literal(&r.url), "https://x.test/a?b=1%202%263");
        let r = Request::get("https://x.test/a?go=x").query("é", "~._-");
        assert_eq!(literal(&r.url), "https://x.test/a?go=x&%C3%A9=~._-");
        let r = Request::get("https://x.test/a?").query("b", "c");
        assert_eq!(literal(&r.url), "https://x.test/a?b=c");
    }

    #[test]
    fn a_sealed_query_value_is_a_part_of_the_url() {
        let sig = Sealed::native(vec![0xab, 0xcd]);
        let r = Request::get("https://x.test/index.php?go=payment/bill&booking_id=1")
            .query_sealed("sig", &sig, Encoding::Hex)
            .query_secret("key", "api_key", Encoding::UrlComponent)
            .query("n", "1");
        let parts = &r.url.0;
        assert_eq!(parts.len(), 5, "{parts:?}");
        assert!(
            matches!(&parts[0], Part::Literal(b) if b == b"https://x.test/index.php?go=payment/bill&booking_id=1&sig=")
        );
        assert!(
            matches!(&parts[1], Part::Sealed(s) if s.encoding == Encoding::Hex && s.value.native_bytes() == [0xab, 0xcd])
        );
        assert!(matches!(&parts[2], Part::Literal(b) if b == b"&key="));
        assert!(
            matches!(&parts[3], Part::Secret(s) if s.name == "api_key" && s.encoding == Encoding::UrlComponent)
        );
        assert!(matches!(&parts[4], Part::Literal(b) if b == b"&n=1"));
    }
}
