//! A test double for a connector's unit tests: the host and the supplier in
//! one, on the test's own thread, with no sandbox and no network.
//!
//! ```
//! use payhost_sdk::testing::TestHost;
//! use payhost_sdk::http::Request;
//!
//! let host = TestHost::new()
//!     .config("base_url", "https://supplier.test")
//!     .secret("api_key", "test-key")
//!     .answer(200, r#"{"status":0}"#)
//!     .shared();
//! let status = host.run(|| {
//!     Request::post("https://supplier.test/pay")
//!         .header("x-key", payhost_sdk::Parts::new().secret("api_key", payhost_sdk::Encoding::Raw))
//!         .body(br#"{"order":"O-1"}"#.to_vec())
//!         .send()
//!         .map(|r| r.status)
//! });
//! assert_eq!(status.unwrap(), 200);
//! let sent = host.sent();
//! assert_eq!(sent[0].header("x-key"), Some("test-key"));
//! assert_eq!(sent[0].body, br#"{"order":"O-1"}"#);
//! ```
//!
//! What the double does as the host does, with the host's own code
//! (payhost-rules' `encoding` and `crypto`): secrets and sealed values are
//! written into requests with their encodings; crypto over a secret or a
//! sealed input answers a sealed value (a hidden AES key of the wrong
//! length, or bad padding under one, is no error there either); `config`
//! answers the keys given.
//! What it does not: it grants everything (no allow-list, no limits), so
//! what a connector may do is still for `payhost plugins test` and the
//! host to show.

use crate::backend::{NativeHost, Request, install_on_thread};
use crate::bindings::payhost::connector::clock::Instant;
use crate::bindings::payhost::connector::crypto::CryptoError;
use crate::bindings::payhost::connector::http::{HttpError, Method, Response};
use crate::bindings::payhost::connector::log::Level;
use crate::output::Output;
use crate::parts::Part;
use crate::{Encoding, Sealed};
use payhost_rules::crypto::{self, Input};
use payhost_rules::encoding::Encoding as Written;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

/// A request as the supplier would receive it: secrets written in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The whole URL.
    pub url: String,
    /// The headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body's exact bytes.
    pub body: Vec<u8>,
}

impl SentRequest {
    /// A header's value (name in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }
}

/// The host and the supplier for a unit test. Build it with its config,
/// test secrets and scripted answers, then call the connector inside
/// [`TestHost::run`].
#[derive(Default)]
pub struct TestHost {
    config: BTreeMap<String, String>,
    secrets: HashMap<String, Vec<u8>>,
    answers: Mutex<VecDeque<Result<Response, HttpError>>>,
    sent: Mutex<Vec<SentRequest>>,
    logs: Mutex<Vec<String>>,
    now: Option<u64>,
}

impl TestHost {
    /// A host with nothing configured and no answer scripted.
    pub fn new() -> TestHost {
        TestHost::default()
    }

    /// Sets a config key.
    pub fn config(mut self, key: &str, value: &str) -> TestHost {
        self.config.insert(key.to_owned(), value.to_owned());
        self
    }

    /// Sets a test secret (never a real credential).
    pub fn secret(mut self, name: &str, value: &str) -> TestHost {
        self.secrets
            .insert(name.to_owned(), value.as_bytes().to_vec());
        self
    }

    /// Scripts the supplier's next answer: `status` and `body`.
    pub fn answer(self, status: u16, body: &str) -> TestHost {
        self.answer_with(status, &[], body.as_bytes())
    }

    /// Scripts the next answer with headers (names in lower case).
    pub fn answer_with(self, status: u16, headers: &[(&str, &str)], body: &[u8]) -> TestHost {
        self.queue(Ok(Response {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_ascii_lowercase(), (*v).to_owned()))
                .collect(),
            body: body.to_vec(),
        }))
    }

    /// Scripts the next request to fail: a timeout, a broken connection, …
    pub fn fail(self, error: HttpError) -> TestHost {
        self.queue(Err(error))
    }

    /// Fixes the clock at `unix_seconds` (a signature over a timestamp can
    /// then be checked against a known value).
    pub fn clock(mut self, unix_seconds: u64) -> TestHost {
        self.now = Some(unix_seconds);
        self
    }

    fn queue(self, answer: Result<Response, HttpError>) -> TestHost {
        self.answers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back(answer);
        self
    }

    /// The host, ready to [`TestHost::run`] and to read back.
    pub fn shared(self) -> Arc<TestHost> {
        Arc::new(self)
    }

    /// Runs `f` (a connector's `pay` or `query`) with this double as its
    /// host, on this thread only: tests running side by side do not meet.
    pub fn run<T>(self: &Arc<Self>, f: impl FnOnce() -> T) -> T {
        let host: Arc<dyn NativeHost> = self.clone();
        let previous = install_on_thread(Some(host));
        // Put back whatever was there, even when `f` panics.
        struct Restore(Option<Arc<dyn NativeHost>>);
        impl Drop for Restore {
            fn drop(&mut self) {
                install_on_thread(self.0.take());
            }
        }
        let _restore = Restore(previous);
        f()
    }

    /// The requests the connector sent, in order, secrets written in.
    pub fn sent(&self) -> Vec<SentRequest> {
        self.sent.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The connector's log lines (`level: message key=value …`).
    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl NativeHost for TestHost {
    fn send(&self, request: &Request) -> Result<Response, HttpError> {
        let text = |parts: &[Part]| {
            assemble(parts, &self.secrets)
                .map(|(bytes, _)| bytes)
                .map_err(|e| HttpError::Denied(e.to_string()))
        };
        let url = String::from_utf8(text(&request.url)?)
            .map_err(|e| HttpError::Invalid(e.to_string()))?;
        let mut headers = Vec::new();
        for h in &request.headers {
            let value = String::from_utf8(text(&h.value)?)
                .map_err(|e| HttpError::Invalid(e.to_string()))?;
            headers.push((h.name.clone(), value));
        }
        let method = match request.method {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Patch => "PATCH",
        };
        self.sent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(SentRequest {
                method: method.to_owned(),
                url,
                headers,
                body: text(&request.body)?,
            });
        self.answers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop_front()
            .unwrap_or_else(|| {
                Err(HttpError::Connect(
                    "the test scripted no answer for this request (TestHost::answer)".to_owned(),
                ))
            })
    }

    fn md5(&self, data: &[Part]) -> Result<Output, CryptoError> {
        md5(data, &self.secrets)
    }

    fn sha256(&self, data: &[Part]) -> Result<Output, CryptoError> {
        sha256(data, &self.secrets)
    }

    fn hmac_sha256(&self, key: &[Part], data: &[Part]) -> Result<Output, CryptoError> {
        hmac_sha256(key, data, &self.secrets)
    }

    fn aes256_cbc_encrypt(
        &self,
        key: &[Part],
        iv: &[u8],
        plaintext: &[Part],
    ) -> Result<Output, CryptoError> {
        aes256_cbc_encrypt(key, iv, plaintext, &self.secrets)
    }

    fn aes256_cbc_decrypt(
        &self,
        key: &[Part],
        iv: &[u8],
        ciphertext: &[Part],
    ) -> Result<Output, CryptoError> {
        aes256_cbc_decrypt(key, iv, ciphertext, &self.secrets)
    }

    fn base64_encode(&self, data: &[u8]) -> String {
        crypto::base64_encode(data)
    }

    fn base64_decode(&self, text: &str) -> Result<Vec<u8>, CryptoError> {
        crypto::base64_decode(text.as_bytes()).map_err(invalid)
    }

    fn get(&self, key: &str) -> Option<String> {
        self.config.get(key).cloned()
    }

    fn get_all(&self) -> Vec<(String, String)> {
        self.config
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    fn now(&self) -> Instant {
        match self.now {
            Some(seconds) => Instant {
                seconds,
                nanoseconds: 0,
            },
            None => {
                let d = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default();
                Instant {
                    seconds: d.as_secs(),
                    nanoseconds: d.subsec_millis() * 1_000_000,
                }
            }
        }
    }

    fn log(&self, level: Level, message: &str, fields: &[(String, String)]) {
        let mut line = format!("{level:?}: {message}").to_lowercase();
        for (k, v) in fields {
            line.push_str(&format!(" {k}={v}"));
        }
        self.logs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(line);
    }
}

/// Why [`assemble`] could not write `parts`: a secret they name is not
/// set (give it with [`TestHost::secret`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no secret `{name}` is set")]
pub struct MissingSecret {
    /// The secret's name, as the part names it.
    pub name: String,
}

/// The bytes of `parts`, secrets (looked up in `secrets`) and sealed values
/// written with their encodings, and whether any part was a secret or a
/// sealed value (a crypto result over them is sealed, as the host makes it).
pub fn assemble(
    parts: &[Part],
    secrets: &HashMap<String, Vec<u8>>,
) -> Result<(Vec<u8>, bool), MissingSecret> {
    let mut out = Vec::new();
    let mut sealed = false;
    for part in parts {
        match part {
            Part::Literal(b) => out.extend_from_slice(b),
            Part::Secret(r) => {
                let value = secrets.get(&r.name).ok_or_else(|| MissingSecret {
                    name: r.name.clone(),
                })?;
                encode(value, r.encoding, &mut out);
                sealed = true;
            }
            Part::Sealed(r) => {
                encode(r.value.native_bytes(), r.encoding, &mut out);
                sealed = true;
            }
        }
    }
    Ok((out, sealed))
}

/// Writes `value` with `encoding`, with the host's own code (a JSON string
/// of bytes that are not UTF-8 written lossily, as the host writes a
/// hidden value).
pub fn encode(value: &[u8], encoding: Encoding, out: &mut Vec<u8>) {
    let encoding = match encoding {
        Encoding::Raw => Written::Raw,
        Encoding::Hex => Written::Hex,
        Encoding::HexUpper => Written::HexUpper,
        Encoding::Base64 => Written::Base64,
        Encoding::Base64url => Written::Base64Url,
        Encoding::JsonString => Written::JsonString,
        Encoding::XmlText => Written::XmlText,
        Encoding::UrlComponent => Written::UrlComponent,
    };
    // Lossy: it cannot refuse.
    let _ = encoding.write(out, value, true);
}

/// An input as the host's crypto takes it.
fn input(parts: &[Part], secrets: &HashMap<String, Vec<u8>>) -> Result<Input, CryptoError> {
    let (bytes, hidden) = assemble(parts, secrets).map_err(invalid)?;
    Ok(Input { bytes, hidden })
}

/// A crypto result: sealed when an input was a secret or a sealed value.
fn output(bytes: Vec<u8>, sealed: bool) -> Output {
    if sealed {
        Output::Sealed(Sealed::native(bytes))
    } else {
        Output::Bytes(bytes)
    }
}

fn invalid(e: impl ToString) -> CryptoError {
    CryptoError::Invalid(e.to_string())
}

/// `crypto.md5`, with the host's code.
pub fn md5(data: &[Part], secrets: &HashMap<String, Vec<u8>>) -> Result<Output, CryptoError> {
    let data = input(data, secrets)?;
    Ok(output(crypto::md5(&data), data.hidden))
}

/// `crypto.sha256`, with the host's code.
pub fn sha256(data: &[Part], secrets: &HashMap<String, Vec<u8>>) -> Result<Output, CryptoError> {
    let data = input(data, secrets)?;
    Ok(output(crypto::sha256(&data), data.hidden))
}

/// `crypto.hmac-sha256`, with the host's code.
pub fn hmac_sha256(
    key: &[Part],
    data: &[Part],
    secrets: &HashMap<String, Vec<u8>>,
) -> Result<Output, CryptoError> {
    let (key, data) = (input(key, secrets)?, input(data, secrets)?);
    Ok(output(
        crypto::hmac_sha256(&key, &data),
        key.hidden || data.hidden,
    ))
}

/// `crypto.aes256-cbc-encrypt` (PKCS#7), with the host's code.
pub fn aes256_cbc_encrypt(
    key: &[Part],
    iv: &[u8],
    plaintext: &[Part],
    secrets: &HashMap<String, Vec<u8>>,
) -> Result<Output, CryptoError> {
    let (key, plaintext) = (input(key, secrets)?, input(plaintext, secrets)?);
    let bytes = crypto::aes256_cbc_encrypt(&key, iv, &plaintext).map_err(invalid)?;
    Ok(output(bytes, key.hidden || plaintext.hidden))
}

/// `crypto.aes256-cbc-decrypt` (PKCS#7), with the host's code: over a
/// hidden key or ciphertext the padding is neither checked nor removed.
pub fn aes256_cbc_decrypt(
    key: &[Part],
    iv: &[u8],
    ciphertext: &[Part],
    secrets: &HashMap<String, Vec<u8>>,
) -> Result<Output, CryptoError> {
    let (key, ciphertext) = (input(key, secrets)?, input(ciphertext, secrets)?);
    let bytes = crypto::aes256_cbc_decrypt(&key, iv, &ciphertext).map_err(invalid)?;
    Ok(output(bytes, key.hidden || ciphertext.hidden))
}

#[cfg(test)]
mod tests {
    use super::TestHost;
    use crate::{Encoding, Parts, crypto};

    #[test]
    fn the_double_computes_as_the_host_does_over_a_hidden_key() {
        let host = TestHost::new()
            .secret("short", "not 32 bytes")
            .secret("key", &"k".repeat(32))
            .shared();
        host.run(|| {
            let iv = [0u8; 16];
            // A hidden key of the wrong length: sealed garbage, no error
            // (an error would tell the secret's length).
            let sealed = crypto::aes256_cbc_encrypt(
                &Parts::new().secret("short", Encoding::Raw),
                &iv,
                &Parts::new().text("x"),
            );
            assert!(sealed.expect("no error over a hidden key").is_sealed());
            // Bad padding under a hidden key: no error either.
            let garbage = Parts::new().bytes([1u8; 32]);
            let plain = crypto::aes256_cbc_decrypt(
                &Parts::new().secret("key", Encoding::Raw),
                &iv,
                &garbage,
            );
            assert!(plain.expect("no padding oracle").is_sealed());
            // Base64 with spaces around it, as the host reads it.
            assert_eq!(crypto::base64_decode(" aGk= ").unwrap(), b"hi");
        });
    }
}
