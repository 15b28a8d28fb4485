//! Outbound HTTP through the host, to the origins the operator allowed.
//!
//! ```ignore
//! let response = Request::post(format!("{base}/pay.do"))
//!     .header("accept", "application/json")
//!     .header("x-atlas-client-secret", Parts::new().secret("client_secret", SecretEncoding::Raw))
//!     .json(&body)?
//!     .send()?;
//! ```

use crate::Parts;
use crate::bindings::payhost::connector::http as wit;

pub use wit::HttpError;

/// An outbound request, built step by step and sent with [`Request::send`].
#[derive(Debug, Clone)]
pub struct Request {
    method: wit::Method,
    url: String,
    headers: Vec<wit::Header>,
    body: Parts,
    timeout_ms: Option<u32>,
}

impl Request {
    fn new(method: wit::Method, url: impl Into<String>) -> Self {
        Request {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: Parts::new(),
            timeout_ms: None,
        }
    }

    /// A GET request.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new(wit::Method::Get, url)
    }

    /// A POST request.
    pub fn post(url: impl Into<String>) -> Self {
        Self::new(wit::Method::Post, url)
    }

    /// Adds a header; the value may hold secret references.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<Parts>) -> Self {
        self.headers.push(wit::Header {
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

    /// Sets a JSON body (see [`crate::json`] for secrets inside it) and the
    /// `content-type` header. A value that cannot be JSON (a map with
    /// non-string keys) is an `invalid-request` error.
    pub fn json<T: serde::Serialize + ?Sized>(
        self,
        value: &T,
    ) -> Result<Self, crate::ConnectorError> {
        let body = crate::json::to_parts(value).map_err(|e| {
            crate::ConnectorError::new(
                crate::ErrorKind::InvalidRequest,
                format!("cannot write the JSON body: {e}"),
            )
        })?;
        Ok(self.header("content-type", "application/json").body(body))
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
        let response = crate::backend::send(&wit::Request {
            method: self.method,
            url: self.url,
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
