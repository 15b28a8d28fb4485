//! Byte sequences in which secrets and sealed values stand by reference.

use crate::bindings::payhost::connector::types::SecretRef;
use crate::{Encoding, Sealed};

/// One piece of a [`Parts`] sequence.
#[derive(Debug, Clone)]
pub enum Part {
    /// Bytes the connector provides.
    Literal(Vec<u8>),
    /// A secret the host substitutes.
    Secret(SecretRef),
    /// A sealed value the host substitutes.
    Sealed(SealedRef),
}

/// A sealed value where it stands in a [`Parts`] sequence.
#[derive(Debug, Clone)]
pub struct SealedRef {
    /// The value.
    pub value: Sealed,
    /// How the host writes it.
    pub encoding: Encoding,
}

/// Bytes assembled from literal pieces, secret references and sealed
/// values: a URL, a header value, a body, a hash input. Only the host ever
/// sees the secrets' and the sealed values' bytes.
#[derive(Debug, Clone, Default)]
pub struct Parts(pub(crate) Vec<Part>);

impl Parts {
    /// No bytes yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends literal text.
    pub fn text(mut self, text: impl AsRef<str>) -> Self {
        self.push_bytes(text.as_ref().as_bytes());
        self
    }

    /// Appends literal bytes.
    pub fn bytes(mut self, bytes: impl AsRef<[u8]>) -> Self {
        self.push_bytes(bytes.as_ref());
        self
    }

    /// Appends the secret `name`, written with `encoding`.
    pub fn secret(mut self, name: impl Into<String>, encoding: Encoding) -> Self {
        self.0.push(Part::Secret(SecretRef {
            name: name.into(),
            encoding,
        }));
        self
    }

    /// Appends a sealed value, written with `encoding`.
    pub fn sealed(mut self, value: &Sealed, encoding: Encoding) -> Self {
        self.0.push(Part::Sealed(SealedRef {
            value: value.clone(),
            encoding,
        }));
        self
    }

    /// Appends another sequence.
    pub fn append(mut self, other: Parts) -> Self {
        for part in other.0 {
            match part {
                Part::Literal(bytes) => self.push_bytes(&bytes),
                reference => self.0.push(reference),
            }
        }
        self
    }

    /// Whether nothing has been added.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The literal bytes, when the sequence holds no secret and no sealed
    /// value.
    pub fn as_literal(&self) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        for part in &self.0 {
            match part {
                Part::Literal(bytes) => out.extend_from_slice(bytes),
                Part::Secret(_) | Part::Sealed(_) => return None,
            }
        }
        Some(out)
    }

    /// The bytes as text, each secret and sealed value as `<hidden>`: for
    /// tests of what a body writer wrote.
    pub(crate) fn text_for_tests(&self) -> String {
        let mut out = String::new();
        for part in &self.0 {
            match part {
                Part::Literal(bytes) => out.push_str(&String::from_utf8_lossy(bytes)),
                Part::Secret(_) | Part::Sealed(_) => out.push_str("<hidden>"),
            }
        }
        out
    }

    /// Whether any literal piece contains `byte`.
    pub(crate) fn literal_contains(&self, byte: u8) -> bool {
        self.0
            .iter()
            .any(|part| matches!(part, Part::Literal(bytes) if bytes.contains(&byte)))
    }

    /// The last literal byte, when the sequence ends with a literal piece.
    pub(crate) fn last_literal_byte(&self) -> Option<u8> {
        match self.0.last() {
            Some(Part::Literal(bytes)) => bytes.last().copied(),
            _ => None,
        }
    }

    fn push_bytes(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if let Some(Part::Literal(last)) = self.0.last_mut() {
            last.extend_from_slice(bytes);
        } else {
            self.0.push(Part::Literal(bytes.to_vec()));
        }
    }
}

/// Exact bytes, as they go on the wire (a body signed over its bytes).
impl From<Vec<u8>> for Parts {
    fn from(bytes: Vec<u8>) -> Self {
        Parts::new().bytes(bytes)
    }
}

/// Exact bytes, as they go on the wire.
impl From<&[u8]> for Parts {
    fn from(bytes: &[u8]) -> Self {
        Parts::new().bytes(bytes)
    }
}

impl From<&str> for Parts {
    fn from(text: &str) -> Self {
        Parts::new().text(text)
    }
}

impl From<String> for Parts {
    fn from(text: String) -> Self {
        Parts::new().text(text)
    }
}

impl From<&String> for Parts {
    fn from(text: &String) -> Self {
        Parts::new().text(text)
    }
}

/// The contract's parts, lowered for a call: sealed values lent by handle.
#[cfg(target_arch = "wasm32")]
pub(crate) mod lower {
    use super::Part;
    use crate::bindings::payhost::connector::types as wit;

    /// Lowers `parts` for a call, leaving them as they are.
    pub(crate) fn borrowed(parts: &[Part]) -> Vec<wit::Part<'_>> {
        parts
            .iter()
            .map(|part| match part {
                Part::Literal(bytes) => wit::Part::Literal(bytes.clone()),
                Part::Secret(secret) => wit::Part::Secret(secret.clone()),
                Part::Sealed(sealed) => wit::Part::Sealed(wit::SealedRef {
                    value: sealed.value.wit(),
                    encoding: sealed.encoding,
                }),
            })
            .collect()
    }

    /// Lowers `parts` for a call, moving the literal bytes out of them.
    pub(crate) fn taken(parts: &mut [Part]) -> Vec<wit::Part<'_>> {
        parts
            .iter_mut()
            .map(|part| match part {
                Part::Literal(bytes) => wit::Part::Literal(std::mem::take(bytes)),
                Part::Secret(secret) => wit::Part::Secret(secret.clone()),
                Part::Sealed(sealed) => wit::Part::Sealed(wit::SealedRef {
                    value: sealed.value.wit(),
                    encoding: sealed.encoding,
                }),
            })
            .collect()
    }
}
