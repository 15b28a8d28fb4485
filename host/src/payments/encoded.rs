//! Text written in Base64 (either alphabet), hex or `%XX` escapes: its
//! runs found and decoded, for the masker (card data written encoded) and
//! the scrubber (a hidden value echoed encoded) alike.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use std::ops::Range;

/// Base64 in either alphabet, padded or not, and with whatever bits the
/// last character carries: a masker decodes what it finds, it does not
/// validate it. Runs reach it without their padding.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone),
);

/// The same, for the URL-safe alphabet.
const BASE64_URL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone),
);

/// A character of the standard or the URL-safe Base64 alphabet (padding
/// aside).
pub(crate) fn base64_char(b: u8) -> bool {
    BASE64_CHARS[usize::from(b)]
}

/// Which bytes [`base64_char`] takes, by table: runs are scanned a byte at
/// a time.
const BASE64_CHARS: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'-' | b'_');
        b += 1;
    }
    table
};

/// Whether a `%XX` escape starts at `i`.
fn escape_at(bytes: &[u8], i: usize) -> bool {
    bytes.get(i) == Some(&b'%')
        && bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
        && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
}

/// The maximal runs of bytes of `class` at least `min` long, found without
/// reading every byte. Such a run covers every `min`th byte, so only those
/// are looked at first, and the bytes around one only where it is of
/// `class` (in a text of short words, about a quarter of the bytes for
/// `min` = 16).
pub(crate) fn long_runs<'a>(
    bytes: &'a [u8],
    class: impl Fn(u8) -> bool + Copy + 'a,
    min: usize,
) -> impl Iterator<Item = Range<usize>> + 'a {
    let min = min.max(1);
    // No run `min` long starts before `from`: it is 0, or just after a
    // byte not of `class`.
    let mut from = 0usize;
    std::iter::from_fn(move || {
        loop {
            let probe = from.checked_add(min - 1)?;
            let &b = bytes.get(probe)?;
            if !class(b) {
                // A run `min` long starting in from..=probe would cover it.
                from = probe + 1;
                continue;
            }
            let start = bytes[from..probe]
                .iter()
                .rposition(|&b| !class(b))
                .map_or(from, |at| from + at + 1);
            let end = probe
                + bytes[probe..]
                    .iter()
                    .position(|&b| !class(b))
                    .unwrap_or(bytes.len() - probe);
            from = end + 1;
            if end - start >= min {
                return Some(start..end);
            }
        }
    })
}

/// The maximal runs of consecutive `%XX` escapes.
pub(crate) fn percent_runs(bytes: &[u8]) -> impl Iterator<Item = Range<usize>> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() && !escape_at(bytes, i) {
            // On to the next `%`.
            i = memchr::memchr(b'%', &bytes[i + 1..]).map_or(bytes.len(), |at| i + 1 + at);
        }
        let start = i;
        while escape_at(bytes, i) {
            i += 3;
        }
        (start < i).then_some(start..i)
    })
}

/// Base64 characters (without padding) decoded, as far as they go (a run
/// whose length leaves one character over drops it), into `out` (cleared
/// first), without allocating when `out` is large enough and the run keeps
/// to one alphabet: `false` if it does not decode.
pub(crate) fn decode_base64_into(chars: &[u8], out: &mut Vec<u8>) -> bool {
    out.clear();
    let whole = if chars.len() % 4 == 1 {
        &chars[..chars.len() - 1]
    } else {
        chars
    };
    let url = whole.iter().any(|&b| b == b'-' || b == b'_');
    let standard = whole.iter().any(|&b| b == b'+' || b == b'/');
    match (url, standard) {
        (true, true) => {
            // Both alphabets in one run: read as one.
            let mapped: Vec<u8> = whole
                .iter()
                .map(|&b| match b {
                    b'-' => b'+',
                    b'_' => b'/',
                    b => b,
                })
                .collect();
            BASE64.decode_vec(mapped, out).is_ok()
        }
        (true, false) => BASE64_URL.decode_vec(whole, out).is_ok(),
        _ => BASE64.decode_vec(whole, out).is_ok(),
    }
}

/// Hex characters decoded, as far as they go (an odd one at the end is
/// dropped).
pub(crate) fn decode_hex(chars: &[u8]) -> Option<Vec<u8>> {
    hex::decode(&chars[..chars.len() & !1]).ok()
}

/// A run of `%XX` escapes decoded.
pub(crate) fn decode_percent(escapes: &[u8]) -> Option<Vec<u8>> {
    let mut bytes = vec![0; escapes.len() / 3];
    for (byte, escape) in bytes.iter_mut().zip(escapes.chunks_exact(3)) {
        hex::decode_to_slice(&escape[1..], std::slice::from_mut(byte)).ok()?;
    }
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The maximal runs of `class` in `text`, one byte at a time.
    fn runs(text: &[u8], class: fn(u8) -> bool) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < text.len() {
            if class(text[i]) {
                let start = i;
                while i < text.len() && class(text[i]) {
                    i += 1;
                }
                out.push(start..i);
            } else {
                i += 1;
            }
        }
        out
    }

    /// `long_runs` finds exactly the maximal runs that are long enough, in
    /// texts of every mix of run and gap lengths.
    #[test]
    fn long_runs_are_the_runs_long_enough() {
        // A deterministic generator: runs and gaps of 0 to 40 bytes.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = |bound: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % bound) as usize
        };
        let hex: fn(u8) -> bool = |b| b.is_ascii_hexdigit();
        for _ in 0..2000 {
            let mut text = Vec::new();
            for _ in 0..next(12) {
                text.extend((0..next(41)).map(|i| b"aZ09+/-_"[i % 8]));
                text.extend((0..next(4)).map(|i| b" \"=%"[i % 4]));
            }
            for class in [base64_char, hex] {
                let all = runs(&text, class);
                for min in [0, 1, 2, 3, 4, 12, 16, 17, 40] {
                    let long: Vec<_> = all.iter().filter(|r| r.len() >= min).cloned().collect();
                    assert_eq!(
                        long_runs(&text, class, min).collect::<Vec<_>>(),
                        long,
                        "min {min}: {:?}",
                        String::from_utf8_lossy(&text)
                    );
                }
            }
        }
    }
}
