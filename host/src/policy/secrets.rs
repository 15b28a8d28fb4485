//! The operator's secrets: held by the host, never shown to a connector.

use crate::contract::types::{Part, SecretEncoding};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A secret value. `Debug` prints `Secret(<redacted>)`; there is no `Display`.
#[derive(Clone)]
pub struct Secret(Arc<[u8]>);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<Vec<u8>>) -> Self {
        Secret(Arc::from(value.into().into_boxed_slice()))
    }

    /// The value, for the capabilities that substitute it.
    pub(crate) fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Where the operator keeps a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// An environment variable of the host process.
    Env(String),
    /// A file holding only the value (one trailing newline is dropped).
    File(PathBuf),
}

impl SecretSource {
    /// Reads the value. `base` resolves a relative file path (the directory
    /// of `payhost.toml`).
    pub fn read(&self, base: &Path) -> Result<Secret, String> {
        match self {
            SecretSource::Env(name) => match std::env::var_os(name) {
                Some(value) if !value.is_empty() => Ok(Secret::new(value.into_encoded_bytes())),
                _ => Err(format!(
                    "environment variable {name} is not set: export it before starting payhost"
                )),
            },
            SecretSource::File(path) => {
                let path = base.join(path);
                let mut value = std::fs::read(&path)
                    .map_err(|e| format!("cannot read secret file {}: {e}", path.display()))?;
                if value.last() == Some(&b'\n') {
                    value.pop();
                    if value.last() == Some(&b'\r') {
                        value.pop();
                    }
                }
                if value.is_empty() {
                    return Err(format!("secret file {} is empty", path.display()));
                }
                Ok(Secret::new(value))
            }
        }
    }
}

/// Why parts could not be assembled. The text never holds a secret value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// The connector named a secret it was not granted.
    #[error(
        "secret `{0}` is not granted to this connector (it must be declared in info() and set by the operator)"
    )]
    NotGranted(String),
    /// The secret's bytes cannot be written in the asked encoding.
    #[error("secret `{0}` is not valid UTF-8 and cannot be written as JSON")]
    NotUtf8(String),
}

/// The secrets granted to one connector.
#[derive(Debug, Clone, Default)]
pub struct SecretStore {
    values: BTreeMap<String, Secret>,
}

impl SecretStore {
    /// A store holding `values`.
    pub fn new(values: BTreeMap<String, Secret>) -> Self {
        SecretStore { values }
    }

    fn get(&self, name: &str) -> Result<&Secret, SecretError> {
        self.values
            .get(name)
            .ok_or_else(|| SecretError::NotGranted(name.to_owned()))
    }

    /// Concatenates parts, substituting every secret in its encoding.
    pub(crate) fn assemble(&self, parts: &[Part]) -> Result<Vec<u8>, SecretError> {
        let mut out = Vec::new();
        for part in parts {
            match part {
                Part::Literal(bytes) => out.extend_from_slice(bytes),
                Part::Secret(reference) => {
                    let secret = self.get(&reference.name)?;
                    encode_into(
                        &mut out,
                        &reference.name,
                        secret.expose(),
                        reference.encoding,
                    )?;
                }
            }
        }
        Ok(out)
    }

    /// Whether any part is a secret reference.
    pub(crate) fn holds_secret(parts: &[Part]) -> bool {
        parts.iter().any(|p| matches!(p, Part::Secret(_)))
    }
}

fn encode_into(
    out: &mut Vec<u8>,
    name: &str,
    value: &[u8],
    encoding: SecretEncoding,
) -> Result<(), SecretError> {
    match encoding {
        SecretEncoding::Raw => out.extend_from_slice(value),
        SecretEncoding::JsonString => {
            let text =
                std::str::from_utf8(value).map_err(|_| SecretError::NotUtf8(name.to_owned()))?;
            // Serializing a &str cannot fail.
            out.extend_from_slice(serde_json::to_string(text).unwrap_or_default().as_bytes());
        }
        SecretEncoding::XmlText => {
            for &byte in value {
                match byte {
                    b'&' => out.extend_from_slice(b"&amp;"),
                    b'<' => out.extend_from_slice(b"&lt;"),
                    b'>' => out.extend_from_slice(b"&gt;"),
                    b'"' => out.extend_from_slice(b"&quot;"),
                    b'\'' => out.extend_from_slice(b"&apos;"),
                    other => out.push(other),
                }
            }
        }
        SecretEncoding::Url => {
            for piece in url::form_urlencoded::byte_serialize(value) {
                out.extend_from_slice(piece.as_bytes());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::types::SecretRef;

    fn store() -> SecretStore {
        SecretStore::new(BTreeMap::from([(
            "k".to_owned(),
            Secret::new("a\"b<&> c'"),
        )]))
    }

    fn secret(encoding: SecretEncoding) -> Vec<Part> {
        vec![Part::Secret(SecretRef {
            name: "k".into(),
            encoding,
        })]
    }

    #[test]
    fn encodings_escape_for_their_context() {
        let s = store();
        assert_eq!(
            s.assemble(&secret(SecretEncoding::Raw)).unwrap(),
            b"a\"b<&> c'"
        );
        assert_eq!(
            s.assemble(&secret(SecretEncoding::JsonString)).unwrap(),
            b"\"a\\\"b<&> c'\""
        );
        assert_eq!(
            s.assemble(&secret(SecretEncoding::XmlText)).unwrap(),
            b"a&quot;b&lt;&amp;&gt; c&apos;"
        );
        assert_eq!(
            s.assemble(&secret(SecretEncoding::Url)).unwrap(),
            b"a%22b%3C%26%3E+c%27"
        );
    }

    #[test]
    fn unknown_secret_is_refused_and_debug_hides_values() {
        let parts = vec![Part::Secret(SecretRef {
            name: "nope".into(),
            encoding: SecretEncoding::Raw,
        })];
        assert_eq!(
            store().assemble(&parts),
            Err(SecretError::NotGranted("nope".into()))
        );
        assert!(!format!("{:?}", store()).contains("a\"b"));
    }
}
