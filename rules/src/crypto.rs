//! The crypto a connector asks the host for, over inputs that may hold
//! hidden values (a secret, a sealed value): the one implementation the host
//! and the SDK's test double both use. Over a hidden input nothing may act
//! as an oracle: a key of the wrong length is replaced by its SHA-256 and
//! a decryption neither checks nor removes the padding.

use aes::cipher::block_padding::{NoPadding, Pkcs7};
use aes::cipher::{BlockDecryptMut as _, BlockEncryptMut as _, KeyIvInit as _};
use hmac::Mac as _;
use sha2::Digest as _;

type Aes256CbcEnc = cbc::Encryptor<aes::Aes256>;
type Aes256CbcDec = cbc::Decryptor<aes::Aes256>;

/// Why a crypto function refused its literal inputs. No variant depends on
/// a hidden input's length or content: a hidden key of the wrong length is
/// replaced, and a padding under a hidden key or of a hidden ciphertext is
/// not checked (except by [`aes256_cbc_decrypt_padded`], contract 0.1.0's).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidInput {
    /// The IV is not 16 bytes.
    #[error("AES-CBC needs a 16-byte IV, not {len} bytes")]
    IvLength {
        /// The IV's length.
        len: usize,
    },
    /// A literal key is not 32 bytes.
    #[error("AES-256 needs a 32-byte key, not {len} bytes")]
    KeyLength {
        /// The key's length.
        len: usize,
    },
    /// The cipher refused the key or IV's length.
    #[error("{0}")]
    Cipher(aes::cipher::InvalidLength),
    /// The PKCS#7 padding is not valid.
    #[error("the ciphertext's padding is invalid (wrong key, IV or data)")]
    Padding,
    /// The text is not standard Base64.
    #[error("not valid Base64: {0}")]
    Base64(base64::DecodeError),
}

/// A crypto function's input: its bytes, and whether any of them came from
/// a secret or a sealed value.
#[derive(Debug, Clone, Default)]
pub struct Input {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// Whether a secret or a sealed value is in them.
    pub hidden: bool,
}

/// Whether an AES key is one the function takes as it is: 32 bytes, or
/// hidden (then replaced by its SHA-256, which the host's log reports).
pub fn key_substituted(key: &Input) -> bool {
    key.hidden && key.bytes.len() != 32
}

/// The key and IV AES-256-CBC uses: a literal key must be 32 bytes; a
/// hidden one of another length is replaced by its SHA-256 (an error would
/// tell its length), so the result is sealed garbage the supplier refuses.
fn key_iv(key: &Input, iv: &[u8]) -> Result<(Vec<u8>, [u8; 16]), InvalidInput> {
    let iv: [u8; 16] = iv
        .try_into()
        .map_err(|_| InvalidInput::IvLength { len: iv.len() })?;
    if key.bytes.len() == 32 {
        return Ok((key.bytes.clone(), iv));
    }
    if !key.hidden {
        return Err(InvalidInput::KeyLength {
            len: key.bytes.len(),
        });
    }
    Ok((sha2::Sha256::digest(&key.bytes).to_vec(), iv))
}

/// MD5.
pub fn md5(data: &Input) -> Vec<u8> {
    md5::Md5::digest(&data.bytes).to_vec()
}

/// SHA-256.
pub fn sha256(data: &Input) -> Vec<u8> {
    sha2::Sha256::digest(&data.bytes).to_vec()
}

/// HMAC-SHA256 (a key of any length).
pub fn hmac_sha256(key: &Input, data: &Input) -> Vec<u8> {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key.bytes)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(&data.bytes);
    mac.finalize().into_bytes().to_vec()
}

/// AES-256-CBC with PKCS#7 padding.
pub fn aes256_cbc_encrypt(
    key: &Input,
    iv: &[u8],
    plaintext: &Input,
) -> Result<Vec<u8>, InvalidInput> {
    let (key, iv) = key_iv(key, iv)?;
    let cipher = Aes256CbcEnc::new_from_slices(&key, &iv).map_err(InvalidInput::Cipher)?;
    Ok(cipher.encrypt_padded_vec_mut::<Pkcs7>(&plaintext.bytes))
}

/// AES-256-CBC decryption. Over literal inputs a bad length or padding is
/// an error; with a hidden key or ciphertext it is not (an error would be
/// an oracle): the whole blocks are decrypted and the padding is left in.
pub fn aes256_cbc_decrypt(
    key: &Input,
    iv: &[u8],
    ciphertext: &Input,
) -> Result<Vec<u8>, InvalidInput> {
    let hidden = key.hidden;
    let (key, iv) = key_iv(key, iv)?;
    let cipher = Aes256CbcDec::new_from_slices(&key, &iv).map_err(InvalidInput::Cipher)?;
    if !(hidden || ciphertext.hidden) {
        return cipher
            .decrypt_padded_vec_mut::<Pkcs7>(&ciphertext.bytes)
            .map_err(|_| InvalidInput::Padding);
    }
    // Whole blocks, padding left in: removing it only where it is valid
    // would make the length tell whether it was (a padding oracle).
    let whole = ciphertext.bytes.len() / 16 * 16;
    let mut blocks = ciphertext.bytes[..whole].to_vec();
    Ok(cipher
        .decrypt_padded_mut::<NoPadding>(&mut blocks)
        .map(<[u8]>::to_vec)
        .unwrap_or_default())
}

/// AES-256-CBC decryption that removes the PKCS#7 padding and fails on a
/// bad one whatever the inputs: contract 0.1.0's behaviour, which tells a
/// bad padding even under a hidden key (its connectors are legacy).
pub fn aes256_cbc_decrypt_padded(
    key: &Input,
    iv: &[u8],
    ciphertext: &[u8],
) -> Result<Vec<u8>, InvalidInput> {
    let (key, iv) = key_iv(key, iv)?;
    Aes256CbcDec::new_from_slices(&key, &iv)
        .map_err(InvalidInput::Cipher)?
        .decrypt_padded_vec_mut::<Pkcs7>(ciphertext)
        .map_err(|_| InvalidInput::Padding)
}

/// Standard Base64 with padding.
pub fn base64_encode(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// Decodes standard Base64, spaces around it ignored.
pub fn base64_decode(text: &[u8]) -> Result<Vec<u8>, InvalidInput> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text.trim_ascii())
        .map_err(InvalidInput::Base64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hidden(bytes: &[u8]) -> Input {
        Input {
            bytes: bytes.to_vec(),
            hidden: true,
        }
    }

    fn literal(bytes: &[u8]) -> Input {
        Input {
            bytes: bytes.to_vec(),
            hidden: false,
        }
    }

    #[test]
    fn over_a_hidden_input_nothing_fails_on_what_it_holds() {
        let iv = [0u8; 16];
        // A hidden key of the wrong length: sealed garbage, no error.
        assert!(aes256_cbc_encrypt(&hidden(b"short"), &iv, &literal(b"x")).is_ok());
        assert!(aes256_cbc_encrypt(&literal(b"short"), &iv, &literal(b"x")).is_err());
        // Bad padding under a hidden key: no error, padding left in.
        let key = [7u8; 32];
        let garbage = literal(&[1u8; 32]);
        assert!(aes256_cbc_decrypt(&hidden(&key), &iv, &garbage).is_ok());
        assert!(aes256_cbc_decrypt(&literal(&key), &iv, &garbage).is_err());
        // A round trip over literals removes the padding.
        let sealed = aes256_cbc_encrypt(&literal(&key), &iv, &literal(b"hello")).unwrap();
        assert_eq!(
            aes256_cbc_decrypt(&literal(&key), &iv, &literal(&sealed)).unwrap(),
            b"hello"
        );
    }

    #[test]
    fn base64_ignores_the_spaces_around_it() {
        assert_eq!(base64_decode(b"  aGk=\n").unwrap(), b"hi");
    }
}
