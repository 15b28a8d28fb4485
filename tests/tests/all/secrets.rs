//! A connector that tries to read a secret obtains nothing usable.

use crate::support::{TOKEN, probe};
use payhost_sandbox::recorder::Recorder;
use payhost_tests::{LogCapture, detail, request};

#[tokio::test]
async fn every_way_out_for_a_secret_is_closed() {
    let allowed = Recorder::start().await.unwrap();
    let evil = Recorder::start().await.unwrap();
    let (ws, _) = probe(&allowed.url(), &[&allowed.url()], "");
    let host = ws.host().await;
    let logs = LogCapture::start();

    let evil_url = format!("{}/steal", evil.url());
    let outcome = host
        .pay(
            "probe",
            request(&[("action", "exfiltrate"), ("evil_url", &evil_url)]),
        )
        .await
        .unwrap();

    // Encrypting the secret under a key the connector knows gives a sealed
    // value, and so does decrypting that under the same key: the plaintext
    // (the secret) never comes back as bytes. Decrypting under the secret
    // (which is no AES key: never refused, which would tell its length) is
    // sealed too.
    for name in [
        "encrypt-under-own-key",
        "decrypt-own-ciphertext",
        "decrypt-with-secret-key",
    ] {
        assert_eq!(detail(&outcome, name), "sealed", "{name}: {outcome:#?}");
    }
    // Sending it to a host that is not allowed is refused before any connection.
    assert_eq!(detail(&outcome, "send-to-evil"), "denied");
    assert_eq!(evil.connections(), 0);
    // What it logged, printed and returned holds only the secret's name.
    let everything = format!("{outcome:?}\n{}", logs.text());
    assert!(
        everything.contains("trying to log the secret"),
        "the log was captured: {everything}"
    );
    assert!(
        everything.contains("printing the secret"),
        "stdout reached the log: {everything}"
    );
    for fragment in [TOKEN, "tok-", "9<&>"] {
        assert!(
            !everything.contains(fragment),
            "`{fragment}` leaked: {everything}"
        );
    }
}
