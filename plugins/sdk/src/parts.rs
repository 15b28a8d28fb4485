//! Byte sequences in which secrets stand by reference.

use crate::bindings::payhost::connector::types::{Part, SecretEncoding, SecretRef};

/// Bytes assembled from literal pieces and secret references: a header
/// value, a body, a hash input. Only the host ever sees the secrets' values.
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
    pub fn secret(mut self, name: impl Into<String>, encoding: SecretEncoding) -> Self {
        self.0.push(Part::Secret(SecretRef {
            name: name.into(),
            encoding,
        }));
        self
    }

    /// Appends another sequence.
    pub fn append(mut self, other: Parts) -> Self {
        for part in other.0 {
            match part {
                Part::Literal(bytes) => self.push_bytes(&bytes),
                secret => self.0.push(secret),
            }
        }
        self
    }

    /// Whether nothing has been added.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The literal bytes, when the sequence holds no secret.
    pub fn as_literal(&self) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        for part in &self.0 {
            match part {
                Part::Literal(bytes) => out.extend_from_slice(bytes),
                Part::Secret(_) => return None,
            }
        }
        Some(out)
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
