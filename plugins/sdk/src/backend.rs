//! Where the SDK's calls to the host go: the component's imports when built
//! for wasm32, or a [`NativeHost`] installed by the program when the
//! connector is compiled natively (to measure it against the sandbox, or to
//! unit-test its mapping without one).

use crate::bindings::payhost::connector::http::Method;
use crate::parts::Part;

/// An outbound request as the SDK hands it to the host: its URL, header
/// values and body as parts.
#[derive(Debug, Clone)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The absolute URL; a secret or sealed part stands in the query only.
    pub url: Vec<Part>,
    /// The headers.
    pub headers: Vec<Header>,
    /// The body (empty for none).
    pub body: Vec<Part>,
    /// How long to wait for the whole answer, in milliseconds.
    pub timeout_ms: Option<u32>,
}

/// A request header whose value may hold secrets and sealed values.
#[derive(Debug, Clone)]
pub struct Header {
    /// The header name.
    pub name: String,
    /// The value, assembled from its parts.
    pub value: Vec<Part>,
}

#[cfg(target_arch = "wasm32")]
pub(crate) use wasm::*;

#[cfg(target_arch = "wasm32")]
mod wasm {
    use super::Request;
    use crate::Sealed;
    use crate::bindings::payhost::connector::crypto::CryptoError;
    use crate::bindings::payhost::connector::{crypto as wit_crypto, http as wit_http};
    use crate::output::Output;
    use crate::parts::{Part, lower};

    pub(crate) use crate::bindings::payhost::connector::{
        clock::now,
        config::{get, get_all},
        crypto::{base64_decode, base64_encode},
        log::log,
    };

    fn output(r: Result<wit_crypto::Output, CryptoError>) -> Result<Output, CryptoError> {
        r.map(|o| match o {
            wit_crypto::Output::Bytes(bytes) => Output::Bytes(bytes),
            wit_crypto::Output::Sealed(handle) => Output::Sealed(Sealed::from_wit(handle)),
        })
    }

    pub(crate) fn send(mut r: Request) -> Result<wit_http::Response, wit_http::HttpError> {
        let headers = r
            .headers
            .iter_mut()
            .map(|h| wit_http::Header {
                name: std::mem::take(&mut h.name),
                value: lower::taken(&mut h.value),
            })
            .collect();
        wit_http::send(&wit_http::Request {
            method: r.method,
            url: lower::taken(&mut r.url),
            headers,
            body: lower::taken(&mut r.body),
            timeout_ms: r.timeout_ms,
        })
    }
    pub(crate) fn md5(d: &[Part]) -> Result<Output, CryptoError> {
        output(wit_crypto::md5(&lower::borrowed(d)))
    }
    pub(crate) fn sha256(d: &[Part]) -> Result<Output, CryptoError> {
        output(wit_crypto::sha256(&lower::borrowed(d)))
    }
    pub(crate) fn hmac_sha256(k: &[Part], d: &[Part]) -> Result<Output, CryptoError> {
        output(wit_crypto::hmac_sha256(
            &lower::borrowed(k),
            &lower::borrowed(d),
        ))
    }
    pub(crate) fn aes256_cbc_encrypt(
        k: &[Part],
        iv: &[u8],
        p: &[Part],
    ) -> Result<Output, CryptoError> {
        output(wit_crypto::aes256_cbc_encrypt(
            &lower::borrowed(k),
            iv,
            &lower::borrowed(p),
        ))
    }
    pub(crate) fn aes256_cbc_decrypt(
        k: &[Part],
        iv: &[u8],
        c: &[Part],
    ) -> Result<Output, CryptoError> {
        output(wit_crypto::aes256_cbc_decrypt(
            &lower::borrowed(k),
            iv,
            &lower::borrowed(c),
        ))
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub use native::*;

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use super::Request;
    use crate::bindings::payhost::connector::{clock, crypto::CryptoError, http, log::Level};
    use crate::output::Output;
    use crate::parts::Part;
    use std::cell::RefCell;
    use std::sync::{Arc, RwLock};

    /// What a natively compiled connector calls instead of the host's
    /// imports. Secrets arrive as [`Part::Secret`] references, sealed values
    /// as [`Part::Sealed`] (read them with [`crate::Sealed::native_bytes`]);
    /// crypto over any secret or sealed input answers [`Output::Sealed`]
    /// (made with [`crate::Sealed::native`]), as the host does.
    pub trait NativeHost: Send + Sync {
        /// `http.send`.
        fn send(&self, request: &Request) -> Result<http::Response, http::HttpError>;
        /// `crypto.md5`.
        fn md5(&self, data: &[Part]) -> Result<Output, CryptoError>;
        /// `crypto.sha256`.
        fn sha256(&self, data: &[Part]) -> Result<Output, CryptoError>;
        /// `crypto.hmac-sha256`.
        fn hmac_sha256(&self, key: &[Part], data: &[Part]) -> Result<Output, CryptoError>;
        /// `crypto.aes256-cbc-encrypt`.
        fn aes256_cbc_encrypt(
            &self,
            key: &[Part],
            iv: &[u8],
            plaintext: &[Part],
        ) -> Result<Output, CryptoError>;
        /// `crypto.aes256-cbc-decrypt`.
        fn aes256_cbc_decrypt(
            &self,
            key: &[Part],
            iv: &[u8],
            ciphertext: &[Part],
        ) -> Result<Output, CryptoError>;
        /// `crypto.base64-encode`.
        fn base64_encode(&self, data: &[u8]) -> String;
        /// `crypto.base64-decode`.
        fn base64_decode(&self, text: &str) -> Result<Vec<u8>, CryptoError>;
        /// `config.get`.
        fn get(&self, key: &str) -> Option<String>;
        /// `config.get-all`.
        fn get_all(&self) -> Vec<(String, String)>;
        /// `clock.now`.
        fn now(&self) -> clock::Instant;
        /// `log.log`.
        fn log(&self, level: Level, message: &str, fields: &[(String, String)]);
    }

    static HOST: RwLock<Option<Arc<dyn NativeHost>>> = RwLock::new(None);

    /// Installs the host a natively compiled connector calls.
    pub fn install(host: Arc<dyn NativeHost>) {
        *HOST.write().unwrap_or_else(|e| e.into_inner()) = Some(host);
    }

    thread_local! {
        static ON_THREAD: RefCell<Option<Arc<dyn NativeHost>>> = const { RefCell::new(None) };
    }

    /// Installs `host` for this thread only (a test double), over the one
    /// [`install`]ed; answers the one it replaced on this thread.
    pub(crate) fn install_on_thread(
        host: Option<Arc<dyn NativeHost>>,
    ) -> Option<Arc<dyn NativeHost>> {
        ON_THREAD.with(|c| c.replace(host))
    }

    fn host() -> Arc<dyn NativeHost> {
        if let Some(double) = ON_THREAD.with(|c| c.borrow().clone()) {
            return double;
        }
        HOST.read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .expect("a natively compiled connector needs payhost_sdk::native::install first")
    }

    pub(crate) fn send(r: Request) -> Result<http::Response, http::HttpError> {
        host().send(&r)
    }
    pub(crate) fn md5(d: &[Part]) -> Result<Output, CryptoError> {
        host().md5(d)
    }
    pub(crate) fn sha256(d: &[Part]) -> Result<Output, CryptoError> {
        host().sha256(d)
    }
    pub(crate) fn hmac_sha256(k: &[Part], d: &[Part]) -> Result<Output, CryptoError> {
        host().hmac_sha256(k, d)
    }
    pub(crate) fn aes256_cbc_encrypt(
        k: &[Part],
        iv: &[u8],
        p: &[Part],
    ) -> Result<Output, CryptoError> {
        host().aes256_cbc_encrypt(k, iv, p)
    }
    pub(crate) fn aes256_cbc_decrypt(
        k: &[Part],
        iv: &[u8],
        c: &[Part],
    ) -> Result<Output, CryptoError> {
        host().aes256_cbc_decrypt(k, iv, c)
    }
    pub(crate) fn base64_encode(d: &[u8]) -> String {
        host().base64_encode(d)
    }
    pub(crate) fn base64_decode(t: &str) -> Result<Vec<u8>, CryptoError> {
        host().base64_decode(t)
    }
    pub(crate) fn get(k: &str) -> Option<String> {
        host().get(k)
    }
    pub(crate) fn get_all() -> Vec<(String, String)> {
        host().get_all()
    }
    pub(crate) fn now() -> clock::Instant {
        host().now()
    }
    pub(crate) fn log(level: Level, message: &str, fields: &[(String, String)]) {
        host().log(level, message, fields)
    }
}
