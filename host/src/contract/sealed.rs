//! What a `sealed` handle stands for: bytes the connector may place or feed
//! to crypto but never read.

use super::hidden::Hidden;
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
    bound: usize,
    name: Hidden,
}

/// The longest card number, and the bound of every card number handed to
/// a connector.
pub(crate) const CARD_NUMBER_BOUND: usize = 19;
/// The longest CVV.
pub(crate) const CVV_BOUND: usize = 4;

impl SealedValue {
    /// A card number or CVV (`name`), with the bound every such value has.
    pub(crate) fn card_data(digits: &str, bound: usize, name: Hidden) -> Self {
        SealedValue {
            bytes: digits.as_bytes().to_vec(),
            kind: SealedKind::CardData,
            bound: bound.max(digits.len()),
            name,
        }
    }

    /// A value crypto computed from a secret or a sealed input; `bound` is
    /// the most bytes it can have, computed from what the connector knows;
    /// `name` says what it derives from.
    pub(crate) fn derived(bytes: Vec<u8>, bound: usize, name: Hidden) -> Self {
        SealedValue {
            bound: bound.max(bytes.len()),
            bytes,
            kind: SealedKind::Derived,
            name,
        }
    }

    /// What it is: a card field, or what it derives from.
    pub(crate) fn name(&self) -> &Hidden {
        &self.name
    }

    /// The most bytes this value can have, as the connector could compute
    /// it without knowing the value: what limits are checked against, so
    /// that no refusal depends on the value's real length.
    pub(crate) fn bound(&self) -> usize {
        self.bound
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
