//! The crypto capability against published test vectors.

use crate::support::probe;
use hmac::Mac as _;
use payhost_tests::{detail, request};

#[tokio::test]
async fn every_function_matches_its_published_vectors() {
    let (ws, _) = probe("https://probe.example.com", &[], "");
    let host = ws.host().await;
    let o = host
        .pay("probe", request(&[("action", "crypto")]))
        .await
        .unwrap();
    // RFC 1321.
    assert_eq!(detail(&o, "md5-abc"), "900150983cd24fb0d6963f7d28e17f72");
    // Nemo.Travel's payment/bill signature: md5("263330" + key "12345").
    assert_eq!(detail(&o, "md5-nemo"), "a439a4492131f4b866ed1a17d018d3a6");
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
        detail(&o, "aes-aerohub"),
        "15hhHQ8C6F9OxD/BNyztUPUJyiRlGPRafEkcI6q2E5Y="
    );
    assert_eq!(detail(&o, "aes-roundtrip"), "round trip");
    assert_eq!(detail(&o, "base64"), "cGF5aG9zdA==");
    assert_eq!(detail(&o, "base64-back"), "payhost");
    // An HMAC keyed by a secret equals one computed here with the same key.
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"hmac-secret-key").unwrap();
    mac.update(b"data");
    assert_eq!(
        detail(&o, "hmac-secret-key"),
        hex::encode(mac.finalize().into_bytes())
    );
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
