//! Hashes, MACs and ciphers run by the host, so secrets and sealed values
//! can be inputs without the connector ever seeing them.
//!
//! Over literal inputs only, a function answers [`Output::Bytes`]. As soon as
//! one input is a secret or a sealed value, it answers [`Output::Sealed`]: a
//! signature made with a secret key is as good as the key, so the connector
//! gets a handle it can place in a request (with [`crate::Parts::sealed`],
//! [`crate::json::Json::sealed_string`], …) or feed to further crypto, and
//! never the bytes.
//!
//! ```
//! # use payhost_sdk::{Encoding, Parts, crypto, json::Json};
//! # let host = payhost_sdk::testing::TestHost::new().secret("key", "test-key").shared();
//! # host.run(|| -> Result<(), crypto::CryptoError> {
//! # let partner = "P-1";
//! let sign = crypto::md5(&Parts::new().text(partner).secret("key", Encoding::Raw))?
//!     .sealed()
//!     .expect("a digest over a secret is sealed");
//! let body = Json::object().set("sign", Json::sealed_string(&sign, Encoding::Hex));
//! # Ok(()) }).unwrap();
//! ```

use crate::Parts;

pub use crate::bindings::payhost::connector::crypto::CryptoError;
pub use crate::output::Output;

/// MD5 of the bytes: 16 bytes.
pub fn md5(data: &Parts) -> Result<Output, CryptoError> {
    crate::backend::md5(&data.0)
}

/// SHA-256 of the bytes: 32 bytes.
pub fn sha256(data: &Parts) -> Result<Output, CryptoError> {
    crate::backend::sha256(&data.0)
}

/// HMAC-SHA-256 of `data` under `key`: 32 bytes.
pub fn hmac_sha256(key: &Parts, data: &Parts) -> Result<Output, CryptoError> {
    crate::backend::hmac_sha256(&key.0, &data.0)
}

/// AES-256-CBC encryption with PKCS#7 padding; `key` 32 bytes, `iv` 16.
/// Sealed when the key or the plaintext holds a secret or a sealed value.
pub fn aes256_cbc_encrypt(
    key: &Parts,
    iv: &[u8],
    plaintext: &Parts,
) -> Result<Output, CryptoError> {
    crate::backend::aes256_cbc_encrypt(&key.0, iv, &plaintext.0)
}

/// AES-256-CBC decryption with PKCS#7 padding; `key` 32 bytes, `iv` 16.
/// Sealed when the key or the ciphertext holds a secret or a sealed value
/// (and then a wrong key or padding is not told apart from a right one).
pub fn aes256_cbc_decrypt(
    key: &Parts,
    iv: &[u8],
    ciphertext: &Parts,
) -> Result<Output, CryptoError> {
    crate::backend::aes256_cbc_decrypt(&key.0, iv, &ciphertext.0)
}

/// Standard Base64 with padding, of bytes the connector holds.
pub fn base64_encode(data: &[u8]) -> String {
    crate::backend::base64_encode(data)
}

/// Decodes standard Base64 with padding.
pub fn base64_decode(text: &str) -> Result<Vec<u8>, CryptoError> {
    crate::backend::base64_decode(text)
}

/// Lower-case hexadecimal, of bytes the connector holds.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(DIGITS[usize::from(byte >> 4)] as char);
        out.push(DIGITS[usize::from(byte & 0x0f)] as char);
    }
    out
}

impl CryptoError {
    /// The error's text.
    pub fn message(&self) -> &str {
        match self {
            CryptoError::Invalid(m) | CryptoError::Denied(m) => m,
        }
    }
}
