//! What a `sealed` handle stands for: bytes the connector may place or feed
//! to crypto but never read.

use std::fmt;

/// Where a sealed value came from, which decides how it may be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SealedKind {
    /// A card number or CVV: digits the host checked, safe as they are in
    /// any text.
    CardData,
    /// Computed by crypto from a secret or another sealed value: any bytes.
    Derived,
}

/// The value behind a connector's `sealed` handle. `Debug` prints nothing of
/// it; its bytes are wiped when it is dropped.
pub struct SealedValue {
    bytes: Vec<u8>,
    kind: SealedKind,
}

impl SealedValue {
    /// A card number or CVV.
    pub(crate) fn card_data(digits: &str) -> Self {
        SealedValue {
            bytes: digits.as_bytes().to_vec(),
            kind: SealedKind::CardData,
        }
    }

    /// A value crypto computed from a secret or a sealed input.
    pub(crate) fn derived(bytes: Vec<u8>) -> Self {
        SealedValue {
            bytes,
            kind: SealedKind::Derived,
        }
    }

    /// The bytes, for the host code that substitutes or hashes them.
    pub(crate) fn expose(&self) -> &[u8] {
        &self.bytes
    }

    /// Where it came from.
    pub(crate) fn kind(&self) -> SealedKind {
        self.kind
    }
}

impl fmt::Debug for SealedValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealedValue(<sealed>)")
    }
}

impl Drop for SealedValue {
    fn drop(&mut self) {
        // Best effort: the allocator may have copied it before.
        self.bytes.fill(0);
    }
}
