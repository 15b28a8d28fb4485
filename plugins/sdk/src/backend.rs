//! Where the SDK's calls to the host go: the component's imports when built
//! for wasm32, or a [`NativeHost`] installed by the program when the
//! connector is compiled natively (to measure it against the sandbox, or to
//! unit-test its mapping without one).

#[cfg(target_arch = "wasm32")]
pub(crate) use crate::bindings::payhost::connector::{
    clock::now,
    config::{get, get_all},
    crypto::{
        aes256_cbc_decrypt, aes256_cbc_encrypt, base64_decode, base64_encode, hmac_sha256, md5,
        sha256,
    },
    http::send,
    log::log,
};

#[cfg(not(target_arch = "wasm32"))]
pub use native::*;

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use crate::bindings::payhost::connector::{
        clock, crypto::CryptoError, http, log::Level, types::Part,
    };
    use std::sync::{Arc, RwLock};

    /// What a natively compiled connector calls instead of the host's imports.
    pub trait NativeHost: Send + Sync {
        /// `http.send`.
        fn send(&self, request: &http::Request) -> Result<http::Response, http::HttpError>;
        /// `crypto.md5`.
        fn md5(&self, data: &[Part]) -> Result<Vec<u8>, CryptoError>;
        /// `crypto.sha256`.
        fn sha256(&self, data: &[Part]) -> Result<Vec<u8>, CryptoError>;
        /// `crypto.hmac-sha256`.
        fn hmac_sha256(&self, key: &[Part], data: &[Part]) -> Result<Vec<u8>, CryptoError>;
        /// `crypto.aes256-cbc-encrypt`.
        fn aes256_cbc_encrypt(
            &self,
            key: &[Part],
            iv: &[u8],
            plaintext: &[Part],
        ) -> Result<Vec<u8>, CryptoError>;
        /// `crypto.aes256-cbc-decrypt`.
        fn aes256_cbc_decrypt(
            &self,
            key: &[Part],
            iv: &[u8],
            ciphertext: &[u8],
        ) -> Result<Vec<u8>, CryptoError>;
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

    fn host() -> Arc<dyn NativeHost> {
        HOST.read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .expect("a natively compiled connector needs payhost_sdk::native::install first")
    }

    pub(crate) fn send(r: &http::Request) -> Result<http::Response, http::HttpError> {
        host().send(r)
    }
    pub(crate) fn md5(d: &[Part]) -> Result<Vec<u8>, CryptoError> {
        host().md5(d)
    }
    pub(crate) fn sha256(d: &[Part]) -> Result<Vec<u8>, CryptoError> {
        host().sha256(d)
    }
    pub(crate) fn hmac_sha256(k: &[Part], d: &[Part]) -> Result<Vec<u8>, CryptoError> {
        host().hmac_sha256(k, d)
    }
    pub(crate) fn aes256_cbc_encrypt(
        k: &[Part],
        iv: &[u8],
        p: &[Part],
    ) -> Result<Vec<u8>, CryptoError> {
        host().aes256_cbc_encrypt(k, iv, p)
    }
    pub(crate) fn aes256_cbc_decrypt(
        k: &[Part],
        iv: &[u8],
        c: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
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
