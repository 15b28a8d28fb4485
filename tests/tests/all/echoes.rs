//! A hostile connector on raw bindings (the frozen 0.2.0 and 0.3.0, which
//! also declares placements of its own where suppliers echo), given each shipped
//! connector's section of the configuration the project writes (its
//! secrets, placements and origins), tries to read back what the host
//! hides: by placing hidden values where the supplier echoes them, beside
//! characters of its own (an oracle), and by sending them where they belong
//! to a granted origin that reflects every request in every encoding.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use md5::Digest as _;
use payhost::{Card, PaymentMethod};
use payhost_sandbox::demo;
use payhost_sandbox::sim::{Credentials, Simulator};
use payhost_tests::{Workspace, artifacts, cache_dir, detail, request};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const PAN: &str = "4532015112830366";
const CVV: &str = "738";

/// A granted origin that answers every request with the whole request
/// reflected: raw, JSON-escaped, XML-escaped, percent-encoded, in Base64 and
/// hex, and in its headers; `/deflate` answers in a coding the host does not
/// decode; `/raw` answers with the request's body alone.
async fn reflector() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut buf = [0u8; 8192];
                loop {
                    let Ok(n) = stream.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&seen).to_ascii_lowercase();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        if seen.len() >= end + 4 + length {
                            break;
                        }
                    }
                }
                let request = String::from_utf8_lossy(&seen).into_owned();
                if request.starts_with("POST /raw") {
                    // The request's body alone, as it came.
                    let start = seen.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(0) + 4;
                    let body = &seen[start..];
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(head.as_bytes()).await;
                    let _ = stream.write_all(body).await;
                    return;
                }
                let xml = request
                    .replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;")
                    .replace('"', "&quot;");
                let percent: String = url_encode(&seen);
                let body = serde_json::json!({
                    "raw": request,
                    "xml": xml,
                    "percent": percent,
                    "b64": STANDARD.encode(&seen),
                    "b64url": URL_SAFE_NO_PAD.encode(&seen),
                    "hex": hex::encode(&seen),
                    "HEX": hex::encode_upper(&seen),
                })
                .to_string();
                let deflate =
                    request.starts_with("POST /deflate") || request.starts_with("GET /deflate");
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nx-echo: {}\r\nlocation: /back?{}\r\n{}connection: close\r\n\r\n",
                    body.len(),
                    STANDARD.encode(&seen),
                    url_encode(&seen),
                    if deflate {
                        "content-encoding: deflate\r\n"
                    } else {
                        ""
                    },
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(body.as_bytes()).await;
            });
        }
    });
    url
}

/// `%XX` escapes decoded, where the text is nothing else.
fn percent_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    (bytes.len().is_multiple_of(3) && bytes.chunks(3).all(|c| c[0] == b'%'))
        .then(|| {
            bytes
                .chunks(3)
                .map(|c| hex::decode(&c[1..]).ok().map(|b| b[0]))
                .collect()
        })
        .flatten()
}

fn url_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("%{b:02X}")).collect()
}

/// A workspace where the echo thief gets `name`'s section as the project
/// writes it, plus the reflector among its origins.
fn posing_as(thief: &str, name: &str, sim: &str, echo: &str, extra: &str) -> Workspace {
    let ws = Workspace::new();
    ws.plugin(thief);
    demo::write_secrets(ws.path(), &Credentials::default()).unwrap();
    let config = demo::config(sim, &cache_dir(), "");
    let mut out = String::new();
    let mut keep = false;
    for line in config.lines() {
        if line.starts_with('[') {
            keep = line == "[host]" || line == format!("[connectors.{name}]");
            if keep && line != "[host]" {
                out.push_str(&format!(
                    "[connectors.echo-thief]\necho_url = \"{echo}\"\n{extra}\n"
                ));
                continue;
            }
        }
        if !keep {
            continue;
        }
        if line.starts_with("allowed_hosts") {
            out.push_str(&format!("allowed_hosts = [\"{sim}\", \"{echo}\"]\n"));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    ws.config(&out);
    ws
}

fn card_request(attributes: &[(&str, &str)]) -> payhost::PaymentRequest {
    let mut r = request(attributes);
    r.method = PaymentMethod::Card(Card {
        number: PAN.into(),
        expiry_month: 11,
        expiry_year: 2031,
        cvv: Some(CVV.into()),
        holder_first_name: "Grace".into(),
        holder_last_name: "Hopper".into(),
        billing_address: None,
        reusable: false,
    });
    r
}

/// Every hidden value the thief could meet, as bytes.
fn hidden_values() -> Vec<(&'static str, Vec<u8>)> {
    let c = Credentials::default();
    let md5 = |a: &str, b: &str| md5::Md5::digest(format!("{a}{b}").as_bytes()).to_vec();
    vec![
        ("atlas client_id", c.atlas_client_id.clone().into_bytes()),
        (
            "atlas client_secret",
            c.atlas_client_secret.clone().into_bytes(),
        ),
        ("hk secret_key", c.hk_secret_key.clone().into_bytes()),
        ("hk sign", md5(&c.hk_partner_id, &c.hk_secret_key)),
        ("aerohub api_secret", c.aerohub_secret.clone().into_bytes()),
        ("nemo api_key", c.nemo_api_key.clone().into_bytes()),
        (
            "nemo security_key",
            c.nemo_security_key.clone().into_bytes(),
        ),
        ("nemo sig for 100001", md5("100001", &c.nemo_security_key)),
        ("pan", PAN.as_bytes().to_vec()),
    ]
}

/// What the thief read (body and headers, decoded, and every Base64 or hex
/// field of the reflected JSON decoded again), and any hidden value in it.
fn leaks(outcome: &payhost::PaymentOutcome) -> Vec<String> {
    let mut texts = Vec::new();
    for key in ["body", "headers"] {
        let read = STANDARD
            .decode(detail(outcome, key))
            .expect("the thief's report is Base64");
        if let Ok(json) = serde_json::from_slice::<serde_json::Value>(&read)
            && let Some(map) = json.as_object()
        {
            for value in map.values().filter_map(|v| v.as_str()) {
                for decoded in [
                    STANDARD.decode(value).ok(),
                    URL_SAFE_NO_PAD.decode(value).ok(),
                    hex::decode(value).ok(),
                    percent_decode(value),
                ]
                .into_iter()
                .flatten()
                {
                    texts.push(decoded);
                }
                texts.push(value.as_bytes().to_vec());
            }
        }
        texts.push(read);
    }
    let mut found = Vec::new();
    for text in &texts {
        let lower = String::from_utf8_lossy(text).to_ascii_lowercase();
        for (name, value) in hidden_values() {
            let forms = [
                value.clone(),
                hex::encode(&value).into_bytes(),
                STANDARD
                    .encode(&value)
                    .trim_end_matches('=')
                    .as_bytes()
                    .to_vec(),
                URL_SAFE_NO_PAD.encode(&value).into_bytes(),
            ];
            if forms
                .iter()
                .any(|f| text.windows(f.len()).any(|w| w == f.as_slice()))
                || lower.contains(&hex::encode(&value))
            {
                found.push(name.to_owned());
            }
        }
        let cvv = format!("\"{CVV}\"");
        if lower.contains(&cvv) || lower.contains(&format!(">{CVV}<")) {
            found.push("cvv".to_owned());
        }
    }
    found.sort();
    found.dedup();
    found
}

/// The thief, loaded once with the section it poses under.
struct Thief(payhost::Host);

impl Thief {
    async fn posing_as(
        thief: &str,
        name: &str,
        sim: &str,
        echo: &str,
        extra: &str,
    ) -> (Workspace, Thief) {
        let ws = posing_as(thief, name, sim, echo, extra);
        let host = ws.host().await;
        assert!(host.connector("echo-thief").is_ok(), "the thief loaded");
        (ws, Thief(host))
    }

    async fn pay(&self, request: payhost::PaymentRequest) -> payhost::PaymentOutcome {
        self.0.pay("echo-thief", request).await.unwrap()
    }

    /// Posts `body` as `content_type` to `url`, with the card when `card`.
    async fn post(
        &self,
        url: &str,
        content_type: &str,
        body: &str,
        extra: &[(&str, &str)],
        card: bool,
    ) -> payhost::PaymentOutcome {
        let mut attrs = vec![
            ("url", url),
            ("body", body),
            ("header:content-type", content_type),
        ];
        attrs.extend_from_slice(extra);
        self.pay(if card {
            card_request(&attrs)
        } else {
            request(&attrs)
        })
        .await
    }
}

/// The request was refused before sending, for where a value stood.
fn refused(outcome: &payhost::PaymentOutcome, what: &str) {
    let error = detail(outcome, "error");
    assert!(error.contains("Denied"), "{what}: {error}");
    assert!(
        error.contains("may not stand") || error.contains("whole value"),
        "{what}: {error}"
    );
}

/// The reflector answered and the thief read back nothing hidden.
fn reflected(outcome: &payhost::PaymentOutcome) {
    assert_eq!(detail(outcome, "status"), "200", "{outcome:#?}");
    assert_eq!(leaks(outcome), Vec::<String>::new());
}

const JSON: &str = "application/json";

#[tokio::test(flavor = "multi_thread")]
async fn posing_as_each_shipped_connector_a_0_2_0_thief_reads_back_no_hidden_value() {
    reads_back_nothing(artifacts::ECHO_THIEF).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn posing_as_each_shipped_connector_a_0_3_0_thief_declaring_echoed_places_reads_back_no_hidden_value()
 {
    reads_back_nothing(artifacts::ECHO_THIEF_V3).await;
}

async fn reads_back_nothing(thief: &str) {
    let sim = Simulator::start().await.unwrap();
    let echo = reflector().await;
    let s = sim.url();
    let atlas_headers = [
        ("header:x-atlas-client-id", "{secret:client_id}"),
        ("header:x-atlas-client-secret", "{secret:client_secret}"),
    ];

    // Atlas: the secret, the number and the CVV in the echoed `orderNo`.
    let (_ws, atlas) = Thief::posing_as(thief, "atlas", &s, &echo, "").await;
    let pay_do = format!("{s}/pay.do");
    for (what, order) in [
        ("secret", "{secret:client_secret|json-string}"),
        ("pan", "{card:number|json-string}"),
        ("cvv", "{card:cvv|json-string}"),
    ] {
        let body = format!("{{\"orderNo\":{order},\"paymentMethod\":3}}");
        let outcome = atlas.post(&pay_do, JSON, &body, &atlas_headers, true).await;
        refused(&outcome, what);
    }
    // The Luhn oracle: zeros, the number, one digit of the thief's.
    let body = "{\"orderNo\":\"ATL-OK-1\",\"paymentMethod\":3,\"creditCard\":{\"cardNumber\":\"00{card:number}7\",\"cardCVV\":{card:cvv|json-string}}}";
    let outcome = atlas.post(&pay_do, JSON, body, &atlas_headers, true).await;
    refused(&outcome, "luhn oracle");
    // Everything where it belongs, to an origin that reflects it all back.
    let body = "{\"orderNo\":\"ATL-OK-1\",\"paymentMethod\":3,\"creditCard\":{\"cardNumber\":{card:number|json-string},\"cardCVV\":{card:cvv|json-string}}}";
    let outcome = atlas
        .post(&format!("{echo}/pay.do"), JSON, body, &atlas_headers, true)
        .await;
    reflected(&outcome);
    let echoed = detail(&outcome, "payhost.echoed");
    for name in ["secret:client_secret", "card:number", "card:cvv"] {
        assert!(echoed.contains(name), "{echoed}");
    }
    // A coding the host does not decode is not read at all.
    let deflate = format!("{echo}/deflate/pay.do");
    let mut extra = atlas_headers.to_vec();
    extra.push(("header:accept-encoding", "gzip"));
    let outcome = atlas.post(&deflate, JSON, body, &extra, true).await;
    assert!(detail(&outcome, "error").contains("Broken"), "{outcome:#?}");
    let attrs = [
        ("url", deflate.as_str()),
        ("header:accept-encoding", "deflate"),
    ];
    let outcome = atlas.pay(request(&attrs)).await;
    assert!(
        detail(&outcome, "error").contains("Invalid"),
        "{outcome:#?}"
    );
    // The echo note is the host's: a connector cannot forge one.
    let attrs = [
        ("url", pay_do.as_str()),
        ("detail:payhost.echoed", "nothing was echoed, honest"),
    ];
    let outcome = atlas.pay(request(&attrs)).await;
    assert!(
        !outcome.details.iter().any(|(k, _)| k == "payhost.echoed"),
        "{outcome:#?}"
    );

    // HK Ramble: a correctly placed `sign` also in the echoed `orderNum`.
    let c = Credentials::default();
    let (_ws, hkramble) = Thief::posing_as(thief, "hkramble", &s, &echo, "").await;
    let sign = format!("{{md5:{}+secret:secret_key|hex}}", c.hk_partner_id);
    let body = |order: &str| {
        format!(
            "{{\"authentication\":{{\"partnerId\":\"{}\",\"sign\":\"{sign}\"}},\"orderPricing\":{{\"orderNum\":\"{order}\",\"currency\":\"USD\",\"totalPrice\":1}}}}",
            c.hk_partner_id
        )
    };
    let outcome = hkramble
        .post(&format!("{s}/json/pay"), JSON, &body(&sign), &[], false)
        .await;
    refused(&outcome, "sign in orderNum");
    let outcome = hkramble
        .post(&format!("{echo}/json/pay"), JSON, &body("HK-1"), &[], false)
        .await;
    reflected(&outcome);

    // Nemo: the keys and a bill signature in the echoed PaymentGateway.
    let (_ws, nemo) = Thief::posing_as(thief, "nemo", &s, &echo, "").await;
    let soap = format!("{s}/nemoflights/?version=1.0&for=PayOrder");
    for gateway in [
        "{secret:security_key|xml-text}",
        "{secret:api_key|xml-text}",
        "{md5:100001+secret:security_key|hex}",
    ] {
        let body = format!(
            "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body><ver:PayOrder><RequestBin><Request><BookID>100001</BookID><PaymentGateway>{gateway}</PaymentGateway></Request><Source><ClientId>x</ClientId><APIKey>{{secret:api_key|xml-text}}</APIKey></Source></RequestBin></ver:PayOrder></soapenv:Body></soapenv:Envelope>"
        );
        let outcome = nemo.post(&soap, "text/xml", &body, &[], false).await;
        refused(&outcome, gateway);
    }
    let url = format!(
        "{echo}/index.php?go=payment/bill&booking_id=100001&sig={{md5:100001+secret:security_key|hex}}"
    );
    let outcome = nemo
        .pay(request(&[("url", url.as_str()), ("method", "GET")]))
        .await;
    reflected(&outcome);

    // AeroHub: a signature under the secret outside `signature`, and the
    // card to the reflector where it belongs.
    let (_ws, aerohub) = Thief::posing_as(thief, "aerohub", &s, &echo, "").await;
    let body = "{\"signature\":\"{aes:secret:api_secret+k&1|base64}\",\"request\":{\"sessionId\":\"{aes:secret:api_secret+k&1|base64}\"}}";
    let outcome = aerohub
        .post(&format!("{s}/flight/booking"), JSON, body, &[], false)
        .await;
    refused(&outcome, "aerohub signature in sessionId");
    let body = "{\"signature\":\"{aes:secret:api_secret+k&1|base64}\",\"request\":{\"ccFields\":{\"cardNumber\":{card:number|json-string},\"cvv\":{card:cvv|json-string}}}}";
    let outcome = aerohub
        .post(&format!("{echo}/flight/booking"), JSON, body, &[], true)
        .await;
    reflected(&outcome);
    assert!(detail(&outcome, "payhost.echoed").contains("derived:api_secret"));
}

#[tokio::test(flavor = "multi_thread")]
async fn whether_an_echo_is_too_large_does_not_depend_on_a_hidden_values_length() {
    // The answer limit is held on the scrubbed answer: an echoed card
    // number counts as the marker that replaces it, so padding an echo to
    // the limit tells nothing about the number's length.
    let sim = Simulator::start().await.unwrap();
    let echo = reflector().await;
    let (_ws, atlas) = Thief::posing_as(
        artifacts::ECHO_THIEF,
        "atlas",
        &sim.url(),
        &echo,
        "max_response_size = \"1KiB\"",
    )
    .await;
    let body = |pad: usize| {
        format!(
            "{{\"pad\":\"{}\",\"creditCard\":{{\"cardNumber\":{{card:number|json-string}},\"cardCVV\":{{card:cvv|json-string}}}}}}",
            "x".repeat(pad)
        )
    };
    // As sent: `"4532015112830366"` and `"738"`; as scrubbed, each is
    // `"[hidden]"`: three bytes fewer.
    let sent = |pad: usize| {
        body(pad).len() - "{card:number|json-string}{card:cvv|json-string}".len() + 18 + 5
    };
    let pad = 1025 - sent(0);
    assert_eq!(sent(pad), 1025);
    let url = format!("{echo}/raw/pay.do");
    let outcome = atlas.post(&url, JSON, &body(pad), &[], true).await;
    assert_eq!(detail(&outcome, "status"), "200", "{outcome:#?}");
    let read = STANDARD.decode(detail(&outcome, "body")).unwrap();
    assert_eq!(read.len(), 1022);
    assert_eq!(leaks(&outcome), Vec::<String>::new());
}
