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

/// The maximal runs of bytes of `class`.
pub(crate) fn runs<'a>(
    bytes: &'a [u8],
    class: impl Fn(u8) -> bool + Copy + 'a,
) -> impl Iterator<Item = Range<usize>> + 'a {
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() && !class(bytes[i]) {
            i += 1;
        }
        let start = i;
        while i < bytes.len() && class(bytes[i]) {
            i += 1;
        }
        (start < i).then_some(start..i)
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
