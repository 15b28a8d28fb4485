//! Signed packages: a connector component with a manifest and its ed25519
//! signature in a custom section at its end (`payhost-package`), so the
//! package is still one `.wasm` file that any host can load.
//!
//! The manifest names the connector, its version and contract, the SHA-256
//! of the component without the section, what it asks for (hosts, secrets,
//! config keys), the `payhost.toml` section to paste, and the publisher's
//! public key; the signature is over the manifest's exact bytes. An
//! operator who names a connector's publishers (`publishers = ["ed25519:…"]`
//! in its section) gets only packages signed by one of them; a package whose
//! signature does not verify is refused whoever it names.

use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

/// The custom section's name.
pub const SECTION: &str = "payhost-package";

/// The prefix of a public key as operators write it.
const KEY_PREFIX: &str = "ed25519:";

/// What a package says about itself, signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The connector's name (from its `info()`).
    pub name: String,
    /// Its version.
    pub version: String,
    /// The contract it is built for (`payhost:connector@0.2.0`).
    pub contract: String,
    /// The SHA-256 (hex) of the component without the package section.
    pub sha256: String,
    /// The origins it asks to call.
    pub hosts: Vec<String>,
    /// The secrets it references.
    pub secrets: Vec<String>,
    /// The config keys it reads.
    pub config_keys: Vec<String>,
    /// Where it places each hidden value (contract 0.3.0).
    #[serde(default)]
    pub placements: Vec<crate::contract::placement::PlacementSpec>,
    /// The `payhost.toml` section to paste (values to fill in).
    pub section: String,
    /// The publisher's public key, `ed25519:` and Base64.
    pub publisher: String,
}

/// The package section's content.
#[derive(Serialize, Deserialize)]
struct Sealed {
    /// The manifest's exact JSON text: what is signed.
    manifest: String,
    /// The signature, Base64.
    signature: String,
}

/// Why a key, a signature or a package does not hold.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// The system gave no randomness for a new key.
    #[error("no randomness: {0}")]
    NoRandomness(String),
    /// Not a publisher's secret key file.
    #[error("not a publisher key file (`payhost plugins keygen` writes one)")]
    NotAKeyFile,
    /// Not a public key as operators write it.
    #[error(
        "`{0}` is not a publisher key: write it as `payhost plugins keygen` prints it, ed25519: and 44 Base64 characters"
    )]
    NotAPublicKey(String),
    /// The right form, but not a key on the curve.
    #[error("not an ed25519 public key: {0}")]
    BadPublicKey(String),
    /// A package given to be packaged again.
    #[error("this file is a package already; package the plain component")]
    AlreadyPackaged,
    /// The file's sections cannot hold a package.
    #[error("{0}")]
    Malformed(&'static str),
    /// The package section cannot be read.
    #[error("its package section is not readable ({0})")]
    Unreadable(String),
    /// The manifest cannot be read.
    #[error("its package manifest is not readable ({0})")]
    ManifestUnreadable(String),
    /// The signature is not one.
    #[error("its package signature is not an ed25519 signature")]
    NotASignature,
    /// The manifest was changed after it was signed.
    #[error(
        "its package signature does not verify against its publisher {0}: the manifest was changed after signing"
    )]
    SignatureMismatch(String),
    /// The component was changed after it was signed.
    #[error(
        "its component's SHA-256 is {actual}, not the {signed} its signed manifest names: the component was changed after signing"
    )]
    DigestMismatch {
        /// The component's digest.
        actual: String,
        /// The one the manifest names.
        signed: String,
    },
    /// The manifest could not be written.
    #[error("cannot write the manifest: {0}")]
    Encode(String),
}

/// A publisher's key pair.
pub struct PublisherKey(SigningKey);

impl PublisherKey {
    /// A new key from the operating system's randomness.
    pub fn generate() -> Result<PublisherKey, PackageError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| PackageError::NoRandomness(e.to_string()))?;
        Ok(PublisherKey(SigningKey::from_bytes(&seed)))
    }

    /// The key's file form: `ed25519-secret:` and the Base64 seed.
    pub fn to_file_text(&self) -> String {
        format!(
            "ed25519-secret:{}\n",
            base64::engine::general_purpose::STANDARD.encode(self.0.to_bytes())
        )
    }

    /// Reads a key file written by [`PublisherKey::to_file_text`].
    pub fn from_file_text(text: &str) -> Result<PublisherKey, PackageError> {
        let seed = text
            .trim()
            .strip_prefix("ed25519-secret:")
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or(PackageError::NotAKeyFile)?;
        Ok(PublisherKey(SigningKey::from_bytes(&seed)))
    }

    /// The public key as operators write it: `ed25519:` and Base64.
    pub fn public(&self) -> String {
        format!(
            "{KEY_PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(self.0.verifying_key().to_bytes())
        )
    }
}

/// Parses a public key written as `ed25519:BASE64`.
pub fn parse_public(text: &str) -> Result<VerifyingKey, PackageError> {
    let bytes = text
        .strip_prefix(KEY_PREFIX)
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| PackageError::NotAPublicKey(text.escape_debug().to_string()))?;
    VerifyingKey::from_bytes(&bytes).map_err(|e| PackageError::BadPublicKey(e.to_string()))
}

/// `component` with `manifest` signed by `key` appended: the package. The
/// manifest's `sha256` and `publisher` are filled in here.
pub fn sign(
    component: &[u8],
    mut manifest: Manifest,
    key: &PublisherKey,
) -> Result<Vec<u8>, PackageError> {
    let (plain, existing) = split(component)?;
    if existing.is_some() {
        return Err(PackageError::AlreadyPackaged);
    }
    manifest.sha256 = hex::encode(sha2::Sha256::digest(plain));
    manifest.publisher = key.public();
    let text = serde_json::to_string(&manifest).map_err(|e| PackageError::Encode(e.to_string()))?;
    let signature = key.0.sign(text.as_bytes());
    let payload = serde_json::to_vec(&Sealed {
        manifest: text,
        signature: base64::engine::general_purpose::STANDARD.encode(signature.to_bytes()),
    })
    .map_err(|e| PackageError::Encode(e.to_string()))?;
    let mut content = Vec::new();
    leb128(SECTION.len() as u64, &mut content);
    content.extend_from_slice(SECTION.as_bytes());
    content.extend_from_slice(&payload);
    let mut out = plain.to_vec();
    out.push(0);
    leb128(content.len() as u64, &mut out);
    out.extend_from_slice(&content);
    Ok(out)
}

/// The manifest of the package in `bytes`, if it is one, its signature and
/// digest checked. `Ok(None)` for a plain component; `Err` for a package
/// that does not hold (tampered, truncated, signed by nobody it names).
pub fn open(bytes: &[u8]) -> Result<Option<Manifest>, PackageError> {
    let (plain, section) = split(bytes)?;
    let Some(payload) = section else {
        return Ok(None);
    };
    let sealed: Sealed =
        serde_json::from_slice(payload).map_err(|e| PackageError::Unreadable(e.to_string()))?;
    let manifest: Manifest = serde_json::from_str(&sealed.manifest)
        .map_err(|e| PackageError::ManifestUnreadable(e.to_string()))?;
    let key = parse_public(&manifest.publisher)?;
    let signature = base64::engine::general_purpose::STANDARD
        .decode(&sealed.signature)
        .ok()
        .and_then(|b| <[u8; 64]>::try_from(b).ok())
        .map(|b| Signature::from_bytes(&b))
        .ok_or(PackageError::NotASignature)?;
    key.verify_strict(sealed.manifest.as_bytes(), &signature)
        .map_err(|_| PackageError::SignatureMismatch(manifest.publisher.clone()))?;
    let digest = hex::encode(sha2::Sha256::digest(plain));
    if digest != manifest.sha256 {
        return Err(PackageError::DigestMismatch {
            actual: digest,
            signed: manifest.sha256,
        });
    }
    Ok(Some(manifest))
}

/// Splits a component into its bytes before the package section and the
/// section's payload. The package section, if any, must be the last
/// section and the only one.
fn split(bytes: &[u8]) -> Result<(&[u8], Option<&[u8]>), PackageError> {
    if bytes.len() < 8 {
        return Err(PackageError::Malformed(
            "is too short to be a WebAssembly file",
        ));
    }
    let mut at = 8;
    let mut found: Option<(usize, &[u8])> = None;
    while at < bytes.len() {
        let start = at;
        let id = bytes[at];
        at += 1;
        let (size, used) = read_leb128(&bytes[at..])
            .ok_or(PackageError::Malformed("has a malformed section size"))?;
        at += used;
        let end = at
            .checked_add(size as usize)
            .filter(|&e| e <= bytes.len())
            .ok_or(PackageError::Malformed(
                "has a section that runs past the end of the file",
            ))?;
        if id == 0 {
            let content = &bytes[at..end];
            if let Some((len, used)) = read_leb128(content)
                && let Some(name) = content.get(used..used + len as usize)
                && name == SECTION.as_bytes()
            {
                if found.is_some() {
                    return Err(PackageError::Malformed("has two package sections"));
                }
                found = Some((start, &content[used + len as usize..]));
            }
        }
        if let Some((section_start, _)) = found
            && section_start != start
        {
            return Err(PackageError::Malformed(
                "has sections after its package section (the package section must be last)",
            ));
        }
        at = end;
    }
    Ok(match found {
        Some((start, payload)) => (&bytes[..start], Some(payload)),
        None => (bytes, None),
    })
}

fn leb128(mut n: u64, out: &mut Vec<u8>) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// A u32 in LEB128, as WebAssembly writes sizes: at most 5 bytes, the
/// last holding no bits past the 32nd (the same values wasmparser takes).
fn read_leb128(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut n = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(5) {
        if i == 4 && b & 0xf0 != 0 {
            return None;
        }
        n |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((n, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest component: its header only.
    const EMPTY: &[u8] = b"\0asm\x0d\x00\x01\x00";

    fn manifest() -> Manifest {
        Manifest {
            name: "acme".into(),
            version: "1.0.0".into(),
            contract: "payhost:connector@0.3.0".into(),
            sha256: String::new(),
            hosts: vec![],
            secrets: vec![],
            config_keys: vec![],
            placements: vec![],
            section: String::new(),
            publisher: String::new(),
        }
    }

    #[test]
    fn a_signed_package_opens_and_any_change_is_refused() {
        let key = PublisherKey::generate().unwrap();
        let package = sign(EMPTY, manifest(), &key).unwrap();
        let opened = open(&package).unwrap().unwrap();
        assert_eq!(opened.publisher, key.public());
        assert_eq!(open(EMPTY).unwrap(), None);
        // Every single byte flipped is refused or changes nothing that
        // counts (a byte of the header keeps the digest: it is in it).
        for i in 0..package.len() {
            let mut bad = package.clone();
            bad[i] ^= 0x01;
            assert!(
                !matches!(open(&bad), Ok(Some(m)) if m == opened),
                "byte {i} changed unnoticed"
            );
        }
        // Another key cannot re-sign it as the first publisher.
        let key_file = key.to_file_text();
        assert_eq!(
            PublisherKey::from_file_text(&key_file).unwrap().public(),
            key.public()
        );
        assert!(sign(&package, manifest(), &key).is_err());
    }
}
