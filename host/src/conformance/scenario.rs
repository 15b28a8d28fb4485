//! A scenarios file: the connector's test configuration, the request to
//! send, and for each scenario the supplier's scripted answer, the outcome
//! expected and what the request must carry.

use super::error::ConformanceError;
use crate::payments::model::{Card, Money, PaymentMethod, PaymentRequest};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// A scenarios file (`payhost plugins test FILE.wasm --scenarios FILE.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenarios {
    /// The connector's configuration for the run.
    #[serde(default)]
    pub connector: Setup,
    /// The request every scenario sends unless it says otherwise.
    #[serde(default)]
    pub request: RequestSpec,
    /// The scenarios, in order.
    #[serde(default, rename = "scenario")]
    pub scenarios: Vec<Scenario>,
}

/// The connector's configuration: what `[connectors.NAME]` in payhost.toml
/// would hold, with test values. `base_url` and `allowed_hosts` are the
/// test server's and are filled in.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Setup {
    /// Config keys and their values.
    #[serde(default)]
    pub config: BTreeMap<String, String>,
    /// Test secrets by name, as plain values (never real credentials).
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
    /// The call's time limit (default 2 s: the timeout scenarios wait it out).
    pub timeout: Option<String>,
    /// Where each secret, derived value and card field may stand, as in
    /// the connector's section of `payhost.toml`.
    #[serde(default)]
    pub placements: Vec<crate::contract::placement::PlacementSpec>,
    /// The explicit opt-in for a connector run with no placements, as in
    /// `payhost.toml`.
    #[serde(default)]
    pub unpinned: bool,
    /// Pins the connector's clock to this Unix time (seconds) in every
    /// scenario that does not pin its own: a signature over a timestamp
    /// then comes out the same every run.
    pub clock: Option<u64>,
}

/// A payment request, each field optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    /// The supplier's order id.
    pub order_id: Option<String>,
    /// The platform's own order id.
    pub client_order_id: Option<String>,
    /// A decimal string.
    pub amount: Option<String>,
    /// ISO 4217.
    pub currency: Option<String>,
    /// `balance`, `card`, `merchant-of-record` or `account:ID`.
    pub method: Option<String>,
    /// Free-form attributes.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// What a scenario calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Call {
    /// `pay` with the scenario's request (the default).
    #[default]
    Pay,
    /// `query` for the request's `order_id`: where the payment stands.
    Query,
}

/// One scenario.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// What it shows, in a few words.
    pub name: String,
    /// `pay` (the default) or `query`.
    #[serde(default)]
    pub call: Call,
    /// Fields that differ from the file's `[request]`.
    #[serde(default)]
    pub request: RequestSpec,
    /// Pins the connector's clock to this Unix time (seconds), over
    /// `[connector] clock`.
    pub clock: Option<u64>,
    /// The supplier's answer to every request of the call.
    pub answer: Option<Answer>,
    /// Or its answers, one per request in order; the last to any after.
    #[serde(default)]
    pub answers: Vec<Answer>,
    /// The outcome the connector must come to.
    pub expect: Expect,
    /// What the request the connector sent must carry.
    #[serde(default)]
    pub sent: Option<Sent>,
}

/// The scripted answer: a response, or a fault.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    /// HTTP status (default 200).
    pub status: Option<u16>,
    /// Response headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Response body.
    #[serde(default)]
    pub body: String,
    /// Instead of a response, a fault.
    pub fault: Option<Fault>,
}

/// What can go wrong on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fault {
    /// The request arrives; no answer ever comes.
    Timeout,
    /// The request arrives; the connection is closed without an answer.
    Reset,
    /// An answer larger than the connector may read.
    Oversized,
    /// A redirect elsewhere (the host never follows one).
    Redirect,
    /// A proxy's HTML error page with a 502.
    Html5xx,
    /// 200 with a body that is neither JSON nor XML.
    NotJsonOrXml,
}

/// The outcome expected. Only what is given is compared.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// `succeeded`, `pending`, `failed` or `unknown`.
    pub state: Option<String>,
    /// A state the outcome must not have (the built-in scenarios).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_state: Option<String>,
    /// The unified error kind (`declined`, `in-progress`, …).
    pub kind: Option<String>,
    /// The supplier's code as the connector reports it.
    pub code: Option<String>,
    /// Whether the same request may be sent again.
    pub retryable: Option<bool>,
    /// The supplier's reference the outcome carries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Text the outcome's message holds (the error's message, or the
    /// supplier's message).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// What the request must carry. Only what is given is compared.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sent {
    /// `GET`, `POST`, …
    pub method: Option<String>,
    /// The path, without the query.
    pub path: Option<String>,
    /// Query parameters.
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    /// Header values (names in any case).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Headers that must be there, whatever their value.
    #[serde(default)]
    pub headers_present: Vec<String>,
    /// Headers whose whole value must match a regular expression
    /// (`"^[0-9a-f]{64}$"`).
    #[serde(default)]
    pub headers_match: BTreeMap<String, String>,
    /// JSON body fields by JSON Pointer (`/creditCard/cardNumber`).
    #[serde(default)]
    pub json: BTreeMap<String, toml::Value>,
    /// XML body elements' text by path of local names
    /// (`Envelope/Body/PayOrder/BookID`).
    #[serde(default)]
    pub xml: BTreeMap<String, String>,
    /// How many requests the supplier must have received (default: any).
    pub requests: Option<usize>,
}

impl Scenarios {
    /// Reads a scenarios file; the error says what is wrong and where.
    pub fn load(path: &Path) -> Result<Scenarios, ConformanceError> {
        let text =
            std::fs::read_to_string(path).map_err(|error| ConformanceError::ReadScenarios {
                path: path.to_owned(),
                error,
            })?;
        Self::parse(&text).map_err(|error| ConformanceError::InvalidScenarios {
            path: path.to_owned(),
            error: Box::new(error),
        })
    }

    /// Parses a scenarios file's text.
    pub fn parse(text: &str) -> Result<Scenarios, ConformanceError> {
        let scenarios: Scenarios = toml::from_str(text).map_err(ConformanceError::Toml)?;
        for s in &scenarios.scenarios {
            if s.answer.is_some() != s.answers.is_empty() {
                return Err(ConformanceError::Answers {
                    scenario: s.name.clone(),
                });
            }
            for answer in s.answers() {
                if answer.fault.is_some() && (answer.status.is_some() || !answer.body.is_empty()) {
                    return Err(ConformanceError::FaultAndResponse {
                        scenario: s.name.clone(),
                    });
                }
            }
            if let Some(sent) = &s.sent {
                for (header, pattern) in &sent.headers_match {
                    regex::Regex::new(pattern).map_err(|e| ConformanceError::Pattern {
                        scenario: s.name.clone(),
                        header: header.clone(),
                        error: e.to_string(),
                    })?;
                }
            }
        }
        Ok(scenarios)
    }

    /// The request of `scenario`: its fields over the file's over defaults.
    pub fn request(
        &self,
        scenario: &Scenario,
        n: usize,
    ) -> Result<PaymentRequest, ConformanceError> {
        let (base, over) = (&self.request, &scenario.request);
        let pick = |a: &Option<String>, b: &Option<String>, default: &str| {
            b.clone()
                .or_else(|| a.clone())
                .unwrap_or(default.to_owned())
        };
        let method = pick(&base.method, &over.method, "balance");
        let method = match method.as_str() {
            "balance" => PaymentMethod::Balance,
            "card" => PaymentMethod::Card(test_card()),
            "merchant-of-record" => PaymentMethod::MerchantOfRecord(test_card()),
            other => match other.strip_prefix("account:") {
                Some(id) => PaymentMethod::Account(id.to_owned()),
                None => {
                    return Err(ConformanceError::Method {
                        scenario: scenario.name.clone(),
                        method: other.to_owned(),
                    });
                }
            },
        };
        let amount = Money::parse(
            &pick(&base.amount, &over.amount, "100.00"),
            &pick(&base.currency, &over.currency, "USD"),
        )
        .map_err(|error| ConformanceError::Amount {
            scenario: scenario.name.clone(),
            error,
        })?;
        let mut attributes = base.attributes.clone();
        attributes.extend(over.attributes.clone());
        Ok(PaymentRequest {
            order_id: pick(&base.order_id, &over.order_id, "ORDER-1"),
            client_order_id: over
                .client_order_id
                .clone()
                .or_else(|| base.client_order_id.clone()),
            method,
            amount,
            idempotency_key: format!("conformance-{n}"),
            attributes,
        })
    }
}

impl Scenario {
    /// The answers the supplier gives, in order.
    pub fn answers(&self) -> Vec<Answer> {
        match &self.answer {
            Some(answer) => vec![answer.clone()],
            None => self.answers.clone(),
        }
    }
}

/// The card every card scenario pays with: a test number, never a real one.
pub fn test_card() -> Card {
    Card {
        number: "4111111111111111".into(),
        expiry_month: 12,
        expiry_year: 2099,
        cvv: Some("123".into()),
        holder_first_name: "Test".into(),
        holder_last_name: "Holder".into(),
        billing_address: None,
        reusable: false,
    }
}

/// The scenarios every connector must pass, whatever its supplier: after
/// the request went out, nothing but a readable answer may say what
/// happened.
pub fn built_in() -> Vec<Scenario> {
    let fault = |name: &str, fault: Fault, expect: Expect, requests: Option<usize>| Scenario {
        name: name.to_owned(),
        call: Call::Pay,
        request: RequestSpec::default(),
        clock: None,
        answer: Some(Answer {
            fault: Some(fault),
            ..Answer::default()
        }),
        answers: Vec::new(),
        expect,
        sent: requests.map(|n| Sent {
            requests: Some(n),
            ..Sent::default()
        }),
    };
    let unknown = || Expect {
        state: Some("unknown".into()),
        ..Expect::default()
    };
    let not_succeeded = || Expect {
        not_state: Some("succeeded".into()),
        ..Expect::default()
    };
    vec![
        fault(
            "built-in: a 5xx HTML page is never succeeded",
            Fault::Html5xx,
            not_succeeded(),
            None,
        ),
        fault(
            "built-in: an unreadable answer after sending is unknown",
            Fault::NotJsonOrXml,
            unknown(),
            None,
        ),
        fault(
            "built-in: a timeout after sending is unknown",
            Fault::Timeout,
            unknown(),
            None,
        ),
        fault(
            "built-in: a connection reset after the request is unknown",
            Fault::Reset,
            unknown(),
            None,
        ),
        fault(
            "built-in: an oversized answer is unknown",
            Fault::Oversized,
            unknown(),
            None,
        ),
        fault(
            "built-in: a redirect is not followed",
            Fault::Redirect,
            not_succeeded(),
            Some(1),
        ),
    ]
}
