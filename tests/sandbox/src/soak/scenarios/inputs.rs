//! Hostile callers: malformed, oversized and card-carrying requests, and
//! connections that trickle their headers.

use super::super::client::{Pay, http, pay};
use super::super::ledger::Ledger;
use super::super::stage::{Stage, free_port};
use super::super::{Ctx, Row};
use super::{settle, told};
use futures::StreamExt as _;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// A card number that passes the Luhn check.
const PAN: &str = "4532015112830366";

/// A bad request: raw bytes on a fresh connection.
struct Bad {
    what: String,
    raw: Vec<u8>,
}

/// An HTTP/1.1 request with `body`.
fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    let mut raw = out.into_bytes();
    raw.extend_from_slice(body);
    raw
}

/// A JSON body to `POST /v1/payments`.
fn post(what: impl Into<String>, body: &Value) -> Bad {
    Bad {
        what: what.into(),
        raw: request(
            "POST",
            "/v1/payments",
            &[("content-type", "application/json")],
            body.to_string().as_bytes(),
        ),
    }
}

/// 130 requests no host may act on.
fn bad_requests(ctx: &Ctx) -> Vec<Bad> {
    let valid = || Pay::new(ctx, "atlas", false).body();
    let mut bad = Vec::new();
    // Each field of a valid body missing, of the wrong type, empty, huge,
    // or carrying a NUL.
    let wrong: [(&str, Value); 8] = [
        ("null", Value::Null),
        ("a number", json!(1)),
        ("empty", json!("")),
        ("an array", json!(["atlas"])),
        ("an object", json!({"a": 1})),
        ("100,000 characters", json!("9".repeat(100_000))),
        ("a NUL", json!("atl\u{0}as")),
        ("a boolean", json!(true)),
    ];
    for field in [
        "connector",
        "order_id",
        "amount",
        "currency",
        "idempotency_key",
    ] {
        let mut body = valid();
        body.as_object_mut().expect("an object").remove(field);
        bad.push(post(format!("{field} missing"), &body));
        for (what, value) in &wrong {
            let mut body = valid();
            body[field] = value.clone();
            bad.push(post(format!("{field} {what}"), &body));
        }
    }
    for amount in [
        json!("-1"),
        json!("0"),
        json!("1e3"),
        json!("312.999"),
        json!("NaN"),
        json!("Infinity"),
        json!(312.99),
        json!("1.2.3"),
        json!("312.99.1"),
        json!("312,99"),
        json!("0x10"),
        json!("+5"),
        json!("٣١٢"),
    ] {
        let mut body = valid();
        body["amount"] = amount.clone();
        bad.push(post(format!("amount {amount}"), &body));
    }
    for currency in ["usd", "XXX", "US", "ZZZ", "EURO"] {
        let mut body = valid();
        body["currency"] = json!(currency);
        bad.push(post(format!("currency {currency}"), &body));
    }
    // A card number where it does not belong.
    let spaced = "4532 0151 1283 0366";
    for (what, field, value) in [
        ("a card number as order_id", "order_id", json!(PAN)),
        (
            "a spaced card number as order_id",
            "order_id",
            json!(spaced),
        ),
        (
            "a card number as client_order_id",
            "client_order_id",
            json!(PAN),
        ),
        (
            "a card number in an attribute",
            "attributes",
            json!({"ref": PAN}),
        ),
    ] {
        let mut body = valid();
        body[field] = value;
        bad.push(post(what, &body));
    }
    let card = json!({"number": PAN, "expiry_month": 12, "expiry_year": 2030, "cvv": "123",
        "holder_first_name": "Ada", "holder_last_name": "Lovelace"});
    for (what, method, card) in [
        ("card without a card", "card", Value::Null),
        ("card failing Luhn", "card", {
            let mut c = card.clone();
            c["number"] = json!("4532015112830367");
            c
        }),
        ("expiry month 13", "card", {
            let mut c = card.clone();
            c["expiry_month"] = json!(13);
            c
        }),
        ("expiry year 1999", "card", {
            let mut c = card.clone();
            c["expiry_year"] = json!(1999);
            c
        }),
        ("a five-digit cvv", "card", {
            let mut c = card.clone();
            c["cvv"] = json!("12345");
            c
        }),
        ("letters in the number", "card", {
            let mut c = card.clone();
            c["number"] = json!("4532O15112830366");
            c
        }),
        ("an unknown field in the card", "card", {
            let mut c = card.clone();
            c["pin"] = json!("0000");
            c
        }),
        ("method bitcoin", "bitcoin", Value::Null),
    ] {
        let mut body = valid();
        body["method"] = json!(method);
        if !card.is_null() {
            body["card"] = card;
        }
        bad.push(post(what, &body));
    }
    let odd: [(&str, &str, Value); 12] = [
        ("attributes as an array", "attributes", json!(["a"])),
        (
            "100 attributes",
            "attributes",
            Value::Object((0..100).map(|i| (format!("k{i}"), json!("v"))).collect()),
        ),
        (
            "an attribute of 5,000 characters",
            "attributes",
            json!({"k": "v".repeat(5_000)}),
        ),
        (
            "a client order id of 200 characters",
            "client_order_id",
            json!("c".repeat(200)),
        ),
        (
            "method account without an account",
            "method",
            json!("account"),
        ),
        ("an account with method balance", "account", json!("CAG")),
        ("a card with method balance", "card", card.clone()),
        ("method as a number", "method", json!(3)),
        (
            "an amount with 40 decimals",
            "amount",
            json!("0.0000000000000000000000000000000000000001"),
        ),
        (
            "a Cyrillic a in the connector",
            "connector",
            json!("\u{430}tlas"),
        ),
        ("an order id of spaces", "order_id", json!("   ")),
        (
            "a card number as an attribute's name",
            "attributes",
            json!({PAN: "x"}),
        ),
    ];
    for (what, field, value) in odd {
        let mut body = valid();
        body[field] = value;
        bad.push(post(what, &body));
    }
    let mut body = valid();
    body["surprise"] = json!(1);
    bad.push(post("an unknown field", &body));
    for name in ["../atlas", "ATLAS", "atlas ", "nosuch", "atlas/../nemo"] {
        let mut body = valid();
        body["connector"] = json!(name);
        bad.push(post(format!("connector {name:?}"), &body));
    }
    // Bodies that are not one JSON object.
    let v = valid().to_string();
    let dup = v.replacen('{', "{\"amount\":\"1.00\",", 1);
    for (what, body) in [
        ("an empty body", Vec::new()),
        ("an open brace", b"{".to_vec()),
        ("an array", b"[]".to_vec()),
        ("null", b"null".to_vec()),
        ("a string", b"\"pay\"".to_vec()),
        ("100,000 nested arrays", "[".repeat(100_000).into_bytes()),
        ("invalid UTF-8", b"{\"connector\":\"\xff\xfe\"}".to_vec()),
        (
            "a byte-order mark",
            [b"\xef\xbb\xbf".as_slice(), v.as_bytes()].concat(),
        ),
        ("trailing garbage", format!("{v}xyz").into_bytes()),
        ("a duplicated key", dup.into_bytes()),
        ("a 1 MiB body", vec![b' '; 1 << 20]),
    ] {
        bad.push(Bad {
            what: what.to_owned(),
            raw: request(
                "POST",
                "/v1/payments",
                &[("content-type", "application/json")],
                &body,
            ),
        });
    }
    // The HTTP around it.
    let body = v.as_bytes();
    for (what, raw) in [
        (
            "text/plain",
            request(
                "POST",
                "/v1/payments",
                &[("content-type", "text/plain")],
                body,
            ),
        ),
        (
            "no content-type",
            request("POST", "/v1/payments", &[], body),
        ),
        (
            "DELETE on the payments",
            request("DELETE", "/v1/payments", &[], b""),
        ),
        (
            "a search with a card number for a state",
            request("GET", "/v1/payments?state=4111111111111111", &[], b""),
        ),
        (
            "PUT",
            request(
                "PUT",
                "/v1/payments",
                &[("content-type", "application/json")],
                body,
            ),
        ),
        ("DELETE", request("DELETE", "/v1/payments/1", &[], b"")),
        (
            "a wrong path",
            request(
                "POST",
                "/v1/payment",
                &[("content-type", "application/json")],
                body,
            ),
        ),
        (
            "a dot-dot path",
            request(
                "POST",
                "/v1/../v1/payments/../payments",
                &[("content-type", "application/json")],
                body,
            ),
        ),
        (
            "an id that is no number",
            request("GET", "/v1/payments/abc", &[], b""),
        ),
        ("a negative id", request("GET", "/v1/payments/-1", &[], b"")),
        (
            "a huge id",
            request("GET", "/v1/payments/99999999999999999999999", &[], b""),
        ),
        (
            "resolving no payment",
            request(
                "POST",
                "/v1/payments/999999/resolve",
                &[("content-type", "application/json")],
                br#"{"state":"failed","note":"x"}"#,
            ),
        ),
        (
            "resolving without a note",
            request(
                "POST",
                "/v1/payments/1/resolve",
                &[("content-type", "application/json")],
                br#"{"state":"failed"}"#,
            ),
        ),
        (
            "resolving as succeeded with a card in the note",
            request(
                "POST",
                "/v1/payments/1/resolve",
                &[("content-type", "application/json")],
                format!(r#"{{"state":"succeeded","note":"{PAN}"}}"#).as_bytes(),
            ),
        ),
    ] {
        bad.push(Bad {
            what: what.to_owned(),
            raw,
        });
    }
    let mut evil_host = request(
        "POST",
        "/v1/payments",
        &[("content-type", "application/json")],
        body,
    );
    let text =
        String::from_utf8_lossy(&evil_host).replacen("host: 127.0.0.1", "host: evil.example", 1);
    evil_host = text.into_bytes();
    bad.push(Bad {
        what: "a foreign Host".into(),
        raw: evil_host,
    });
    for (what, raw) in [
        ("content-length and chunked at once", format!("POST /v1/payments HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 4\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n{v}").into_bytes()),
        ("a content-length longer than the body", format!("POST /v1/payments HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 999\r\nconnection: close\r\n\r\n{v}").into_bytes()),
        ("a header of 64 KiB", format!("POST /v1/payments HTTP/1.1\r\nhost: 127.0.0.1\r\nx-big: {}\r\ncontent-length: 0\r\n\r\n", "a".repeat(65_536)).into_bytes()),
        ("a control byte in a header", b"POST /v1/payments HTTP/1.1\r\nhost: 127.0.0.1\r\nx-a: \x01\x02\r\ncontent-length: 0\r\n\r\n".to_vec()),
        ("an HTTP/0.9 line", b"GET /\r\n\r\n".to_vec()),
        ("a TLS hello on the plain port", b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03".to_vec()),
        ("an unknown method", request("BREW", "/v1/payments", &[], b"")),
        ("a negative content-length", b"POST /v1/payments HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: -5\r\n\r\n".to_vec()),
        ("a request line of 100 KiB", format!("GET /{} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n", "a".repeat(100_000)).into_bytes()),
        ("a form post", request("POST", "/v1/payments", &[("content-type", "application/x-www-form-urlencoded")], format!("connector=atlas&order_id={PAN}").as_bytes())),
        ("a JSON body called text/json", request("POST", "/v1/payments", &[("content-type", "text/json")], body)),
    ] {
        bad.push(Bad { what: what.to_owned(), raw });
    }
    bad
}

/// Sends raw bytes on a new connection; the status of the answer, if any.
async fn send_raw(addr: &str, raw: &[u8]) -> Option<u16> {
    let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    // No half-close: a server may take it for a client gone away.
    let _ = stream.write_all(raw).await;
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + Duration::from_secs(15);
    while answer.len() < 12 {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => answer.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&answer);
    text.strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|s| s.parse().ok())
}

/// The bad requests, 16 at a time; then 20 valid payments, which must go
/// through. Wrong: a bad request answered 5xx, or that reached a supplier,
/// a card number in the log or the journal, a valid payment that failed.
pub(super) async fn bad_inputs(ctx: &Ctx) -> anyhow::Result<Row> {
    let stage = Stage::new(ctx, "lease = \"2s\"\njournal_wait = \"500ms\"", "")?;
    let port = free_port()?;
    let server = stage.serve(port, false).await?;
    let addr = format!("127.0.0.1:{port}");
    let bad = bad_requests(ctx);
    let before = ctx.sim.received().len();
    let answers: Vec<(String, Option<u16>)> = futures::stream::iter(
        bad.iter()
            .map(|b| async { (b.what.clone(), send_raw(&addr, &b.raw).await) }),
    )
    .buffer_unordered(16)
    .collect()
    .await;
    let reached = ctx.sim.received().len() - before;
    let mut wrong = reached as u64;
    let mut unanswered = 0;
    for (what, status) in &answers {
        match status {
            Some(s) if *s >= 500 => {
                wrong += 1;
                eprintln!("soak: bad-inputs: {what}: answered {s}");
            }
            Some(s) if *s < 400 => {
                wrong += 1;
                eprintln!("soak: bad-inputs: {what}: answered {s}, as if it were fine");
            }
            Some(_) => {}
            // Refusing to speak HTTP to what is not HTTP is an answer too.
            None => unanswered += 1,
        }
    }
    let ledger = Ledger::default();
    let http = http();
    let hosts = vec![server.url.clone()];
    let until = Instant::now() + Duration::from_secs(60);
    let valid: Vec<Pay> = (0..20).map(|_| Pay::any(ctx, 0)).collect();
    futures::future::join_all(valid.iter().map(|p| pay(&http, &hosts, p, until, &ledger))).await;
    let failed = 20 - ledger.told("succeeded");
    wrong += failed as u64;
    let log = stage.log_count(PAN) + stage.log_count("4532 0151 1283 0366");
    let journal = std::fs::read(stage.path().join("payhost.db")).unwrap_or_default();
    let wal = std::fs::read(stage.path().join("payhost.db-wal")).unwrap_or_default();
    let stored = [journal, wal]
        .iter()
        .filter(|bytes| bytes.windows(PAN.len()).any(|w| w == PAN.as_bytes()))
        .count();
    wrong += (log + stored) as u64;
    let note = format!(
        "{} bad requests: {} refused 4xx, {unanswered} closed unanswered (not HTTP), {reached} reached a supplier; then 20 valid ones: {}; card number in log {log}, in journal {stored}",
        bad.len(),
        answers.len() - unanswered,
        told(&ledger)
    );
    // The host lives until the verdict is in.
    settle(
        ctx,
        "bad-inputs",
        &stage,
        &ledger,
        Duration::from_secs(2),
        wrong,
        note,
    )
    .await
}

/// 1,100 connections, each sending a request's headers a byte a second and
/// reconnecting when cut, for 15 s, while 16 careful clients pay 200 orders.
pub(super) async fn slowloris(ctx: &Ctx) -> anyhow::Result<Row> {
    let stage = Stage::new(
        ctx,
        "lease = \"2s\"\njournal_wait = \"500ms\"",
        "header_timeout = \"3s\"",
    )?;
    let port = free_port()?;
    let server = stage.serve(port, false).await?;
    let addr = format!("127.0.0.1:{port}");
    let attack_until = Instant::now() + Duration::from_secs(15);
    let cut = std::sync::atomic::AtomicU64::new(0);
    let attackers = futures::future::join_all((0..1_100).map(|_| async {
        while Instant::now() < attack_until {
            let Ok(mut s) = tokio::net::TcpStream::connect(&addr).await else {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            };
            let _ = s
                .write_all(b"POST /v1/payments HTTP/1.1\r\nhost: 127.0.0.1\r\n")
                .await;
            while Instant::now() < attack_until {
                tokio::time::sleep(Duration::from_secs(1)).await;
                if s.write_all(b"x").await.is_err() {
                    cut.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    break;
                }
            }
        }
    }));
    let ledger = Ledger::default();
    let http = http();
    let hosts = vec![server.url.clone()];
    let until = Instant::now() + Duration::from_secs(90);
    let payments: Vec<Pay> = (0..200).map(|_| Pay::any(ctx, 0)).collect();
    let clients = futures::stream::iter(
        payments
            .iter()
            .map(|p| pay(&http, &hosts, p, until, &ledger)),
    )
    .buffer_unordered(16)
    .collect::<Vec<()>>();
    let (_, ()) = tokio::join!(attackers, async {
        clients.await;
    });
    let wrong = (200 - ledger.told("succeeded")) as u64;
    let note = format!(
        "{} slow connections cut by the header timeout; 200 payments: {}",
        cut.load(std::sync::atomic::Ordering::Relaxed),
        told(&ledger)
    );
    // The host lives until the verdict is in.
    settle(
        ctx,
        "slowloris",
        &stage,
        &ledger,
        Duration::from_secs(2),
        wrong,
        note,
    )
    .await
}
