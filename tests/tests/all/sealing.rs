//! Contract 0.2.0's promise: no credential, nothing computed from one, and
//! no card number or CVV reaches a connector; and a connector built for the
//! frozen 0.1.0 keeps working, shown as legacy, unless the operator refuses
//! it.

use base64::Engine as _;
use hmac::Mac;
use md5::Digest as _;
use payhost::{Card, ContractVersion, PaymentMethod, PaymentState};
use payhost_sandbox::recorder::Recorder;
use payhost_sandbox::sim::{Credentials, aerohub_signature};
use payhost_tests::{LogCapture, Workspace, artifacts, cache_dir, payhost_bin, request};
use std::time::{SystemTime, UNIX_EPOCH};

const CARD: &str = "4532015112830366";
const CVV: &str = "9185";

/// The secrets the thief is granted: the simulator's real credentials.
fn thief_workspace(base_url: &str, exfil_url: &str, dead_url: &str) -> Workspace {
    let c = Credentials::default();
    let ws = Workspace::new();
    ws.plugin(artifacts::THIEF);
    let files: Vec<(String, String)> = [
        ("hk_secret_key", &c.hk_secret_key),
        ("nemo_security_key", &c.nemo_security_key),
        ("aerohub_secret", &c.aerohub_secret),
        ("atlas_client_secret", &c.atlas_client_secret),
    ]
    .iter()
    .map(|(name, value)| ((*name).to_owned(), ws.secret(name, value)))
    .collect();
    let secrets: Vec<String> = files
        .iter()
        .map(|(name, file)| format!("{name} = {{ file = {file:?} }}"))
        .collect();
    ws.config(&format!(
        r#"
[host]
plugins = "plugins"
cache = {cache:?}

[connectors.thief]
base_url = {base_url:?}
exfil_url = {exfil_url:?}
dead_url = {dead_url:?}
partner_id = {partner:?}
aerohub_key = {aero_key:?}
allowed_hosts = [{base_url:?}, {dead_url:?}]
secrets = {{ {secrets} }}
unpinned = true
"#,
        cache = cache_dir().display().to_string(),
        partner = c.hk_partner_id,
        aero_key = c.aerohub_key,
        secrets = secrets.join(", "),
    ));
    ws
}

/// Every value the thief must not obtain, written every way it could be
/// carried: hex both cases, Base64, and as text.
fn forbidden_values() -> Vec<(String, String)> {
    let c = Credentials::default();
    let mut raw: Vec<(String, Vec<u8>)> = Vec::new();
    raw.push((
        "hk-sign".into(),
        md5::Md5::digest(format!("{}{}", c.hk_partner_id, c.hk_secret_key)).to_vec(),
    ));
    raw.push((
        "nemo-sig".into(),
        md5::Md5::digest(format!("777001{}", c.nemo_security_key)).to_vec(),
    ));
    for (name, secret) in [
        ("hk", &c.hk_secret_key),
        ("nemo", &c.nemo_security_key),
        ("aero", &c.aerohub_secret),
        ("atlas", &c.atlas_client_secret),
    ] {
        raw.push((format!("md5-{name}"), md5::Md5::digest(secret).to_vec()));
        raw.push((
            format!("sha256-{name}"),
            sha2::Sha256::digest(secret).to_vec(),
        ));
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"k").unwrap();
        mac.update(secret.as_bytes());
        raw.push((
            format!("hmac-k-{name}"),
            mac.finalize().into_bytes().to_vec(),
        ));
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(b"chosen");
        raw.push((
            format!("hmac-{name}-chosen"),
            mac.finalize().into_bytes().to_vec(),
        ));
        raw.push((format!("secret-{name}"), secret.as_bytes().to_vec()));
    }
    raw.push(("md5-card".into(), md5::Md5::digest(CARD).to_vec()));
    raw.push(("md5-cvv".into(), md5::Md5::digest(CVV).to_vec()));
    let mut out = Vec::new();
    for (name, bytes) in raw {
        out.push((format!("{name} (hex)"), hex::encode(&bytes)));
        out.push((format!("{name} (HEX)"), hex::encode_upper(&bytes)));
        out.push((
            format!("{name} (base64)"),
            base64::engine::general_purpose::STANDARD.encode(&bytes),
        ));
        // As text too, where it is long enough not to turn up by chance
        // (Nemo's test key `12345` would, in any timestamp).
        if let Ok(text) = String::from_utf8(bytes)
            && text.len() >= 8
        {
            out.push((format!("{name} (text)"), text));
        }
    }
    // AeroHub's signature for any second of the month-ahead window the
    // thief may have used.
    let ahead = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 30 * 86_400;
    for ts in ahead - 30..ahead + 30 {
        let sig = aerohub_signature(c.aerohub_secret.as_bytes(), &c.aerohub_key, &ts.to_string())
            .unwrap();
        out.push((format!("aero-sig-{ts}"), sig));
    }
    out.push(("card number".into(), CARD.into()));
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hostile_connector_obtains_no_credential_no_derived_value_and_no_card_data() {
    let granted = Recorder::start().await.unwrap();
    let exfil = Recorder::start().await.unwrap();
    // Granted, and nobody listens there.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let ws = thief_workspace(&granted.url(), &exfil.url(), &dead_url);
    let logs = LogCapture::start();
    let journal_file = ws.path().join("journal.db");
    let host = ws
        .host()
        .await
        .with_journal(payhost::Journal::open(&journal_file).unwrap());

    let mut pay = request(&[]);
    pay.method = PaymentMethod::Card(Card {
        number: CARD.into(),
        expiry_month: 12,
        expiry_year: 2099,
        cvv: Some(CVV.into()),
        holder_first_name: "Ada".into(),
        holder_last_name: "Lovelace".into(),
        billing_address: None,
        reusable: false,
    });
    let outcome = host.pay("thief", pay).await.unwrap();
    let details: std::collections::BTreeMap<&str, &str> = outcome
        .details
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();

    // Each value computed from a secret or card data came back sealed, and
    // hashing a sealed value again gives a sealed value.
    for name in [
        "hk-sign",
        "nemo-sig-chosen",
        "aero-sig-future",
        "md5-card",
        "md5-cvv",
    ] {
        assert_eq!(
            details.get(name),
            Some(&"sealed"),
            "{name}: {:?} {details:#?}",
            outcome.error
        );
        assert_eq!(
            details.get(format!("{name}-rehash").as_str()),
            Some(&"sealed"),
            "{name}"
        );
    }
    for secret in [
        "hk_secret_key",
        "nemo_security_key",
        "aerohub_secret",
        "atlas_client_secret",
    ] {
        for op in [
            "md5",
            "sha256",
            "hmac-chosen-key",
            "hmac-secret-key",
            "encrypt-secret",
        ] {
            let name = format!("{op}-{secret}");
            assert_eq!(
                details.get(name.as_str()),
                Some(&"sealed"),
                "{name}: {details:#?}"
            );
        }
    }
    // Decryption under a secret key is no oracle: sealed, whatever the
    // ciphertext (a padding or length error would tell it apart).
    for name in [
        "decrypt-good-aerohub_secret",
        "decrypt-short-aerohub_secret",
    ] {
        assert_eq!(details.get(name), Some(&"sealed"), "{name}");
    }
    // A key of a literal prefix and a secret is never refused, whatever its
    // length: a refusal for all but one prefix would tell the secret's
    // length (and, with decryption, open a padding oracle).
    assert_eq!(details["key-prefixes"], "sealed", "prefixes 0 to 32");
    // A secret that is no AES key is never refused either: the result is
    // sealed (and unusable; the operator's log says so).
    for secret in ["hk_secret_key", "nemo_security_key", "atlas_client_secret"] {
        let name = format!("aes-key-{secret}");
        assert_eq!(details[name.as_str()], "sealed", "{name}");
        let name = format!("decrypt-short-{secret}");
        assert_eq!(details[name.as_str()], "sealed", "{name}");
    }
    // A derived value is written only in fixed-size encodings.
    for name in ["derived-url-query", "derived-json-body", "derived-xml-body"] {
        let result = details[format!("hk-sign-{name}").as_str()];
        assert!(
            result.starts_with("refused:") && result.contains("only raw, hex"),
            "{name}: {result}"
        );
    }
    // Nor by doubling one: every sealed value is counted at its bound.
    assert!(
        details["doubling"].starts_with("refused at ") && details["doubling"].contains("bytes"),
        "{}",
        details["doubling"]
    );
    // A call cannot fill the host's memory with sealed values.
    assert!(
        details["seal-flood"].starts_with("refused at ")
            && details["seal-flood"].contains("the limit of 1024 sealed values per call"),
        "{}",
        details["seal-flood"]
    );
    // No bytes of a hidden input came out at all.
    for (k, v) in &details {
        assert!(!v.starts_with("bytes:"), "{k} leaked bytes: {v}");
    }
    // Every way out for a sealed value was refused, and nothing reached
    // either server.
    let ways: Vec<_> = details.keys().filter(|k| k.contains("-out-")).collect();
    assert!(ways.len() >= 5 * 10, "{ways:?}");
    for k in ways {
        assert!(details[k].starts_with("refused:"), "{k}: {}", details[k]);
    }
    assert_eq!(exfil.connections(), 0);
    assert_eq!(granted.requests().len(), 0);
    // The clear card facts are there; the number and the CVV are not.
    assert_eq!(details["card-seen"], "453201 0366");

    // Nothing the host wrote or answered holds a forbidden value: the
    // outcome, the log (the connector's stdout and stderr included), the
    // journal's files.
    drop(host);
    let mut journal = Vec::new();
    for suffix in ["", "-wal"] {
        let file = format!("{}{suffix}", journal_file.display());
        journal.extend(std::fs::read(&file).unwrap_or_default());
    }
    let journal = String::from_utf8_lossy(&journal);
    assert!(journal.contains("hk-sign"), "the journal holds the outcome");
    let everything = format!("{outcome:?}\n{}\n{journal}", logs.text());
    assert!(
        everything.contains("hk-sign=sealed"),
        "the log was captured"
    );
    for (name, value) in forbidden_values() {
        assert!(
            !everything.contains(&value),
            "{name} = {value} leaked:\n{everything}"
        );
    }
}

/// A workspace with the 0.1.0 connector, its secret, and `extra` settings.
fn legacy_workspace(base_url: &str, host_extra: &str, section_extra: &str) -> Workspace {
    let ws = Workspace::new();
    ws.plugin(artifacts::LEGACY_PROBE);
    let token = ws.secret("token", "legacy-token-42");
    ws.config(&format!(
        r#"
[host]
plugins = "plugins"
cache = {cache:?}
{host_extra}

[connectors.legacy-probe]
base_url = {base_url:?}
allowed_hosts = [{base_url:?}]
secrets = {{ token = {{ file = {token:?} }} }}
unpinned = true
{section_extra}
"#,
        cache = cache_dir().display().to_string(),
    ));
    ws
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connector_built_for_0_1_0_pays_through_the_new_host_and_is_shown_as_legacy() {
    let supplier = Recorder::start().await.unwrap();
    let ws = legacy_workspace(&supplier.url(), "", "");
    let host = ws.host().await;
    let connector = host.connector("legacy-probe").unwrap();
    assert_eq!(connector.contract, ContractVersion::V0_1);
    let summary = payhost::ConnectorSummary::from(&*connector);
    assert_eq!(summary.contract, "payhost:connector@0.1.0");
    assert_eq!(
        summary.legacy.as_deref(),
        Some("legacy: values derived from secrets are visible to the connector")
    );

    let mut pay = request(&[]);
    pay.method = PaymentMethod::Card(Card {
        number: CARD.into(),
        expiry_month: 12,
        expiry_year: 2099,
        cvv: None,
        holder_first_name: "Ada".into(),
        holder_last_name: "Lovelace".into(),
        billing_address: None,
        reusable: false,
    });
    let logs = LogCapture::start();
    let outcome = host.pay("legacy-probe", pay).await.unwrap();
    assert_eq!(outcome.state, PaymentState::Succeeded, "{outcome:#?}");
    // It held the card number, as 0.1.0 connectors do; what it echoed comes
    // back masked from every field and log.
    assert_eq!(payhost_tests::detail(&outcome, "card"), "453201******0366");
    let text = format!("{outcome:?}\n{}", logs.text());
    assert!(text.contains("paying with card 453201******0366"), "{text}");
    assert!(text.contains("stdout card 453201******0366"), "{text}");
    assert!(!text.contains(CARD), "{text}");
    assert_eq!(outcome.supplier_reference.as_deref(), Some("LEGACY-O-1"));
    let sent = supplier.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].uri, "/legacy");
    let header = sent[0]
        .headers
        .iter()
        .find(|(k, _)| k == "x-token")
        .unwrap();
    assert_eq!(header.1, "legacy-token-42");
    assert!(String::from_utf8_lossy(&sent[0].body).contains("\"last4\":\"0366\""));

    // The CLI says so in the list and in inspect.
    let config = ws.path().join("payhost.toml");
    for args in [
        vec!["plugins", "list"],
        vec!["plugins", "inspect", "legacy-probe"],
    ] {
        let out = std::process::Command::new(payhost_bin())
            .args(&args)
            .arg("--config")
            .arg(&config)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains(
                "0.1.0 (legacy: values derived from secrets are visible to the connector)"
            ),
            "{args:?}: {text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn min_contract_refuses_a_0_1_0_connector_and_names_its_version() {
    for (host_extra, section_extra, place) in [
        ("min_contract = \"0.2\"", "", "[host]"),
        ("", "min_contract = \"0.2\"", "[connectors.legacy-probe]"),
    ] {
        let ws = legacy_workspace("http://127.0.0.1:9", host_extra, section_extra);
        let settings = payhost::Settings::load(&ws.path().join("payhost.toml")).unwrap();
        let host = payhost_tests::host(settings);
        let results = host.load_plugins().await;
        let error = results[0].as_ref().unwrap_err().to_string();
        assert!(
            error.contains("is built for contract payhost:connector@0.1.0")
                && error.contains("min_contract")
                && error.contains(place),
            "{error}"
        );
        assert!(host.connectors().is_empty());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_attribute_that_looks_like_a_secret_marker_is_plain_text() {
    let supplier = Recorder::start().await.unwrap();
    let c = Credentials::default();
    let ws = Workspace::new();
    ws.plugin(artifacts::PAYHOST_AEROHUB);
    let secret = ws.secret("aerohub-api_secret", &c.aerohub_secret);
    ws.config(&format!(
        r#"
[host]
plugins = "plugins"
cache = {cache:?}

[connectors.aerohub]
base_url = {url:?}
api_key = {key:?}
allowed_hosts = [{url:?}]
secrets = {{ api_secret = {{ file = {secret:?} }} }}
{placements}"#,
        cache = cache_dir().display().to_string(),
        url = supplier.url(),
        key = c.aerohub_key,
        placements = payhost_sandbox::demo::placements("aerohub"),
    ));
    let host = ws.host().await;

    // The marker as the SDK once wrote it in JSON (control characters) is
    // refused before any connector runs, naming the field.
    let raw = "\u{1}payhost-secret\u{1}api_secret\u{1}";
    let error = host
        .pay("aerohub", request(&[("session-id", raw)]))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("an attribute value") && error.contains("U+0001"),
        "{error}"
    );
    assert!(supplier.requests().is_empty());

    // Its escaped spellings are text, and reach the supplier as text.
    for marker in [
        "\\u0001payhost-secret\\u0001api_secret\\u0001",
        "\\\\u0001payhost-secret\\\\u0001api_secret\\\\u0001",
        "payhost-secret api_secret",
    ] {
        let mut pay = request(&[("session-id", marker)]);
        pay.idempotency_key = format!("k-{}", marker.len());
        let _ = host.pay("aerohub", pay).await.unwrap();
    }
    let bodies: Vec<String> = supplier
        .requests()
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert_eq!(bodies.len(), 3, "{bodies:?}");
    for body in &bodies {
        assert!(
            !body.contains(&c.aerohub_secret),
            "the secret was written: {body}"
        );
        assert!(body.contains("payhost-secret"), "{body}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_secret_or_sealed_value_stands_only_where_no_refusal_can_depend_on_it() {
    let supplier = Recorder::start().await.unwrap();
    let (ws, _) = crate::support::probe(&supplier.url(), &[&supplier.url()], "");
    let host = ws.host().await;
    let o = host
        .pay(
            "probe",
            request(&[("action", "url-parts"), ("url", &supplier.url())]),
        )
        .await
        .unwrap();
    let detail = |k: &str| payhost_tests::detail(&o, k).to_owned();
    // In the query with a URL-safe encoding, and in a header hex-encoded:
    // sent.
    for sent in ["sealed-in-query", "secret-in-query", "sealed-hex-in-header"] {
        assert_eq!(detail(sent), "status 200", "{sent}: {o:#?}");
    }
    // In the path, or unencoded where some bytes would be invalid: refused
    // by where it stands, before anything is sent.
    for refused in [
        "secret-in-path",
        "sealed-in-path",
        "secret-raw-in-query",
        "sealed-raw-in-query",
        "sealed-raw-in-header",
    ] {
        assert_eq!(detail(refused), "denied", "{refused}: {o:#?}");
    }
    let sent = supplier.requests();
    assert_eq!(sent.len(), 3, "{sent:?}");
    // The host wrote Nemo's signature vector where it stood.
    let sig = "a439a4492131f4b866ed1a17d018d3a6";
    assert!(
        sent[0].uri.ends_with(&format!("?sig={sig}")),
        "{}",
        sent[0].uri
    );
    assert!(
        sent.iter()
            .any(|r| r.headers.iter().any(|(k, v)| k == "x-sig" && v == sig)),
        "{sent:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connector_that_mixes_contract_versions_is_refused() {
    // It exports 0.2.0's connector but imports 0.1.0's crypto, which would
    // hand it the MD5 of a secret as bytes.
    let ws = Workspace::new();
    ws.plugin(artifacts::MIXED_CONTRACT);
    let token = ws.secret("token", "mixed-token");
    ws.config(&format!(
        r#"
[host]
plugins = "plugins"
cache = {cache:?}

[connectors.mixed-contract]
secrets = {{ token = {{ file = {token:?} }} }}
"#,
        cache = cache_dir().display().to_string(),
    ));
    let settings = payhost::Settings::load(&ws.path().join("payhost.toml")).unwrap();
    let host = payhost_tests::host(settings);
    let results = host.load_plugins().await;
    let error = results[0].as_ref().unwrap_err().to_string();
    assert!(
        error.contains("exports the connector of contract payhost:connector@0.2.0")
            && error.contains("imports payhost:connector/")
            && error.contains("@0.1.0"),
        "{error}"
    );
    assert!(host.connectors().is_empty());
}
