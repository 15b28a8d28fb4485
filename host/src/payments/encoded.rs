//! Text written in Base64 (either alphabet), hex or `%XX` escapes: its
//! runs found and decoded, for the masker (card data written encoded) and
//! the scrubber (a hidden value echoed encoded) alike.

use std::ops::Range;

/// A character of the standard or the URL-safe Base64 alphabet (padding
/// aside).
pub(crate) fn base64_char(b: u8) -> bool {
    SEXTETS[usize::from(b)] != NOT_BASE64
}

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

/// Each byte's six bits in either Base64 alphabet (`+` and `-` are 62,
/// `/` and `_` are 63, as the decoder reads a run of either), or
/// [`NOT_BASE64`]: what the decoder and the cores (`payments::cores`) read.
pub(crate) const SEXTETS: [u8; 256] = {
    let mut table = [NOT_BASE64; 256];
    let mut i = 0u8;
    while i < 26 {
        table[(b'A' + i) as usize] = i;
        table[(b'a' + i) as usize] = 26 + i;
        i += 1;
    }
    let mut d = 0u8;
    while d < 10 {
        table[(b'0' + d) as usize] = 52 + d;
        d += 1;
    }
    table[b'+' as usize] = 62;
    table[b'-' as usize] = 62;
    table[b'/' as usize] = 63;
    table[b'_' as usize] = 63;
    table
};

/// What [`SEXTETS`] gives a byte of neither alphabet.
pub(crate) const NOT_BASE64: u8 = 0xff;

/// Base64 characters (without padding, in either alphabet or both mixed)
/// decoded, as far as they go (a run whose length leaves one character
/// over drops it, and the last character's spare bits are dropped), into
/// `out` (cleared first): `false` if a byte is not a Base64 character.
/// The same bytes `base64`'s decoder gives for the run in one alphabet,
/// in one table walk: runs are short (an identifier, a signature), and
/// its set-up for each (the output's estimate and zeroing, its chunked
/// loop and its suffix) cost several times the decoding itself.
pub(crate) fn decode_base64_into(chars: &[u8], out: &mut Vec<u8>) -> bool {
    out.clear();
    let whole = &chars[..chars.len() - usize::from(chars.len() % 4 == 1)];
    out.reserve(whole.len() / 4 * 3 + 2);
    let sextet = |b: u8| u32::from(SEXTETS[usize::from(b)]);
    let mut quads = whole.chunks_exact(4);
    for quad in &mut quads {
        let (a, b, c, d) = (
            sextet(quad[0]),
            sextet(quad[1]),
            sextet(quad[2]),
            sextet(quad[3]),
        );
        if (a | b | c | d) > 63 {
            return false;
        }
        let n = a << 18 | b << 12 | c << 6 | d;
        out.extend_from_slice(&n.to_be_bytes()[1..]);
    }
    let rest = quads.remainder();
    let mut n = 0u32;
    for &b in rest {
        let s = sextet(b);
        if s > 63 {
            return false;
        }
        n = n << 6 | s;
    }
    match rest.len() {
        2 => out.push((n >> 4) as u8),
        3 => out.extend_from_slice(&(n >> 2).to_be_bytes()[2..]),
        _ => {}
    }
    true
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
    use base64::Engine as _;
    use base64::alphabet;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    use rand::rngs::StdRng;
    use rand::{RngExt as _, SeedableRng as _};

    /// `base64`'s decoder as the masker and the scrubber used it: no padding
    /// (runs come without theirs), whatever bits the last character carries.
    const REFERENCE: GeneralPurpose = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::RequireNone),
    );

    /// The same, for the URL-safe alphabet.
    const REFERENCE_URL: GeneralPurpose = GeneralPurpose::new(
        &alphabet::URL_SAFE,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::RequireNone),
    );

    /// The table walk decodes every run as `base64` decodes it: each
    /// length, each alphabet and both mixed (read as the standard one),
    /// every character in every place; a byte of neither alphabet is
    /// refused.
    #[test]
    fn base64_runs_decode_as_the_reference_decoder_decodes_them() {
        let alphabet: Vec<u8> = (0..=255u8).filter(|&b| base64_char(b)).collect();
        assert_eq!(alphabet.len(), 66, "64 characters and the URL-safe two");
        let mut rng = StdRng::seed_from_u64(0x2545_f491_4f6c_dd1d);
        let mut next = |bound: usize| rng.random_range(0..bound);
        let mut out = Vec::new();
        for round in 0..20_000 {
            let len = round % 70;
            let run: Vec<u8> = (0..len).map(|_| alphabet[next(alphabet.len())]).collect();
            let whole = &run[..len - usize::from(len % 4 == 1)];
            let standard: Vec<u8> = whole
                .iter()
                .map(|&b| match b {
                    b'-' => b'+',
                    b'_' => b'/',
                    b => b,
                })
                .collect();
            let expected = REFERENCE.decode(&standard).expect("a run decodes");
            if !whole.iter().any(|&b| b == b'+' || b == b'/') {
                assert_eq!(REFERENCE_URL.decode(whole).ok().as_ref(), Some(&expected));
            }
            assert!(decode_base64_into(&run, &mut out));
            assert_eq!(out, expected, "{}", String::from_utf8_lossy(&run));
        }
        for bad in [&b"abc="[..], b"ab cd", b"abcd\xffxyz", b"\0bcdefgh"] {
            assert!(!decode_base64_into(bad, &mut out), "{bad:?}");
        }
    }

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
        let mut rng = StdRng::seed_from_u64(0x9e37_79b9_7f4a_7c15);
        let mut next = |bound: usize| rng.random_range(0..bound);
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
