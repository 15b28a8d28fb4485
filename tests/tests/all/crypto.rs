//! The crypto capability against published test vectors.

use crate::support::probe;
use hmac::Mac as _;
use md5::Digest as _;
use payhost_sandbox::recorder::Recorder;
use payhost_tests::{detail, request};

#[tokio::test]
async fn every_function_matches_its_published_vectors() {
    let supplier = Recorder::start().await.unwrap();
    let (ws, _) = probe(&supplier.url(), &[&supplier.url()], "");
    let host = ws.host().await;
    let o = host
        .pay(
            "probe",
            request(&[("action", "crypto"), ("url", &supplier.url())]),
        )
        .await
        .unwrap();
    // RFC 1321.
    assert_eq!(detail(&o, "md5-abc"), "900150983cd24fb0d6963f7d28e17f72");
    // What is computed from a secret is sealed: the connector holds a
    // handle, and the host writes the value where the connector placed it.
    for name in [
        "md5-nemo",
        "md5-of-sealed",
        "hmac-secret-key",
        "aes-aerohub",
    ] {
        assert_eq!(detail(&o, name), "sealed", "{name}");
    }
    assert_eq!(detail(&o, "sealed-sent"), "status 200", "{o:#?}");
    let sent = supplier.requests();
    assert_eq!(sent.len(), 1);
    let header = |name: &str| {
        sent[0]
            .headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no header {name}: {:?}", sent[0].headers))
    };
    // Nemo.Travel's payment/bill signature: md5("263330" + key "12345"),
    // in a header, the query and the JSON body.
    let nemo = "a439a4492131f4b866ed1a17d018d3a6";
    assert_eq!(header("x-md5-nemo"), nemo);
    assert!(
        sent[0].uri.ends_with(&format!("?md5-nemo={nemo}")),
        "{}",
        sent[0].uri
    );
    // A sealed value hashed again: md5 of its hex text.
    assert_eq!(
        header("x-md5-of-sealed"),
        hex::encode(md5::Md5::digest(nemo))
    );
    let body: serde_json::Value = serde_json::from_slice(&sent[0].body).unwrap();
    assert_eq!(body["md5-nemo"], nemo);
    // FIPS 180-2.
    assert_eq!(
        detail(&o, "sha256-abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    // RFC 4231, test case 2.
    assert_eq!(
        detail(&o, "hmac-jefe"),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    // AeroHub's published signature vector, the AES key a secret.
    assert_eq!(
        header("x-aes-aerohub"),
        "15hhHQ8C6F9OxD/BNyztUPUJyiRlGPRafEkcI6q2E5Y="
    );
    assert_eq!(
        body["aes-aerohub"],
        "15hhHQ8C6F9OxD/BNyztUPUJyiRlGPRafEkcI6q2E5Y="
    );
    assert_eq!(detail(&o, "aes-roundtrip"), "round trip");
    assert_eq!(detail(&o, "base64"), "cGF5aG9zdA==");
    assert_eq!(detail(&o, "base64-back"), "payhost");
    // An HMAC keyed by a secret equals one computed here with the same key.
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"hmac-secret-key").unwrap();
    mac.update(b"data");
    let expected = hex::encode(mac.finalize().into_bytes());
    assert_eq!(header("x-hmac-secret-key"), expected);
    assert_eq!(body["hmac-secret-key"], expected.as_str());
    // Bad input is a clear error, not a trap.
    assert_eq!(
        detail(&o, "aes-short-key"),
        "invalid: AES-256 needs a 32-byte key, not 5 bytes"
    );
    assert!(
        detail(&o, "unknown-secret").starts_with("denied: secret `not_granted` is not granted"),
        "{o:#?}"
    );
}
