//! The native baseline: the connectors' own code compiled for this machine,
//! calling the same reqwest client and the same crypto directly instead of
//! through the sandbox, with the same config and secrets the host gets
//! (`native_host`).

use base64::Engine as _;
use payhost_sandbox::sim::Credentials;
use payhost_sdk::native::{
    CryptoError, HttpError, Instant, Level, Method, NativeHost, Output, Part, Request, Response,
};
use payhost_sdk::testing;
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
    /// Where each answer is kept when set (section 1e takes the suppliers'
    /// answers from it); `None` on every measured path.
    pub answers: Option<std::sync::Mutex<Vec<Response>>>,
}

/// The native baseline's config and secrets, the same the host gets, for
/// the simulator at `url` with credentials `c`.
pub(crate) fn native_host(url: &str, c: &Credentials) -> Native {
    let url = url.to_owned();
    let mut config = HashMap::new();
    let mut secrets = HashMap::new();
    let cfg = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>()
    };
    let sec = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.as_bytes().to_vec()))
            .collect::<HashMap<_, _>>()
    };
    config.insert(
        "atlas",
        cfg(&[("base_url", &url), ("request_source", "payhost-demo")]),
    );
    config.insert(
        "hkramble",
        cfg(&[("base_url", &url), ("partner_id", &c.hk_partner_id)]),
    );
    config.insert(
        "aerohub",
        cfg(&[("base_url", &url), ("api_key", &c.aerohub_key)]),
    );
    config.insert(
        "nemo",
        cfg(&[("base_url", &url), ("client_id", &c.nemo_client_id)]),
    );
    secrets.insert(
        "atlas",
        sec(&[
            ("client_id", &c.atlas_client_id),
            ("client_secret", &c.atlas_client_secret),
        ]),
    );
    secrets.insert("hkramble", sec(&[("secret_key", &c.hk_secret_key)]));
    secrets.insert("aerohub", sec(&[("api_secret", &c.aerohub_secret)]));
    secrets.insert(
        "nemo",
        sec(&[
            ("api_key", &c.nemo_api_key),
            ("security_key", &c.nemo_security_key),
        ]),
    );
    Native {
        client: payhost::http_client(),
        handle: tokio::runtime::Handle::current(),
        config,
        secrets,
        answers: None,
    }
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

    /// `f` with the current connector's secrets.
    fn with_secrets<T>(&self, f: impl FnOnce(&HashMap<String, Vec<u8>>) -> T) -> T {
        self.current(|_, secrets| f(secrets))
    }

    /// The bytes of `parts`, for a request.
    fn plain(&self, parts: &[Part]) -> Result<Vec<u8>, String> {
        self.with_secrets(|secrets| {
            testing::assemble(parts, secrets)
                .map(|(bytes, _)| bytes)
                .map_err(|e| e.to_string())
        })
    }
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
        // The host's span name for the same stretch (section 0c).
        let _exchange = tracing::debug_span!("supplier.exchange").entered();
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
            let response = Response {
                status,
                headers,
                body,
            };
            if let Some(answers) = &self.answers {
                answers
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(response.clone());
            }
            Ok(response)
        })
    }

    fn md5(&self, data: &[Part]) -> Result<Output, CryptoError> {
        self.with_secrets(|s| testing::md5(data, s))
    }

    fn sha256(&self, data: &[Part]) -> Result<Output, CryptoError> {
        self.with_secrets(|s| testing::sha256(data, s))
    }

    fn hmac_sha256(&self, key: &[Part], data: &[Part]) -> Result<Output, CryptoError> {
        self.with_secrets(|s| testing::hmac_sha256(key, data, s))
    }

    fn aes256_cbc_encrypt(
        &self,
        key: &[Part],
        iv: &[u8],
        plaintext: &[Part],
    ) -> Result<Output, CryptoError> {
        self.with_secrets(|s| testing::aes256_cbc_encrypt(key, iv, plaintext, s))
    }

    fn aes256_cbc_decrypt(
        &self,
        key: &[Part],
        iv: &[u8],
        ciphertext: &[Part],
    ) -> Result<Output, CryptoError> {
        self.with_secrets(|s| testing::aes256_cbc_decrypt(key, iv, ciphertext, s))
    }

    fn base64_encode(&self, data: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(data)
    }

    fn base64_decode(&self, text: &str) -> Result<Vec<u8>, CryptoError> {
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|e| CryptoError::Invalid(e.to_string()))
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
