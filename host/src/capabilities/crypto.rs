//! `payhost:connector/crypto`: hashes, MACs and ciphers over secret references.
//!
//! The rule that keeps secrets secret: a secret may be hashed, be a MAC key
//! or be a cipher key, but never the plaintext of an encryption (the
//! connector could choose the key and decrypt it). Nothing here returns a
//! value from which a secret can be recovered.

use crate::contract::crypto::{self as wit, CryptoError};
use crate::contract::types::Part;
use crate::policy::secrets::SecretStore;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit, block_padding::Pkcs7};
use base64::Engine as _;
use hmac::Mac;
use sha2::Digest;
use std::sync::Arc;
use wasmtime::component::{HasData, Linker};

/// One call's crypto state: the secrets it may use.
pub(crate) struct CryptoCtx {
    pub(crate) secrets: Arc<SecretStore>,
}

/// The view of [`CryptoCtx`] that implements the generated trait.
pub(crate) struct Crypto<'a>(&'a CryptoCtx);

struct CryptoCapability;

impl HasData for CryptoCapability {
    type Data<'a> = Crypto<'a>;
}

/// Adds `crypto` to a linker whose store is `T`; `get` finds this
/// capability's context in the store.
pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> Crypto<'_>,
) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, CryptoCapability>(linker, get)
}

impl<'a> Crypto<'a> {
    /// The view of one call's context.
    pub(crate) fn new(ctx: &'a CryptoCtx) -> Self {
        Crypto(ctx)
    }
}

type Result<T> = wasmtime::Result<std::result::Result<T, CryptoError>>;

impl Crypto<'_> {
    fn bytes(&self, parts: &[Part]) -> std::result::Result<Vec<u8>, CryptoError> {
        self.0
            .secrets
            .assemble(parts)
            .map_err(|e| CryptoError::Denied(e.to_string()))
    }

    fn key_iv(
        &self,
        key: &[Part],
        iv: &[u8],
    ) -> std::result::Result<(Vec<u8>, [u8; 16]), CryptoError> {
        let key = self.bytes(key)?;
        if key.len() != 32 {
            return Err(CryptoError::Invalid(format!(
                "AES-256 needs a 32-byte key, not {} bytes",
                key.len()
            )));
        }
        let iv: [u8; 16] = iv.try_into().map_err(|_| {
            CryptoError::Invalid(format!(
                "AES-CBC needs a 16-byte IV, not {} bytes",
                iv.len()
            ))
        })?;
        Ok((key, iv))
    }
}

type Aes256CbcEnc = cbc::Encryptor<aes::Aes256>;
type Aes256CbcDec = cbc::Decryptor<aes::Aes256>;

impl wit::Host for Crypto<'_> {
    fn md5(&mut self, data: Vec<Part>) -> Result<Vec<u8>> {
        Ok(self.bytes(&data).map(|d| md5::Md5::digest(d).to_vec()))
    }

    fn sha256(&mut self, data: Vec<Part>) -> Result<Vec<u8>> {
        Ok(self.bytes(&data).map(|d| sha2::Sha256::digest(d).to_vec()))
    }

    fn hmac_sha256(&mut self, key: Vec<Part>, data: Vec<Part>) -> Result<Vec<u8>> {
        Ok((|| {
            let key = self.bytes(&key)?;
            let data = self.bytes(&data)?;
            let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key)
                .map_err(|e| CryptoError::Invalid(e.to_string()))?;
            mac.update(&data);
            Ok(mac.finalize().into_bytes().to_vec())
        })())
    }

    fn aes256_cbc_encrypt(
        &mut self,
        key: Vec<Part>,
        iv: Vec<u8>,
        plaintext: Vec<Part>,
    ) -> Result<Vec<u8>> {
        Ok((|| {
            if SecretStore::holds_secret(&plaintext) {
                return Err(CryptoError::Denied(
                    "a secret cannot be the plaintext of an encryption: it could be decrypted"
                        .to_owned(),
                ));
            }
            let (key, iv) = self.key_iv(&key, &iv)?;
            let plaintext = self.bytes(&plaintext)?;
            let cipher = Aes256CbcEnc::new_from_slices(&key, &iv)
                .map_err(|e| CryptoError::Invalid(e.to_string()))?;
            Ok(cipher.encrypt_padded_vec_mut::<Pkcs7>(&plaintext))
        })())
    }

    fn aes256_cbc_decrypt(
        &mut self,
        key: Vec<Part>,
        iv: Vec<u8>,
        ciphertext: Vec<u8>,
    ) -> Result<Vec<u8>> {
        Ok((|| {
            let (key, iv) = self.key_iv(&key, &iv)?;
            let cipher = Aes256CbcDec::new_from_slices(&key, &iv)
                .map_err(|e| CryptoError::Invalid(e.to_string()))?;
            cipher
                .decrypt_padded_vec_mut::<Pkcs7>(&ciphertext)
                .map_err(|_| {
                    CryptoError::Invalid(
                        "the ciphertext's padding is invalid (wrong key, IV or data)".to_owned(),
                    )
                })
        })())
    }

    fn base64_encode(&mut self, data: Vec<u8>) -> wasmtime::Result<String> {
        Ok(base64::engine::general_purpose::STANDARD.encode(data))
    }

    fn base64_decode(&mut self, text: String) -> Result<Vec<u8>> {
        Ok(base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|e| CryptoError::Invalid(format!("not valid Base64: {e}"))))
    }
}
