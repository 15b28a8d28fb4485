//! What a crypto function computed: bytes, or a sealed value (the type
//! [`crate::crypto`] answers and the backends make).

use crate::Sealed;

/// What a crypto function computed.
#[derive(Debug, Clone)]
pub enum Output {
    /// Computed from literal inputs only: the bytes.
    Bytes(Vec<u8>),
    /// Computed from a secret or a sealed value: a handle to place or to
    /// feed to further crypto.
    Sealed(Sealed),
}

impl Output {
    /// The bytes, when every input was literal.
    pub fn bytes(self) -> Option<Vec<u8>> {
        match self {
            Output::Bytes(bytes) => Some(bytes),
            Output::Sealed(_) => None,
        }
    }

    /// The sealed value, when an input was a secret or a sealed value.
    pub fn sealed(self) -> Option<Sealed> {
        match self {
            Output::Sealed(sealed) => Some(sealed),
            Output::Bytes(_) => None,
        }
    }

    /// Whether the output is sealed.
    pub fn is_sealed(&self) -> bool {
        matches!(self, Output::Sealed(_))
    }
}
