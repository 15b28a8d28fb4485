//! The Atlas (atriptech) balance payment written the way an Extism plugin
//! author writes one, for the benchmark's Extism peer: `POST
//! {base_url}/pay.do` with the JSON body, the credential headers and the
//! status table of payhost's own Atlas connector (`plugins/atlas`), built
//! and read with serde_json.
//!
//! [`pay`] is the whole payment, generic over how HTTP is done ([`Http`])
//! and over where config values come from (a closure), so the same code
//! runs in two places:
//!
//! - in the plugin, built for `wasm32-unknown-unknown`: `plugin::pay`, an
//!   Extism export that takes a [`Payment`] as JSON and returns an
//!   [`Outcome`] as JSON, sending through extism-pdk's `http::request` and
//!   reading the manifest's config with `config::get`;
//! - natively, in the benchmark, which passes ureq (the client Extism's host
//!   uses for a plugin's requests) and a map of the same config: the
//!   plugin's own native baseline.
//!
//! Config keys: `base_url`, `client_id`, `client_secret`, and optionally
//! `request_source`.
//!
//! Extism has no sealed secrets. The credentials are plain entries of the
//! manifest's config: the plugin reads them into its own memory and writes
//! them into the headers itself, so any code in the plugin can read them and
//! send them to any host the manifest allows. payhost's connector only names
//! its secrets; the host writes them into the request, and the connector
//! never holds them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A balance payment, as the host hands it to the plugin: the fields
/// payhost's payment request has for one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// Atlas's order number (`orderNo`).
    pub order_id: String,
    /// The platform's own order number (`clientOrderNo`), for reconciliation.
    pub client_order_id: Option<String>,
    /// The amount expected, as decimal text (`"312.99"`). Atlas's `pay.do`
    /// does not take it: the order fixes the amount.
    pub amount: String,
    /// The amount's currency, three upper-case letters.
    pub currency: String,
    /// The key of this attempt. Atlas has no idempotency key; it is carried
    /// for the host's records only.
    pub idempotency_key: String,
}

/// Where a payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Atlas accepted the payment (`status` 0); ticketing follows.
    Succeeded,
    /// Atlas refused it, or it never left: no money moved.
    Failed,
    /// Money may have moved: query the order before any second attempt.
    Unknown,
}

/// Why a payment did not succeed: payhost's unified kinds, those that
/// Atlas's status table and the transport can give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The request is invalid, or the plugin's config lacks a key.
    InvalidRequest,
    /// Atlas rejected the credentials.
    AuthFailed,
    /// The payment deadline has passed.
    OrderExpired,
    /// The order is in a state that cannot be paid.
    InvalidOrderState,
    /// The order is already paid or ticketing: do not pay again.
    AlreadyPaid,
    /// A payment for the order is in progress: do not pay again, query later.
    InProgress,
    /// The payment method is not allowed for this order.
    MethodNotSupported,
    /// The card was refused.
    CardRejected,
    /// The payment gateway or the balance declined it.
    Declined,
    /// Atlas is down, busy, or could not be reached.
    SupplierUnavailable,
    /// Atlas answered a code its documents do not list.
    UnknownSupplierCode,
    /// Atlas's answer could not be read as documented.
    Protocol,
    /// No answer came in time.
    Timeout,
}

/// The result of a payment, as the plugin returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// Where the payment stands.
    pub state: State,
    /// Why it did not succeed; `None` when it did.
    pub error: Option<ErrorKind>,
    /// Whether the same request may be sent again as it is.
    pub retryable: bool,
    /// A message for the operator, when the plugin has one of its own.
    pub message: Option<String>,
    /// Atlas's `status`, exactly as received.
    pub supplier_code: Option<String>,
    /// Atlas's `msg`, verbatim.
    pub supplier_message: Option<String>,
    /// Atlas's `orderNo` echoed in a success.
    pub supplier_reference: Option<String>,
    /// The HTTP status of an answer that could not be read.
    pub http_status: Option<u16>,
}

impl Outcome {
    fn new(state: State, error: Option<ErrorKind>) -> Outcome {
        Outcome {
            state,
            error,
            retryable: false,
            message: None,
            supplier_code: None,
            supplier_message: None,
            supplier_reference: None,
            http_status: None,
        }
    }

    /// A payment that did not succeed, with a message of the plugin's own.
    fn not_done(state: State, kind: ErrorKind, message: impl Into<String>) -> Outcome {
        Outcome {
            message: Some(message.into()),
            ..Outcome::new(state, Some(kind))
        }
    }
}

/// One HTTP request, as [`pay`] asks for it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The method, upper case (`POST`).
    pub method: &'a str,
    /// The whole URL.
    pub url: &'a str,
    /// The headers, names in lower case.
    pub headers: &'a [(&'a str, &'a str)],
    /// The body.
    pub body: &'a [u8],
}

/// An HTTP answer: its status and its whole body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body, as received.
    pub body: Vec<u8>,
}

/// Why no answer came, and so whether the request may have reached Atlas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// The request could not be built (a bad URL or header): never sent.
    Invalid(String),
    /// No connection could be made: never sent.
    Connect(String),
    /// No answer in time, after the request may have been sent.
    Timeout(String),
    /// The exchange broke after the request may have been sent.
    Broken(String),
}

impl HttpError {
    /// Whether the request may have reached Atlas: if so, the payment is
    /// `unknown`, never `failed`.
    pub fn may_have_been_sent(&self) -> bool {
        matches!(self, HttpError::Timeout(_) | HttpError::Broken(_))
    }

    fn into_outcome(self) -> Outcome {
        let state = if self.may_have_been_sent() {
            State::Unknown
        } else {
            State::Failed
        };
        let (kind, retryable, message) = match self {
            HttpError::Invalid(m) => (ErrorKind::InvalidRequest, false, m),
            HttpError::Connect(m) => (ErrorKind::SupplierUnavailable, true, m),
            HttpError::Timeout(m) => (ErrorKind::Timeout, false, m),
            HttpError::Broken(m) => (ErrorKind::SupplierUnavailable, false, m),
        };
        Outcome {
            retryable,
            ..Outcome::not_done(state, kind, message)
        }
    }
}

/// How [`pay`] sends its one request: extism-pdk's `http::request` in the
/// plugin, ureq in the native baseline.
pub trait Http {
    /// Sends `request` and waits for the whole answer.
    fn send(&self, request: &Request<'_>) -> Result<Answer, HttpError>;
}

/// Atlas's `paymentMethod` for a balance (deposit) payment.
const BALANCE: u8 = 1;

/// The `pay.do` body of a balance payment; the optional fields are left out
/// when unset, as the connector leaves them out.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PayBody<'a> {
    order_no: &'a str,
    payment_method: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_order_no: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_source: Option<&'a str>,
}

/// Pays `payment` from the account's balance at Atlas: config values from
/// `config`, the one request through `http`. Never panics: a missing config
/// key or an unreadable answer is an [`Outcome`] like any other.
pub fn pay(
    payment: &Payment,
    config: impl Fn(&str) -> Option<String>,
    http: &impl Http,
) -> Outcome {
    let required = |key: &str| {
        config(key).filter(|v| !v.is_empty()).ok_or_else(|| {
            Outcome::not_done(
                State::Failed,
                ErrorKind::InvalidRequest,
                format!("config key `{key}` is not set: add it to the plugin's manifest"),
            )
        })
    };
    let (base, client_id, client_secret) = match (
        required("base_url"),
        required("client_id"),
        required("client_secret"),
    ) {
        (Ok(base), Ok(id), Ok(secret)) => (base, id, secret),
        (Err(missing), _, _) | (_, Err(missing), _) | (_, _, Err(missing)) => return missing,
    };
    let request_source = config("request_source");
    let body = PayBody {
        order_no: &payment.order_id,
        payment_method: BALANCE,
        client_order_no: payment.client_order_id.as_deref(),
        request_source: request_source.as_deref(),
    };
    let body = match serde_json::to_vec(&body) {
        Ok(body) => body,
        Err(e) => {
            return Outcome::not_done(State::Failed, ErrorKind::InvalidRequest, e.to_string())
        }
    };
    let url = format!("{}/pay.do", base.trim_end_matches('/'));
    let headers = [
        ("accept", "application/json"),
        ("accept-encoding", "gzip"),
        ("content-type", "application/json"),
        ("x-atlas-client-id", client_id.as_str()),
        ("x-atlas-client-secret", client_secret.as_str()),
    ];
    let request = Request {
        method: "POST",
        url: &url,
        headers: &headers,
        body: &body,
    };
    match http.send(&request) {
        Ok(answer) => outcome(&answer),
        Err(e) => e.into_outcome(),
    }
}

/// Atlas's `status` codes (its error guide), as one table: the state and
/// the unified kind. A payment that may be under way or may have been taken
/// is `unknown`, never `failed`.
fn map_status(status: i64) -> (State, ErrorKind) {
    match status {
        400 | 407 | 408 | 409 | 410 | 901 => (State::Failed, ErrorKind::InvalidRequest),
        401 => (State::Failed, ErrorKind::OrderExpired),
        402 | 404 => (State::Failed, ErrorKind::AlreadyPaid),
        403 | 412 => (State::Failed, ErrorKind::MethodNotSupported),
        405 | 415 => (State::Failed, ErrorKind::InvalidOrderState),
        406 => (State::Unknown, ErrorKind::InProgress),
        411 => (State::Failed, ErrorKind::Declined),
        413 | 414 => (State::Failed, ErrorKind::CardRejected),
        900 | 902 => (State::Failed, ErrorKind::AuthFailed),
        9999 => (State::Unknown, ErrorKind::SupplierUnavailable),
        _ => (State::Unknown, ErrorKind::UnknownSupplierCode),
    }
}

/// A JSON number written as a plain integer (`0`, `404`, `-3`); `None` for
/// `0.0`, `1e0`, `-0` or one too large, so that only the literal `0` can
/// mean success. The same whether or not serde_json keeps numbers' text
/// (`arbitrary_precision`).
fn plain_integer(value: &Value) -> Option<i64> {
    let Value::Number(number) = value else {
        return None;
    };
    if number.is_f64() {
        return None;
    }
    let text = number.to_string();
    if text == "-0" {
        return None;
    }
    text.parse().ok()
}

/// The outcome of an answer that cannot be read as Atlas documents it: the
/// request reached Atlas, so `unknown`.
fn unreadable(answer: &Answer, what: &str) -> Outcome {
    let kind = if answer.status >= 500 {
        ErrorKind::SupplierUnavailable
    } else {
        ErrorKind::Protocol
    };
    let snippet: String = String::from_utf8_lossy(&answer.body)
        .chars()
        .take(120)
        .collect();
    Outcome {
        http_status: Some(answer.status),
        ..Outcome::not_done(
            State::Unknown,
            kind,
            format!(
                "HTTP {}: {what}; the answer began: {snippet:?}",
                answer.status
            ),
        )
    }
}

/// Reads Atlas's answer: success is `status == 0` and nothing else; `msg`
/// is for people and is only kept.
fn outcome(answer: &Answer) -> Outcome {
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(&answer.body) else {
        return unreadable(answer, "not the JSON answer Atlas documents");
    };
    let Some(status) = fields.get("status").and_then(plain_integer) else {
        return unreadable(
            answer,
            "the answer has no integer `status` (a plain literal)",
        );
    };
    let text = |name: &str| fields.get(name).and_then(Value::as_str).map(str::to_owned);
    if status == 0 {
        if !(200..300).contains(&answer.status) {
            return unreadable(answer, "a success status with an HTTP error status");
        }
        return Outcome {
            supplier_code: Some(status.to_string()),
            supplier_message: text("msg"),
            supplier_reference: text("orderNo"),
            ..Outcome::new(State::Succeeded, None)
        };
    }
    let (state, kind) = map_status(status);
    Outcome {
        supplier_code: Some(status.to_string()),
        supplier_message: text("msg"),
        ..Outcome::new(state, Some(kind))
    }
}

/// The plugin: the Extism export and the PDK's HTTP. Built only for wasm32.
#[cfg(target_arch = "wasm32")]
// `#[plugin_fn]` writes an undocumented wrapper beside the export.
#[allow(missing_docs)]
pub mod plugin {
    use crate::{Answer, Http, HttpError, Outcome, Payment, Request};
    use extism_pdk::{config, http, plugin_fn, FnResult, HttpRequest, Json};

    /// extism-pdk's `http::request`: the host makes the request for the
    /// plugin, to a host in the manifest's `allowed_hosts` only.
    struct Pdk;

    impl Http for Pdk {
        fn send(&self, request: &Request<'_>) -> Result<Answer, HttpError> {
            let mut pdk_request = HttpRequest::new(request.url).with_method(request.method);
            for (name, value) in request.headers {
                pdk_request = pdk_request.with_header(*name, *value);
            }
            // An error here says nothing of whether the host sent the
            // request, so it is read as one that may have been sent.
            let response = http::request(&pdk_request, Some(request.body))
                .map_err(|e| HttpError::Broken(e.to_string()))?;
            Ok(Answer {
                status: response.status_code(),
                body: response.body(),
            })
        }
    }

    /// The export `pay`: a [`Payment`] as JSON in, an [`Outcome`] as JSON
    /// out. Credentials and the base URL come from the manifest's config.
    ///
    /// A request the host refuses or cannot make (a host not in
    /// `allowed_hosts`, a refused connection, a timeout) is an error of the
    /// host function, which traps the call: the plugin never sees it, and
    /// the host's `Plugin::call` returns an error that a payment host must
    /// read as `unknown`.
    #[plugin_fn]
    pub fn pay(Json(payment): Json<Payment>) -> FnResult<Json<Outcome>> {
        Ok(Json(crate::pay(
            &payment,
            |key| config::get(key).ok().flatten(),
            &Pdk,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::BTreeMap;

    /// A request as the fake saw it.
    struct Sent {
        method: String,
        url: String,
        headers: BTreeMap<String, String>,
        body: Value,
    }

    /// Answers each request with the next of its answers, and keeps what it was sent.
    struct Fake {
        answers: RefCell<Vec<Result<Answer, HttpError>>>,
        sent: RefCell<Vec<Sent>>,
    }

    impl Fake {
        fn new(answers: Vec<Result<Answer, HttpError>>) -> Fake {
            Fake {
                answers: RefCell::new(answers),
                sent: RefCell::new(Vec::new()),
            }
        }

        fn json(status: u16, body: &str) -> Fake {
            Fake::new(vec![Ok(Answer {
                status,
                body: body.as_bytes().to_vec(),
            })])
        }
    }

    impl Http for Fake {
        fn send(&self, request: &Request<'_>) -> Result<Answer, HttpError> {
            self.sent.borrow_mut().push(Sent {
                method: request.method.to_owned(),
                url: request.url.to_owned(),
                headers: request
                    .headers
                    .iter()
                    .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                    .collect(),
                body: serde_json::from_slice(request.body).expect("a JSON body"),
            });
            self.answers.borrow_mut().remove(0)
        }
    }

    fn payment(order: &str) -> Payment {
        Payment {
            order_id: order.to_owned(),
            client_order_id: Some("PLT-1".to_owned()),
            amount: "312.99".to_owned(),
            currency: "USD".to_owned(),
            idempotency_key: "k-1".to_owned(),
        }
    }

    fn config(key: &str) -> Option<String> {
        match key {
            "base_url" => Some("https://sandbox.atriptech.com/".to_owned()),
            "client_id" => Some("test-id".to_owned()),
            "client_secret" => Some("test-secret".to_owned()),
            "request_source" => Some("unit-test".to_owned()),
            _ => None,
        }
    }

    #[test]
    fn status_0_is_paid_and_the_credentials_go_in_their_headers() {
        let http = Fake::json(200, r#"{"status":0,"msg":"success","orderNo":"ATL-1"}"#);
        let outcome = pay(&payment("ATL-1"), config, &http);
        assert_eq!(outcome.state, State::Succeeded);
        assert_eq!(outcome.error, None);
        assert_eq!(outcome.supplier_reference.as_deref(), Some("ATL-1"));
        let sent = http.sent.borrow();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].method, "POST");
        assert_eq!(sent[0].url, "https://sandbox.atriptech.com/pay.do");
        let header = |name: &str| sent[0].headers.get(name).map(String::as_str);
        assert_eq!(header("x-atlas-client-id"), Some("test-id"));
        assert_eq!(header("x-atlas-client-secret"), Some("test-secret"));
        assert_eq!(header("content-type"), Some("application/json"));
        assert_eq!(header("accept"), Some("application/json"));
        assert_eq!(header("accept-encoding"), Some("gzip"));
        assert_eq!(
            sent[0].body,
            serde_json::json!({
                "orderNo": "ATL-1",
                "paymentMethod": 1,
                "clientOrderNo": "PLT-1",
                "requestSource": "unit-test",
            })
        );
    }

    #[test]
    fn a_documented_refusal_is_failed_and_an_undocumented_code_unknown() {
        let declined = pay(
            &payment("ATL-2"),
            config,
            &Fake::json(200, r#"{"status":411,"msg":"declined"}"#),
        );
        assert_eq!(declined.state, State::Failed);
        assert_eq!(declined.error, Some(ErrorKind::Declined));
        assert_eq!(declined.supplier_code.as_deref(), Some("411"));
        assert_eq!(declined.supplier_message.as_deref(), Some("declined"));
        let in_progress = pay(
            &payment("ATL-3"),
            config,
            &Fake::json(200, r#"{"status":406}"#),
        );
        assert_eq!(in_progress.state, State::Unknown);
        assert_eq!(in_progress.error, Some(ErrorKind::InProgress));
        let odd = pay(
            &payment("ATL-4"),
            config,
            &Fake::json(200, r#"{"status":777,"msg":"?"}"#),
        );
        assert_eq!(odd.state, State::Unknown);
        assert_eq!(odd.error, Some(ErrorKind::UnknownSupplierCode));
    }

    #[test]
    fn only_the_literal_0_is_success() {
        for status in ["0.0", "1e0", "-0", "\"0\"", "null", "18446744073709551616"] {
            let body = format!(r#"{{"status":{status},"orderNo":"ATL-5"}}"#);
            let outcome = pay(&payment("ATL-5"), config, &Fake::json(200, &body));
            assert_eq!(outcome.state, State::Unknown, "status {status}");
            assert_eq!(outcome.error, Some(ErrorKind::Protocol), "status {status}");
        }
        let html = pay(
            &payment("ATL-6"),
            config,
            &Fake::json(500, "<html>error</html>"),
        );
        assert_eq!(html.state, State::Unknown);
        assert_eq!(html.error, Some(ErrorKind::SupplierUnavailable));
        assert_eq!(html.http_status, Some(500));
        let success_on_error = pay(
            &payment("ATL-7"),
            config,
            &Fake::json(502, r#"{"status":0}"#),
        );
        assert_eq!(success_on_error.state, State::Unknown);
    }

    #[test]
    fn a_missing_key_fails_before_anything_is_sent() {
        let http = Fake::new(Vec::new());
        let no_secret = |key: &str| (key != "client_secret").then(|| config(key)).flatten();
        let outcome = pay(&payment("ATL-8"), no_secret, &http);
        assert_eq!(outcome.state, State::Failed);
        assert_eq!(outcome.error, Some(ErrorKind::InvalidRequest));
        assert!(outcome
            .message
            .unwrap_or_default()
            .contains("client_secret"));
        assert!(http.sent.borrow().is_empty());
    }

    #[test]
    fn no_answer_is_failed_only_when_nothing_can_have_been_sent() {
        let refused = pay(
            &payment("ATL-9"),
            config,
            &Fake::new(vec![Err(HttpError::Connect("refused".to_owned()))]),
        );
        assert_eq!(refused.state, State::Failed);
        assert!(refused.retryable);
        let cut = pay(
            &payment("ATL-10"),
            config,
            &Fake::new(vec![Err(HttpError::Broken("reset".to_owned()))]),
        );
        assert_eq!(cut.state, State::Unknown);
        assert!(!cut.retryable);
    }

    #[test]
    fn the_plugin_speaks_json() {
        let outcome = pay(
            &payment("ATL-11"),
            config,
            &Fake::json(200, r#"{"status":404,"msg":"The order is already paid"}"#),
        );
        let text = serde_json::to_string(&outcome).expect("an outcome serializes");
        assert!(text.contains(r#""state":"failed""#), "{text}");
        assert!(text.contains(r#""error":"already-paid""#), "{text}");
        let back: Outcome = serde_json::from_str(&text).expect("and reads back");
        assert_eq!(back, outcome);
        let input = serde_json::to_string(&payment("ATL-12")).expect("a payment serializes");
        assert!(input.contains(r#""amount":"312.99""#), "{input}");
    }
}
