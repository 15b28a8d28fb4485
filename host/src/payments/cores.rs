//! Which encoded runs of a text may decode to bytes holding one of a few
//! short byte strings (the windows an answer's scrubber looks for, its
//! prefilter's prefixes, the CVVs a masker knows), told without decoding
//! them.
//!
//! Bytes written in Base64 at one of the three offsets a byte may have in
//! a group show, wherever they stand in a run, the same characters for
//! every bit they alone determine: their *core* at that offset. Hex shows
//! each byte as its two digits, in either case. So a run one of whose
//! decodings holds a string shows one of its cores (Base64 in either
//! alphabet, compared as one; hex without case) among its characters, and
//! a run that shows none is not decoded at all. A core is matched by its
//! first four characters; a string whose core at some offset is shorter
//! than two characters (one byte) makes every run a candidate.

use crate::payments::encoded;

/// How many characters of a core are compared.
const COMPARED: usize = 4;

/// The cores of some byte strings, in Base64 and in hex.
#[derive(Clone, Default)]
pub(crate) struct Cores {
    base64: Symbols,
    hex: Symbols,
    /// A string too short to have a core of two characters at every
    /// offset: every Base64 run may hold it.
    every_base64_run: bool,
    /// Every hex run may hold one (see [`Cores::all`]).
    every_hex_run: bool,
}

/// Opaque: a CVV's cores are bits of the CVV.
impl std::fmt::Debug for Cores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cores").finish_non_exhaustive()
    }
}

/// How an encoded run is written.
#[derive(Clone, Copy)]
pub(crate) enum Run {
    /// Base64, in either alphabet.
    Base64,
    /// Hex digits, in either case.
    Hex,
}

impl Cores {
    /// Cores every run shows: for a set holding a one-byte string (a
    /// prefilter with a one-byte prefix), which any run may hold.
    pub(crate) fn all() -> Cores {
        Cores {
            every_base64_run: true,
            every_hex_run: true,
            ..Cores::default()
        }
    }

    /// The cores of `strings`, each found once however often it is given.
    pub(crate) fn of<'a>(strings: impl IntoIterator<Item = &'a [u8]>) -> Cores {
        let mut strings: Vec<&[u8]> = strings.into_iter().collect();
        strings.sort_unstable();
        strings.dedup();
        Cores::of_distinct(strings.into_iter())
    }

    /// The cores of `strings`, given once each (one given twice costs
    /// only a second key to compare).
    pub(crate) fn of_distinct<'a>(strings: impl ExactSizeIterator<Item = &'a [u8]>) -> Cores {
        let mut cores = Cores::default();
        cores.base64.keys.reserve(3 * strings.len());
        cores.hex.keys.reserve(strings.len());
        for string in strings {
            cores.add(string);
        }
        cores
    }

    /// Adds the cores of `bytes` (nothing for an empty one).
    pub(crate) fn add(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        for offset in 0..3 {
            let (symbols, n) = base64_core(bytes, offset);
            if n < 2 {
                self.every_base64_run = true;
            } else {
                self.base64.push(&symbols[..n]);
            }
        }
        let mut symbols = [0; COMPARED];
        let mut n = 0;
        for &b in bytes.iter().take(COMPARED / 2) {
            symbols[n] = b >> 4;
            symbols[n + 1] = b & 15;
            n += 2;
        }
        self.hex.push(&symbols[..n]);
    }

    /// Whether some decoding of `run`, written as `written`, may hold one
    /// of the strings.
    pub(crate) fn shown_in(&self, run: &[u8], written: Run) -> bool {
        match written {
            Run::Base64 => self.base64(run),
            Run::Hex => self.hex(run),
        }
    }

    /// Whether some decoding of `run` (Base64 characters of either
    /// alphabet) may hold one of the strings.
    pub(crate) fn base64(&self, run: &[u8]) -> bool {
        self.every_base64_run || self.base64.hit(run, &BASE64_SYMBOLS)
    }

    /// Whether some decoding of `run` (hex digits, either case) may hold
    /// one of the strings.
    pub(crate) fn hex(&self, run: &[u8]) -> bool {
        self.every_hex_run || self.hex.hit(run, &HEX_SYMBOLS)
    }
}

/// The first [`COMPARED`] characters (as 6-bit symbols) that `bytes`
/// alone determine when written in Base64 starting at byte `offset` of a
/// group, and how many there are (up to [`COMPARED`]).
fn base64_core(bytes: &[u8], offset: usize) -> ([u8; COMPARED], usize) {
    // The offset's zero bytes and enough of `bytes` for the characters
    // compared, big-endian in one word: bit `k` of the group's bits is bit
    // `63 - k` of the word.
    let mut word = 0u64;
    for (i, &b) in bytes.iter().take(8 - offset).enumerate() {
        word |= u64::from(b) << (56 - 8 * (offset + i));
    }
    let end_bit = 8 * (offset + bytes.len());
    let mut out = [0; COMPARED];
    let mut n = 0;
    // The characters wholly inside the bytes' bits.
    let mut c = (8 * offset).div_ceil(6);
    while 6 * c + 6 <= end_bit && n < COMPARED {
        out[n] = ((word >> (58 - 6 * c)) & 63) as u8;
        n += 1;
        c += 1;
    }
    (out, n)
}

/// Cores as symbols: a 4096-bit table of their first two symbols, and
/// their first [`COMPARED`] symbols packed six bits each.
#[derive(Clone)]
struct Symbols {
    table: [u64; 64],
    keys: Vec<(u16, u32, u8)>,
}

impl Default for Symbols {
    fn default() -> Self {
        Symbols {
            table: [0; 64],
            keys: Vec::new(),
        }
    }
}

/// A symbol for every byte: its value, or `NONE`.
type SymbolMap = [u8; 256];

const NONE: u8 = encoded::NOT_BASE64;

/// Base64 characters of both alphabets as their 6-bit values, as the
/// decoder reads them.
const BASE64_SYMBOLS: SymbolMap = encoded::SEXTETS;

/// Hex digits of either case as their values.
const HEX_SYMBOLS: SymbolMap = {
    let mut map = [NONE; 256];
    let mut d = 0;
    while d < 10 {
        map[b'0' as usize + d] = d as u8;
        d += 1;
    }
    let mut i = 0;
    while i < 6 {
        map[b'a' as usize + i] = 10 + i as u8;
        map[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    map
};

/// The symbols of `text` from `at`, packed, and how many there are (up to
/// [`COMPARED`]; fewer where the text ends or leaves the alphabet).
fn packed(text: &[u8], at: usize, map: &SymbolMap) -> (u32, usize) {
    let mut word = 0;
    let mut n = 0;
    for &b in text[at..].iter().take(COMPARED) {
        let s = map[usize::from(b)];
        if s == NONE {
            break;
        }
        word |= u32::from(s) << (6 * n);
        n += 1;
    }
    (word, n)
}

impl Symbols {
    /// Adds a core of two symbols or more.
    fn push(&mut self, symbols: &[u8]) {
        let pair = u16::from(symbols[0]) << 6 | u16::from(symbols[1]);
        self.table[usize::from(pair >> 6)] |= 1 << (pair & 63);
        let word = symbols
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &s)| acc | u32::from(s) << (6 * i));
        // A core given twice is compared twice on a hit (rare in an honest
        // answer), which costs less than looking for it on every push.
        self.keys.push((pair, word, symbols.len() as u8));
    }

    /// Whether a core stands anywhere in `text`, read through `map`.
    fn hit(&self, text: &[u8], map: &SymbolMap) -> bool {
        if self.keys.is_empty() {
            return false;
        }
        for (i, pair) in text.windows(2).enumerate() {
            let (a, b) = (map[usize::from(pair[0])], map[usize::from(pair[1])]);
            if a == NONE || b == NONE {
                continue;
            }
            let bit = u16::from(a) << 6 | u16::from(b);
            if self.table[usize::from(bit >> 6)] & (1 << (bit & 63)) == 0 {
                continue;
            }
            let (word, avail) = packed(text, i, map);
            if self.keys.iter().any(|&(p, k, n)| {
                let n = usize::from(n);
                p == bit && n <= avail && word & ((1 << (6 * n)) - 1) == k
            }) {
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payments::encoded::decode_base64_into;
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};

    fn holds(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    /// Every way `needle` can stand in Base64 or hex text: after 0 to 5
    /// bytes of something else, before 0 to 5 more, in both alphabets and
    /// mixed case, and the run cut at each of its first four characters:
    /// wherever a decoding holds it (as the scrubber decodes, at each
    /// alignment), a core is found.
    #[test]
    fn every_run_whose_decoding_holds_a_string_shows_a_core() {
        let mut buffer = Vec::new();
        for needle in [
            &b"4532015112830366"[..],
            b"123",
            b"\"123\"",
            b"s3cr3t/Key",
            b"\xff\x00\xfe",
            b"\xfb\xff",
            b"ab",
        ] {
            let mut cores = Cores::default();
            cores.add(needle);
            for before in 0..6 {
                for after in 0..6 {
                    let mut bytes: Vec<u8> = (0..before).map(|i| 0x5a ^ i as u8).collect();
                    bytes.extend_from_slice(needle);
                    bytes.extend((0..after).map(|i| 0xa5 ^ i as u8));
                    let standard = STANDARD_NO_PAD.encode(&bytes);
                    // Both alphabets in one run, as the decoder reads them.
                    let mixed: String = standard
                        .chars()
                        .enumerate()
                        .map(|(i, c)| match c {
                            '+' if i % 2 == 0 => '-',
                            '/' if i % 2 == 0 => '_',
                            c => c,
                        })
                        .collect();
                    for text in [standard, URL_SAFE_NO_PAD.encode(&bytes), mixed] {
                        for cut in 0..4.min(text.len()) {
                            let run = &text.as_bytes()[cut..];
                            let held = (0..=3.min(run.len())).any(|skip| {
                                decode_base64_into(&run[skip..], &mut buffer)
                                    && holds(&buffer, needle)
                            });
                            assert!(held || cut > 0, "{needle:?} not held in {text}");
                            assert!(
                                !held || cores.base64(run),
                                "{needle:?} after {before} bytes in {text} cut at {cut}"
                            );
                        }
                    }
                    let hex: Vec<u8> = hex::encode(&bytes)
                        .bytes()
                        .enumerate()
                        .map(|(i, b)| {
                            if i % 3 == 0 {
                                b.to_ascii_uppercase()
                            } else {
                                b
                            }
                        })
                        .collect();
                    for cut in 0..2 {
                        let run = &hex[cut..];
                        let held = (0..=1).any(|skip| {
                            hex::decode(&run[skip..][..(run.len() - skip) & !1])
                                .is_ok_and(|b| holds(&b, needle))
                        });
                        assert!(held || cut > 0);
                        assert!(!held || cores.hex(run), "{needle:?} in {:?}", run);
                    }
                }
            }
        }
    }

    #[test]
    fn a_run_that_holds_none_is_told_apart() {
        let mut cores = Cores::default();
        cores.add(b"4532015112830366");
        let other = STANDARD_NO_PAD.encode(b"{\"status\":\"OK\",\"order\":\"ATL-1\"}");
        assert!(!cores.base64(other.as_bytes()));
        assert!(!cores.hex(hex::encode(b"another thing entirely").as_bytes()));
        // A one-byte string has no core at every offset: every run may
        // hold it.
        let mut one = Cores::default();
        one.add(b"x");
        assert!(one.base64(other.as_bytes()));
        assert!(Cores::all().base64(other.as_bytes()) && Cores::all().hex(b"0a1b2c"));
    }
}
