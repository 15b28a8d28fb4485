//! Hashes, MACs and ciphers run by the host, so secrets can be inputs
//! without the connector ever seeing them.

use crate::Parts;
use crate::bindings::payhost::connector::crypto as wit;

pub use wit::CryptoError;

/// MD5 of the bytes: 16 bytes.
pub fn md5(data: &Parts) -> Result<Vec<u8>, CryptoError> {
    crate::backend::md5(&data.0)
}

/// SHA-256 of the bytes: 32 bytes.
pub fn sha256(data: &Parts) -> Result<Vec<u8>, CryptoError> {
    crate::backend::sha256(&data.0)
}

/// HMAC-SHA-256 of `data` under `key`: 32 bytes.
pub fn hmac_sha256(key: &Parts, data: &Parts) -> Result<Vec<u8>, CryptoError> {
    crate::backend::hmac_sha256(&key.0, &data.0)
}

/// AES-256-CBC with PKCS#7 padding; `key` 32 bytes, `iv` 16. The plaintext
/// may not hold secrets.
pub fn aes256_cbc_encrypt(
    key: &Parts,
    iv: &[u8],
    plaintext: &Parts,
) -> Result<Vec<u8>, CryptoError> {
    crate::backend::aes256_cbc_encrypt(&key.0, iv, &plaintext.0)
}

/// AES-256-CBC decryption with PKCS#7 padding; `key` 32 bytes, `iv` 16.
pub fn aes256_cbc_decrypt(
    key: &Parts,
    iv: &[u8],
    ciphertext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    crate::backend::aes256_cbc_decrypt(&key.0, iv, ciphertext)
}

/// Standard Base64 with padding.
pub fn base64_encode(data: &[u8]) -> String {
    crate::backend::base64_encode(data)
}

/// Decodes standard Base64 with padding.
pub fn base64_decode(text: &str) -> Result<Vec<u8>, CryptoError> {
    crate::backend::base64_decode(text)
}

/// Lower-case hexadecimal.
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
