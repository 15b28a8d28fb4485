//! The API fit to expose, against the real server process: tokens and
//! scopes, the `Host` check, body limits, JSON errors that quote nothing the
//! caller sent, and the refusals that keep an order from being paid twice.

use crate::serve::{Server, body, post, workspace};
use payhost_sandbox::sim::Simulator;
use payhost_tests::{artifacts, payhost_bin};
use serde_json::{Value, json};
use std::process::Command;
use std::time::Duration;

const PAY_TOKEN: &str = "ph_pay-and-read-token-for-tests";
const OPS_TOKEN: &str = "ph_resolve-token-for-tests";

fn sha(text: &str) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

/// Adds an `[api]` section with two tokens.
fn with_tokens(dir: &std::path::Path) {
    let config = dir.join("payhost.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "\n[api]\ntokens = [\n  {{ name = \"shop\", sha256 = \"{}\", scopes = [\"pay\", \"read\"] }},\n  {{ name = \"ops\", sha256 = \"{}\", scopes = [\"resolve\", \"read\", \"admin\"] }},\n]\n",
        sha(PAY_TOKEN),
        sha(OPS_TOKEN)
    ));
    std::fs::write(&config, text).unwrap();
}

async fn call(request: reqwest::RequestBuilder) -> (u16, Value) {
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    let value = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("status {status}: not JSON: {text:?}"));
    (status, value)
}

/// Sends `request` as it is on a new connection and reads what comes back.
async fn raw_exchange(url: &str, request: &str) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let addr = url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

fn code(answer: &Value) -> &str {
    answer["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_scopes_and_host_names_guard_the_api_and_every_error_is_json() {
    let sim = Simulator::start().await.unwrap();
    let dir = workspace(&sim, &[artifacts::PAYHOST_ATLAS]);
    with_tokens(dir.path());
    let server = Server::start(dir.path());
    let client = reqwest::Client::new();
    let url = &server.url;
    let pay = |token: Option<&str>| {
        let r =
            client
                .post(format!("{url}/v1/payments"))
                .json(&body("atlas", "ATL-OK-auth", "auth-1"));
        match token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    };
    let (status, answer) = call(pay(None)).await;
    assert_eq!(
        (status, code(&answer)),
        (401, "unauthenticated"),
        "{answer}"
    );
    let (status, answer) = call(pay(Some("ph_not-a-token"))).await;
    assert_eq!(
        (status, code(&answer)),
        (401, "unauthenticated"),
        "{answer}"
    );
    let (status, answer) = call(pay(Some(OPS_TOKEN))).await;
    assert_eq!((status, code(&answer)), (403, "forbidden"), "{answer}");
    let (status, answer) = call(pay(Some(PAY_TOKEN))).await;
    assert_eq!(
        (status, answer["outcome"]["state"].as_str()),
        (200, Some("succeeded")),
        "{answer}"
    );
    // Read with the pay token, not the grants.
    let (status, _) = call(
        client
            .get(format!("{url}/v1/payments/1"))
            .bearer_auth(PAY_TOKEN),
    )
    .await;
    assert_eq!(status, 200);
    let (status, answer) = call(
        client
            .get(format!("{url}/v1/connectors"))
            .bearer_auth(PAY_TOKEN),
    )
    .await;
    assert_eq!((status, code(&answer)), (403, "forbidden"), "{answer}");
    let (status, _) = call(
        client
            .get(format!("{url}/v1/connectors"))
            .bearer_auth(OPS_TOKEN),
    )
    .await;
    assert_eq!(status, 200);
    // /healthz is open; another Host is refused everywhere (DNS rebinding).
    let (status, _) = call(client.get(format!("{url}/healthz"))).await;
    assert_eq!(status, 200);
    let (status, answer) = call(
        client
            .get(format!("{url}/healthz"))
            .header("host", "attacker.example:8700"),
    )
    .await;
    assert_eq!(
        (status, code(&answer)),
        (421, "host_not_allowed"),
        "{answer}"
    );
    // A target in absolute form, or a second Host, is checked too.
    let answer = raw_exchange(
        url,
        "GET http://attacker.example/healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 421"), "{answer}");
    let answer = raw_exchange(
        url,
        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: attacker.example\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(!answer.starts_with("HTTP/1.1 200"), "{answer}");
    // Errors of the router itself are JSON too.
    let (status, answer) = call(
        client
            .get(format!("{url}/v1/payments/abc"))
            .bearer_auth(PAY_TOKEN),
    )
    .await;
    assert_eq!((status, code(&answer)), (400, "bad_id"), "{answer}");
    let (status, answer) = call(client.delete(format!("{url}/v1/payments"))).await;
    assert_eq!(
        (status, code(&answer)),
        (405, "method_not_allowed"),
        "{answer}"
    );
    let (status, answer) = call(client.get(format!("{url}/nowhere"))).await;
    assert_eq!((status, code(&answer)), (404, "not_found"), "{answer}");
    // A body announced at 10 MB is refused before it is read, and one that
    // is larger than it says is cut at the limit.
    let answer = raw_exchange(
        url,
        &format!(
            "POST /v1/payments HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: Bearer {PAY_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 10485760\r\n\r\n{{"
        ),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"body_too_large\""), "{answer}");
    let chunk = " ".repeat(100 << 10);
    let answer = raw_exchange(
        url,
        &format!(
            "POST /v1/payments HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: Bearer {PAY_TOKEN}\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
            chunk.len()
        ),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_gets_a_json_error_that_quotes_nothing_it_was_sent() {
    let sim = Simulator::start().await.unwrap();
    let dir = workspace(&sim, &[artifacts::PAYHOST_ATLAS]);
    let server = Server::start(dir.path());
    let client = reqwest::Client::new();
    let base = json!({"connector": "atlas", "order_id": "ATL-OK-bad", "amount": "10.00", "currency": "USD", "idempotency_key": "bad-1"});
    let with = |field: &str, value: Value| {
        let mut b = base.clone();
        b[field] = value;
        b
    };
    let card = |number: Value, cvv: Value| {
        let mut b = base.clone();
        b["method"] = json!("card");
        b["card"] = json!({"number": number, "expiry_month": 12, "expiry_year": 2099, "cvv": cvv,
                           "holder_first_name": "Ada", "holder_last_name": "Lovelace"});
        b
    };
    let cases: Vec<(&str, Value, &str, &[&str])> = vec![
        (
            "amount 0",
            with("amount", json!("0")),
            "invalid_request",
            &[],
        ),
        (
            "0.001 JPY",
            with("currency", json!("JPY"))
                .as_object()
                .map(|_| {
                    let mut b = with("currency", json!("JPY"));
                    b["amount"] = json!("0.001");
                    b
                })
                .unwrap(),
            "invalid_request",
            &["0.001"],
        ),
        (
            "currency XXX",
            with("currency", json!("XXX")),
            "invalid_request",
            &["XXX"],
        ),
        (
            "currency ZZZ",
            with("currency", json!("ZZZ")),
            "invalid_request",
            &["ZZZ"],
        ),
        (
            "a key of spaces",
            with("idempotency_key", json!("   ")),
            "invalid_request",
            &[],
        ),
        (
            "a key with NUL",
            with("idempotency_key", json!("k\u{0}ey")),
            "invalid_request",
            &[],
        ),
        (
            "an order id with a bidi override",
            with("order_id", json!("ATL-\u{202e}OK")),
            "invalid_request",
            &["\u{202e}"],
        ),
        (
            "a CVV as a number",
            card(json!("4532015112830366"), json!(8642)),
            "bad_json",
            &["8642", "4532015112830366"],
        ),
        (
            "a 12-digit number that fails Luhn",
            card(json!("123456789012"), json!("737")),
            "invalid_request",
            &["123456789012", "737"],
        ),
        (
            "an unknown field",
            with("evil_field_name", json!("x")),
            "bad_json",
            &["evil_field_name"],
        ),
        (
            "an attribute of the wrong type",
            with("attributes", json!({"secret-name": 5})),
            "bad_json",
            &["secret-name"],
        ),
    ];
    for (what, b, expected, never) in cases {
        let (status, answer) = post(&client, &server.url, &b).await;
        assert_eq!((status, code(&answer)), (400, expected), "{what}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        for text in never {
            assert!(
                !message.contains(text),
                "{what}: the error quotes `{text}`: {message}"
            );
        }
    }
    let (status, answer) = call(
        client
            .post(format!("{}/v1/payments", server.url))
            .header("content-type", "application/json")
            .body("{\"connector\": "),
    )
    .await;
    assert_eq!((status, code(&answer)), (400, "bad_json"), "{answer}");
    // A whole valid body with more after it is no body.
    let valid = body("atlas", "ATL-OK-trailing", "trailing-1").to_string();
    let (status, answer) = call(
        client
            .post(format!("{}/v1/payments", server.url))
            .header("content-type", "application/json")
            .body(format!("{valid}xyz")),
    )
    .await;
    assert_eq!((status, code(&answer)), (400, "bad_json"), "{answer}");
    // Nor is one sent as anything but JSON: a web page may post text/plain
    // or a form to a host on loopback without the browser asking first.
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
    ] {
        let mut request = client
            .post(format!("{}/v1/payments", server.url))
            .body(valid.clone());
        if let Some(t) = content_type {
            request = request.header("content-type", t);
        }
        let (status, answer) = call(request).await;
        assert_eq!(
            (status, code(&answer)),
            (415, "unsupported_media_type"),
            "{content_type:?}: {answer}"
        );
    }
    // Nothing reached the supplier.
    assert!(sim.received().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_key_for_an_order_in_flight_or_pending_is_refused_with_one_supplier_call() {
    let sim = Simulator::start().await.unwrap();
    let dir = workspace(&sim, &[artifacts::PAYHOST_ATLAS, artifacts::PAYHOST_NEMO]);
    let server = Server::start(dir.path());
    let client = reqwest::Client::new();
    // In flight: the first key's payment waits two seconds at the supplier.
    let order = "FAULT-delay-busy";
    let (url, c) = (server.url.clone(), client.clone());
    let first = tokio::spawn(async move { post(&c, &url, &body("atlas", order, "busy-1")).await });
    while sim.pay_calls(payhost_sandbox::sim::Supplier::Atlas, order) == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (status, answer) = post(&client, &server.url, &body("atlas", order, "busy-2")).await;
    assert_eq!((status, code(&answer)), (409, "order_busy"), "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("in-flight"),
        "{answer}"
    );
    let (status, answer) = first.await.unwrap();
    assert_eq!(
        (status, answer["outcome"]["state"].as_str()),
        (200, Some("succeeded")),
        "{answer}"
    );
    assert_eq!(
        sim.pay_calls(payhost_sandbox::sim::Supplier::Atlas, order),
        1
    );

    // Pending: Nemo's Rapida account payment ends pending; a new key is refused.
    let mut pending = body("nemo", "100002", "pending-1");
    pending["method"] = json!("account");
    pending["account"] = json!("1079");
    let (status, answer) = post(&client, &server.url, &pending).await;
    assert_eq!(
        (status, answer["outcome"]["state"].as_str()),
        (200, Some("pending")),
        "{answer}"
    );
    pending["idempotency_key"] = json!("pending-2");
    let (status, answer) = post(&client, &server.url, &pending).await;
    assert_eq!((status, code(&answer)), (409, "order_busy"), "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("pending"),
        "{answer}"
    );
    assert_eq!(
        sim.pay_calls(payhost_sandbox::sim::Supplier::Nemo, "100002"),
        1
    );
}

#[tokio::test]
async fn with_no_token_the_host_serves_loopback_only() {
    let sim = Simulator::start().await.unwrap();
    let dir = workspace(&sim, &[artifacts::PAYHOST_ATLAS]);
    let out = Command::new(payhost_bin())
        .args(["serve", "--listen", "0.0.0.0:0", "--config"])
        .arg(dir.path().join("payhost.toml"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("with no API token"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn with_tls_the_api_speaks_https_only() {
    let sim = Simulator::start().await.unwrap();
    let dir = workspace(&sim, &[artifacts::PAYHOST_ATLAS]);
    let key = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let cert_pem = key.cert.pem();
    std::fs::write(dir.path().join("cert.pem"), &cert_pem).unwrap();
    std::fs::write(dir.path().join("key.pem"), key.key_pair.serialize_pem()).unwrap();
    let config = dir.path().join("payhost.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[api]\ntls = { cert = \"cert.pem\", key = \"key.pem\" }\n");
    std::fs::write(&config, text).unwrap();
    let server = Server::start(dir.path());
    assert!(server.url.starts_with("https://"), "{}", server.url);
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let (status, answer) = post(&client, &server.url, &body("atlas", "ATL-OK-tls", "tls-1")).await;
    assert_eq!(
        (status, answer["outcome"]["state"].as_str()),
        (200, Some("succeeded")),
        "{answer}"
    );
    // Plain HTTP on the same port gets no answer.
    let plain = server.url.replacen("https://", "http://", 1);
    assert!(
        reqwest::Client::new()
            .get(format!("{plain}/healthz"))
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_connections_are_closed_and_cannot_hold_every_slot() {
    use tokio::io::AsyncReadExt as _;
    let sim = Simulator::start().await.unwrap();
    let dir = workspace(&sim, &[artifacts::PAYHOST_ATLAS]);
    let config = dir.path().join("payhost.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[api]\nmax_connections = 4\nheader_timeout = \"1s\"\n");
    std::fs::write(&config, text).unwrap();
    let server = Server::start(dir.path());
    let addr = server.url.trim_start_matches("http://").to_owned();
    // Four connections that never send a byte take every slot.
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(tokio::net::TcpStream::connect(&addr).await.unwrap());
    }
    // A real request still gets through once they are timed out.
    let started = std::time::Instant::now();
    let (status, _) = call(
        reqwest::Client::new()
            .get(format!("{}/healthz", server.url))
            .timeout(Duration::from_secs(10)),
    )
    .await;
    assert_eq!(status, 200);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(500),
        "served in {waited:?} past four taken slots"
    );
    // And the idle ones were closed by the host.
    for mut stream in idle {
        let mut buf = [0u8; 16];
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await;
        assert!(
            matches!(read, Ok(Ok(0)) | Ok(Err(_))),
            "an idle connection stayed open"
        );
    }
}
