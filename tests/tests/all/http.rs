//! The HTTP capability: what reaches a server, and what never does.

use crate::support::{TOKEN, probe};
use payhost::PaymentState;
use payhost_sandbox::recorder::Recorder;
use payhost_tests::{detail, request};

#[tokio::test]
async fn a_round_trip_carries_headers_and_a_json_body_with_the_secret_escaped() {
    let server = Recorder::start().await.unwrap();
    let (ws, _) = probe(&server.url(), &[&server.url()], "");
    let host = ws.host().await;

    let outcome = host
        .pay("probe", request(&[("action", "roundtrip")]))
        .await
        .unwrap();
    assert_eq!(outcome.state, PaymentState::Succeeded, "{outcome:#?}");
    assert_eq!(detail(&outcome, "status"), "200");

    let seen = server.requests();
    assert_eq!(seen.len(), 1);
    let r = &seen[0];
    assert_eq!((r.method.as_str(), r.uri.as_str()), ("POST", "/echo"));
    assert_eq!(r.header("x-plain"), Some("hello"));
    assert_eq!(
        r.header("x-token"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(r.header("content-type"), Some("application/json"));
    let body = String::from_utf8(r.body.clone()).unwrap();
    // The amount is written exactly as given, as a JSON number.
    assert!(body.contains("\"amount\":312.99"), "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["token"], TOKEN);
    assert_eq!(json["order"], "O-1");
    // The connector got the echo back, and never the secret from us.
    assert!(detail(&outcome, "body").contains("/echo"));
}

#[tokio::test]
async fn an_xml_body_carries_the_secret_as_escaped_text() {
    let server = Recorder::start().await.unwrap();
    let (ws, _) = probe(&server.url(), &[&server.url()], "");
    let host = ws.host().await;
    let outcome = host
        .pay("probe", request(&[("action", "xml")]))
        .await
        .unwrap();
    assert_eq!(outcome.state, PaymentState::Succeeded, "{outcome:#?}");
    let body = String::from_utf8(server.requests()[0].body.clone()).unwrap();
    assert!(
        body.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?><soapenv:Envelope"),
        "{body}"
    );
    assert!(
        body.contains("<APIKey>tok-&quot;9&lt;&amp;&gt;&apos;Z</APIKey>"),
        "{body}"
    );
    assert!(body.contains("<Note>a &lt; b &amp; c</Note>"), "{body}");
}

#[tokio::test]
async fn a_host_that_is_not_allowed_is_denied_and_receives_nothing() {
    let allowed = Recorder::start().await.unwrap();
    let other = Recorder::start().await.unwrap();
    let (ws, _) = probe(&allowed.url(), &[&allowed.url()], "");
    let host = ws.host().await;
    let url = format!("{}/echo", other.url());
    let outcome = host
        .pay("probe", request(&[("action", "fetch"), ("url", &url)]))
        .await
        .unwrap();
    assert_eq!(detail(&outcome, "http-error"), "denied", "{outcome:#?}");
    let message = &outcome.error.as_ref().unwrap().message;
    assert!(
        message.contains("is not allowed") && message.contains(&allowed.url()),
        "{message}"
    );
    assert_eq!(other.connections(), 0);
    assert_eq!(allowed.connections(), 0);
}

#[tokio::test]
async fn a_redirect_to_a_host_that_is_not_allowed_is_not_followed() {
    let allowed = Recorder::start().await.unwrap();
    let other = Recorder::start().await.unwrap();
    let (ws, _) = probe(&allowed.url(), &[&allowed.url()], "");
    let host = ws.host().await;
    let url = format!("{}/redirect?to={}/echo", allowed.url(), other.url());
    let outcome = host
        .pay("probe", request(&[("action", "follow"), ("url", &url)]))
        .await
        .unwrap();
    // The host hands the 302 back as it is; following it by hand is denied.
    assert_eq!(detail(&outcome, "first-status"), "302", "{outcome:#?}");
    assert_eq!(detail(&outcome, "http-error"), "denied");
    assert_eq!(allowed.requests().len(), 1);
    assert_eq!(other.connections(), 0);
}

#[tokio::test]
async fn loopback_is_reached_only_through_the_ip_the_operator_named() {
    let server = Recorder::start().await.unwrap();
    let port = server.addr().port();
    let by_name = format!("http://localhost:{port}");
    let (ws, _) = probe(&by_name, &[&by_name], "");
    let host = ws.host().await;
    for url in [
        format!("http://127.0.0.1:{port}/echo"),
        format!("http://2130706433:{port}/echo"),
        format!("http://0x7f.0.0.1:{port}/echo"),
        format!("http://[::ffff:127.0.0.1]:{port}/echo"),
    ] {
        let outcome = host
            .pay("probe", request(&[("action", "fetch"), ("url", &url)]))
            .await
            .unwrap();
        assert_eq!(
            detail(&outcome, "http-error"),
            "denied",
            "{url}: {outcome:#?}"
        );
    }
    // The allowed name itself resolves to loopback: refused after DNS.
    let outcome = host
        .pay(
            "probe",
            request(&[("action", "fetch"), ("url", &format!("{by_name}/echo"))]),
        )
        .await
        .unwrap();
    assert_eq!(detail(&outcome, "http-error"), "denied", "{outcome:#?}");
    let message = &outcome.error.as_ref().unwrap().message;
    assert!(
        message.contains("resolves to") && message.contains("loopback"),
        "{message}"
    );
    assert_eq!(server.connections(), 0);
}

#[tokio::test]
async fn user_info_in_a_url_is_denied() {
    let server = Recorder::start().await.unwrap();
    let (ws, _) = probe(&server.url(), &[&server.url()], "");
    let host = ws.host().await;
    let url = format!("http://probe.example.com@{}/echo", server.addr());
    let outcome = host
        .pay("probe", request(&[("action", "fetch"), ("url", &url)]))
        .await
        .unwrap();
    assert_eq!(detail(&outcome, "http-error"), "denied", "{outcome:#?}");
    assert_eq!(server.connections(), 0);
}

#[tokio::test]
async fn answers_over_the_size_limit_and_requests_over_the_count_limit_are_refused() {
    let server = Recorder::start().await.unwrap();
    let (ws, _) = probe(
        &server.url(),
        &[&server.url()],
        "max_response_size = \"1KiB\"\nmax_requests = 3",
    );
    let host = ws.host().await;
    // Refused whether the answer announces its length or not.
    for path in ["big", "big-chunked"] {
        let url = format!("{}/{path}?bytes=5000", server.url());
        let outcome = host
            .pay("probe", request(&[("action", "fetch"), ("url", &url)]))
            .await
            .unwrap();
        assert_eq!(
            detail(&outcome, "http-error"),
            "too-large",
            "{path}: {outcome:#?}"
        );
    }

    let url = format!("{}/ok", server.url());
    let before = server.requests().len();
    let outcome = host
        .pay(
            "probe",
            request(&[("action", "burst"), ("url", &url), ("count", "6")]),
        )
        .await
        .unwrap();
    let results: Vec<&str> = (0..6)
        .map(|i| detail(&outcome, &format!("request-{i}")))
        .collect();
    assert_eq!(results, ["ok", "ok", "ok", "denied", "denied", "denied"]);
    assert_eq!(server.requests().len() - before, 3);
}

#[tokio::test]
async fn a_slow_answer_times_out_as_a_timeout() {
    let server = Recorder::start().await.unwrap();
    let (ws, _) = probe(&server.url(), &[&server.url()], "timeout = \"700ms\"");
    let host = ws.host().await;
    let url = format!("{}/slow?ms=3000", server.url());
    let started = std::time::Instant::now();
    let outcome = host
        .pay("probe", request(&[("action", "fetch"), ("url", &url)]))
        .await
        .unwrap();
    assert_eq!(detail(&outcome, "http-error"), "timeout", "{outcome:#?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
}
