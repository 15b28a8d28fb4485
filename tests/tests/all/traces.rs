//! Traces from a real `payhost serve`: a caller's `traceparent` is the
//! parent of the request's span and goes on to the supplier, the supplier
//! echoing it does not hand it to the connector, and the spans (request,
//! journal writes, connector call, supplier request) reach an OTLP
//! collector stand-in on loopback, without a secret or a card number in
//! them.

use crate::serve::Server;
use crate::support::{TOKEN, probe};
use payhost_sandbox::recorder::Recorder;
use payhost_sandbox::script::{Scripted, ScriptedSupplier};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";
const CARD: &str = "4111111111111111";

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_callers_trace_reaches_the_supplier_and_the_collector_without_secrets() {
    // The collector stand-in: it keeps every export it receives.
    let otlp = Recorder::start().await.unwrap();
    let supplier = ScriptedSupplier::start().await.unwrap();
    // The supplier echoes the trace it was sent.
    supplier.answer(Scripted::json(
        200,
        &format!(r#"{{"status": "paid", "code": "0", "message": "trace {TRACE_ID} seen"}}"#),
    ));
    let extra = format!(
        "\n[telemetry]\notlp_endpoint = \"http://{}\"\nservice_name = \"payhost-test\"\n",
        otlp.addr()
    );
    let (ws, _) = probe(&supplier.url(), &[&supplier.url()], &extra);
    let mut server = Server::start(ws.path());
    let client = reqwest::Client::new();
    let answer: Value = client
        .post(format!("{}/v1/payments", server.url))
        .header("traceparent", format!("00-{TRACE_ID}-{CALLER_SPAN}-01"))
        // A request id of letters only: a random one (a UUID) may hold
        // the CVV's digits by chance.
        .header("x-request-id", "trace-test-request")
        .json(&json!({
            "connector": "probe", "order_id": "T-1", "amount": "10.00", "currency": "USD",
            "idempotency_key": "t-1", "attributes": { "action": "status" },
            "method": "card",
            "card": {"number": CARD, "expiry_month": 12, "expiry_year": 2099, "cvv": "737",
                     "holder_first_name": "Ada", "holder_last_name": "Lovelace"}
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["outcome"]["state"], "succeeded", "{answer:#}");

    // The supplier got the caller's trace, under the host's own span.
    let sent = supplier.requests();
    let traceparent = sent[0]
        .headers
        .iter()
        .find(|(n, _)| n == "traceparent")
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("no traceparent in {:?}", sent[0].headers));
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts.len(), 4, "{traceparent}");
    assert_eq!((parts[0], parts[1], parts[3]), ("00", TRACE_ID, "01"));
    assert_ne!(
        parts[2], CALLER_SPAN,
        "the supplier request is a span of its own"
    );
    // Its echo never reached the connector.
    let message = answer["outcome"]["supplier_message"]
        .as_str()
        .unwrap_or_default();
    assert!(!message.contains(TRACE_ID), "{answer:#}");
    let echoed = answer["outcome"]["details"].to_string();
    assert!(echoed.contains("host:trace"), "{answer:#}");

    // Stopped, the host sends what it holds to the collector.
    server.terminate();
    let started = Instant::now();
    while server.child.try_wait().unwrap().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the host did not stop"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.kill();
    let exports = otlp.requests();
    assert!(!exports.is_empty(), "nothing was exported");
    let body: Vec<u8> = exports.iter().flat_map(|e| e.body.clone()).collect();
    for e in &exports {
        assert_eq!(e.method, "POST");
        assert_eq!(e.uri, "/v1/traces");
    }
    let trace_id = hex::decode(TRACE_ID).unwrap();
    assert!(
        contains(&body, &trace_id),
        "the caller's trace id is not in the export"
    );
    for name in [
        "request",
        "journal.begin",
        "connector.call",
        "supplier.request",
        "journal.finish",
        "payhost-test",
    ] {
        assert!(contains(&body, name.as_bytes()), "no {name} in the export");
    }
    // The debug spans inside a call (the benchmark's phases) stay out.
    for name in [
        "connector.instantiate",
        "supplier.exchange",
        "connector.teardown",
    ] {
        assert!(!contains(&body, name.as_bytes()), "{name} was exported");
    }
    // Nothing secret or card-bearing in any attribute. (The supplier's
    // origin is an attribute whose random port may hold the CVV's digits:
    // it is taken out first.)
    let body = without(&body, supplier.url().as_bytes());
    for secret in [TOKEN, CARD, "737", "Lovelace", "T-1"] {
        assert!(
            !contains(&body, secret.as_bytes()),
            "{secret} is in the export"
        );
    }
}

/// `haystack` with every occurrence of `needle` taken out.
fn without(haystack: &[u8], needle: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if !needle.is_empty() && haystack[i..].starts_with(needle) {
            i += needle.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}
