//! The native baseline: the connectors' own code compiled for this machine,
//! calling the same reqwest client and the same crypto directly instead of
//! through the sandbox.

use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit, block_padding::Pkcs7};
use base64::Engine as _;
use hmac::Mac as _;
use payhost_sdk::native::{
    CryptoError, Encoding, HttpError, Instant, Level, Method, NativeHost, Output, Part, Request,
    Response, Sealed,
};
use sha2::Digest as _;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

thread_local! {
    /// The connector the current thread runs, for its config and secrets.
    static CURRENT: RefCell<&'static str> = const { RefCell::new("") };
}

/// Runs `f` as connector `name`.
pub fn as_connector<T>(name: &'static str, f: impl FnOnce() -> T) -> T {
    CURRENT.with(|c| *c.borrow_mut() = name);
    f()
}

/// Config and secrets per connector, the shared client, the runtime to block on.
pub struct Native {
    pub client: reqwest::Client,
    pub handle: tokio::runtime::Handle,
    pub config: HashMap<&'static str, BTreeMap<String, String>>,
    pub secrets: HashMap<&'static str, HashMap<String, Vec<u8>>>,
}

impl Native {
    fn current<T>(
        &self,
        f: impl FnOnce(&BTreeMap<String, String>, &HashMap<String, Vec<u8>>) -> T,
    ) -> T {
        let name = CURRENT.with(|c| *c.borrow());
        let empty_c = BTreeMap::new();
        let empty_s = HashMap::new();
        f(
            self.config.get(name).unwrap_or(&empty_c),
            self.secrets.get(name).unwrap_or(&empty_s),
        )
    }

    /// The bytes of `parts`, secrets and sealed values written with their
    /// encodings, and whether any part was a secret or a sealed value (then
    /// a crypto result is sealed, as the host makes it).
    fn bytes(&self, parts: &[Part]) -> Result<(Vec<u8>, bool), String> {
        self.current(|_, secrets| {
            let mut out = Vec::new();
            let mut sealed = false;
            for part in parts {
                match part {
                    Part::Literal(b) => out.extend_from_slice(b),
                    Part::Secret(r) => {
                        let value = secrets
                            .get(&r.name)
                            .ok_or_else(|| format!("no secret {}", r.name))?;
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
        })
    }

    /// The bytes of `parts`, for a request.
    fn plain(&self, parts: &[Part]) -> Result<Vec<u8>, String> {
        self.bytes(parts).map(|(bytes, _)| bytes)
    }
}

/// Writes `value` with `encoding`, as the host does.
fn encode(value: &[u8], encoding: Encoding, out: &mut Vec<u8>) {
    match encoding {
        Encoding::Raw => out.extend_from_slice(value),
        Encoding::Hex => out.extend_from_slice(payhost_sdk::crypto::hex(value).as_bytes()),
        Encoding::HexUpper => out.extend_from_slice(
            payhost_sdk::crypto::hex(value)
                .to_ascii_uppercase()
                .as_bytes(),
        ),
        Encoding::Base64 => out.extend_from_slice(
            base64::engine::general_purpose::STANDARD
                .encode(value)
                .as_bytes(),
        ),
        Encoding::Base64url => out.extend_from_slice(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(value)
                .as_bytes(),
        ),
        Encoding::JsonString => out.extend_from_slice(
            serde_json::to_string(&String::from_utf8_lossy(value))
                .unwrap_or_default()
                .as_bytes(),
        ),
        Encoding::XmlText => {
            for &b in value {
                match b {
                    b'&' => out.extend_from_slice(b"&amp;"),
                    b'<' => out.extend_from_slice(b"&lt;"),
                    b'>' => out.extend_from_slice(b"&gt;"),
                    b'"' => out.extend_from_slice(b"&quot;"),
                    b'\'' => out.extend_from_slice(b"&apos;"),
                    o => out.push(o),
                }
            }
        }
        Encoding::UrlComponent => {
            out.extend(url::form_urlencoded::byte_serialize(value).flat_map(|s| s.bytes()))
        }
    }
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

impl NativeHost for Native {
    fn send(&self, request: &Request) -> Result<Response, HttpError> {
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Delete => reqwest::Method::DELETE,
            Method::Patch => reqwest::Method::PATCH,
        };
        let url = self.plain(&request.url).map_err(HttpError::Denied)?;
        let url = String::from_utf8(url).map_err(|e| HttpError::Invalid(e.to_string()))?;
        let mut builder = self.client.request(method, url);
        for header in &request.headers {
            builder = builder.header(
                &header.name,
                self.plain(&header.value).map_err(HttpError::Denied)?,
            );
        }
        let body = self.plain(&request.body).map_err(HttpError::Denied)?;
        let request = builder.body(body);
        self.handle.block_on(async move {
            let response = request
                .send()
                .await
                .map_err(|e| HttpError::Connect(e.to_string()))?;
            let status = response.status().as_u16();
            let headers = response
                .headers()
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let body = response
                .bytes()
                .await
                .map_err(|e| HttpError::Broken(e.to_string()))?
                .to_vec();
            Ok(Response {
                status,
                headers,
                body,
            })
        })
    }

    fn md5(&self, data: &[Part]) -> Result<Output, CryptoError> {
        let (data, sealed) = self.bytes(data).map_err(invalid)?;
        Ok(output(md5::Md5::digest(data).to_vec(), sealed))
    }

    fn sha256(&self, data: &[Part]) -> Result<Output, CryptoError> {
        let (data, sealed) = self.bytes(data).map_err(invalid)?;
        Ok(output(sha2::Sha256::digest(data).to_vec(), sealed))
    }

    fn hmac_sha256(&self, key: &[Part], data: &[Part]) -> Result<Output, CryptoError> {
        let (key, key_sealed) = self.bytes(key).map_err(invalid)?;
        let (data, data_sealed) = self.bytes(data).map_err(invalid)?;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).map_err(invalid)?;
        mac.update(&data);
        Ok(output(
            mac.finalize().into_bytes().to_vec(),
            key_sealed || data_sealed,
        ))
    }

    fn aes256_cbc_encrypt(
        &self,
        key: &[Part],
        iv: &[u8],
        plaintext: &[Part],
    ) -> Result<Output, CryptoError> {
        let (key, key_sealed) = self.bytes(key).map_err(invalid)?;
        let (plaintext, plaintext_sealed) = self.bytes(plaintext).map_err(invalid)?;
        let cipher = cbc::Encryptor::<aes::Aes256>::new_from_slices(&key, iv).map_err(invalid)?;
        Ok(output(
            cipher.encrypt_padded_vec_mut::<Pkcs7>(&plaintext),
            key_sealed || plaintext_sealed,
        ))
    }

    fn aes256_cbc_decrypt(
        &self,
        key: &[Part],
        iv: &[u8],
        ciphertext: &[Part],
    ) -> Result<Output, CryptoError> {
        let (key, key_sealed) = self.bytes(key).map_err(invalid)?;
        let (ciphertext, ciphertext_sealed) = self.bytes(ciphertext).map_err(invalid)?;
        let cipher = cbc::Decryptor::<aes::Aes256>::new_from_slices(&key, iv).map_err(invalid)?;
        let plaintext = cipher
            .decrypt_padded_vec_mut::<Pkcs7>(&ciphertext)
            .map_err(invalid)?;
        Ok(output(plaintext, key_sealed || ciphertext_sealed))
    }

    fn base64_encode(&self, data: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(data)
    }

    fn base64_decode(&self, text: &str) -> Result<Vec<u8>, CryptoError> {
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(invalid)
    }

    fn get(&self, key: &str) -> Option<String> {
        self.current(|config, _| config.get(key).cloned())
    }

    fn get_all(&self) -> Vec<(String, String)> {
        self.current(|config, _| config.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
    }

    fn now(&self) -> Instant {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Instant {
            seconds: d.as_secs(),
            nanoseconds: d.subsec_nanos(),
        }
    }

    fn log(&self, _level: Level, _message: &str, _fields: &[(String, String)]) {}
}
