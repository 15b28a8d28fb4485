//! Answers scrubbed of what the host hid: before a connector reads an
//! answer, every hidden value the call put into a request (secrets, card
//! data, values crypto derived from them) is replaced by `[hidden]`
//! wherever it stands in the headers or the body, written raw, in hex of
//! either case, in Base64 (standard or URL-safe, with or without padding),
//! percent-, JSON- or XML-escaped; and inside any Base64 or hex run of the
//! answer that decodes to bytes holding one (a whole request echoed
//! encoded), the whole run is replaced.
//!
//! One multi-pattern searcher finds every form of every value in one pass:
//! for a connector's secrets, built once per load, aho-corasick's Teddy
//! (an NFA past a few dozen forms); for a call's own values (its card data
//! and what crypto computed), built per answer, a table of the forms'
//! first byte pairs ([`Pairs`]) where the answer is small, since
//! aho-corasick's builders take longer than scanning a few kilobytes. A
//! call's scrubber is not built at all for an answer in which a
//! [`Prefilter`] finds none of its forms' first bytes (plain, or in an
//! encoded run). Past a text's first [`DIRECT_CHARS`] characters of
//! encoded runs, a run is decoded only when it shows the characters some
//! decoding holding a form's window would show (its core, see [`Cores`]):
//! an honest answer's identifiers and digests are not decoded. A form is
//! matched by its first [`WINDOW`] bytes and then
//! compared in place with the form (a small value's written once, into one
//! buffer; a large one's on the fly from the value, so a value of megabytes
//! costs no more memory than the value itself), and an echo cut short is
//! replaced as far as it goes, from its first [`WINDOW`] bytes.
//!
//! A short value (under [`SHORT`] bytes: a CVV) is replaced only where it
//! stands as a whole quoted or delimited value (`"123"`, `>123<`, `=123&`,
//! their escaped forms, or a whole header value), the way it was placed: an
//! honest answer holding the same digits inside a longer value, or as a
//! bare number (`"status": 123`), is left as it is.

use crate::contract::hidden::Hidden;
use crate::payments::cores::{Cores, Run};
use crate::payments::encoded;
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind, packed};
use std::ops::Range;
use std::sync::OnceLock;

/// What replaces a hidden value in an answer.
pub(crate) const MARKER: &[u8] = b"[hidden]";
/// How many bytes of a form the searcher matches before the rest is
/// compared in place: also the shortest cut-short echo that is replaced (a
/// form no longer than this must match whole).
const WINDOW: usize = 12;
/// The longest value whose forms are kept whole (each at most 12 times
/// its size): a signature's, a card number's, a secret's. Longer ones are
/// written on the fly.
const KEPT_WHOLE: usize = 256;
/// Values shorter than this are matched only where they stand whole.
pub(crate) const SHORT: usize = 6;
/// Base64 or hex runs at least this long are decoded and searched (past
/// [`DIRECT_CHARS`], those that show a core).
const RUN: usize = 16;
/// How many characters of a text's encoded runs are decoded without
/// asking their cores first, where the cores are not found yet: decoding
/// a short run (a `application/json` header, a digest) at each alignment
/// costs less than finding a call's cores, which pays past a few dozen
/// characters.
const DIRECT_CHARS: usize = 64;
/// How many of a text's first encoded runs the prefilter remembers, so as
/// not to decode one again where it repeats: a bound on the comparisons
/// (each run against those before it) a text of many runs could make.
const REMEMBERED_RUNS: usize = 32;

/// One way a value may be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Raw,
    Hex {
        upper: bool,
    },
    Base64 {
        url: bool,
        pad: bool,
    },
    /// Base64 text with `/` escaped as JSON may (`\/`, as PHP writes it).
    Base64Json {
        url: bool,
        pad: bool,
    },
    /// Base64 text as a form value (`+`, `/`, `=` as `%2B`, `%2F`, `%3D`).
    Base64Form {
        url: bool,
        pad: bool,
    },
    /// JSON string content; `slash` escapes `/`, `ascii` writes every
    /// other character as `\uXXXX`.
    Json {
        slash: bool,
        ascii: bool,
    },
    /// XML character data: `full` escapes quotes too.
    Xml {
        full: bool,
    },
    /// A form value (`+` or `%20` for a space).
    Form {
        plus: bool,
    },
    /// Every byte as `%XX`.
    Percent {
        upper: bool,
    },
}

/// Every kind, in the order forms are tried.
const KINDS: [Kind; 24] = [
    Kind::Raw,
    Kind::Hex { upper: false },
    Kind::Hex { upper: true },
    Kind::Base64 {
        url: false,
        pad: true,
    },
    Kind::Base64 {
        url: false,
        pad: false,
    },
    Kind::Base64 {
        url: true,
        pad: true,
    },
    Kind::Base64 {
        url: true,
        pad: false,
    },
    Kind::Base64Json {
        url: false,
        pad: true,
    },
    Kind::Base64Json {
        url: false,
        pad: false,
    },
    Kind::Base64Json {
        url: true,
        pad: true,
    },
    Kind::Base64Json {
        url: true,
        pad: false,
    },
    Kind::Base64Form {
        url: false,
        pad: true,
    },
    Kind::Base64Form {
        url: false,
        pad: false,
    },
    Kind::Base64Form {
        url: true,
        pad: true,
    },
    Kind::Base64Form {
        url: true,
        pad: false,
    },
    Kind::Json {
        slash: false,
        ascii: false,
    },
    Kind::Json {
        slash: true,
        ascii: false,
    },
    Kind::Json {
        slash: false,
        ascii: true,
    },
    Kind::Xml { full: true },
    Kind::Xml { full: false },
    Kind::Form { plus: true },
    Kind::Form { plus: false },
    Kind::Percent { upper: true },
    Kind::Percent { upper: false },
];

/// The bytes one unit of a value (a byte, a Base64 group, a character)
/// is written as.
type Unit = ([u8; 12], usize);

fn unit(bytes: &[u8]) -> Unit {
    let mut out = [0; 12];
    out[..bytes.len()].copy_from_slice(bytes);
    (out, bytes.len())
}

const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";
const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// A standard Base64 group written in the URL-safe alphabet.
fn group_in_url_alphabet(mut group: Unit) -> Unit {
    for c in &mut group.0[..group.1] {
        *c = match *c {
            b'+' => b'-',
            b'/' => b'_',
            c => c,
        };
    }
    group
}

fn base64_group(group: &[u8], url: bool, pad: bool) -> Unit {
    let alphabet: &[u8; 64] = if url {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    } else {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    };
    let b = [
        group[0],
        group.get(1).copied().unwrap_or(0),
        group.get(2).copied().unwrap_or(0),
    ];
    let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
    let chars = [18, 12, 6, 0].map(|shift| alphabet[(n >> shift & 63) as usize]);
    let written = group.len() + 1;
    let mut out = unit(&chars);
    if pad {
        for c in &mut out.0[written..4] {
            *c = b'=';
        }
    } else {
        out.1 = written;
    }
    out
}

/// A unit of encoded text with some of its characters escaped.
fn escape_text(text: Unit, escape: impl Fn(u8) -> Option<&'static [u8]>) -> Unit {
    let mut out = ([0u8; 12], 0);
    for &c in &text.0[..text.1] {
        let bytes: &[u8] = match escape(c) {
            Some(escaped) => escaped,
            None => std::slice::from_ref(&c),
        };
        out.0[out.1..out.1 + bytes.len()].copy_from_slice(bytes);
        out.1 += bytes.len();
    }
    out
}

fn json_char(c: char, slash: bool, ascii: bool) -> Unit {
    match c {
        '"' => unit(b"\\\""),
        '\\' => unit(b"\\\\"),
        '\n' => unit(b"\\n"),
        '\r' => unit(b"\\r"),
        '\t' => unit(b"\\t"),
        '\u{8}' => unit(b"\\b"),
        '\u{c}' => unit(b"\\f"),
        '/' if slash => unit(b"\\/"),
        c if (c as u32) < 0x20 => {
            let b = c as usize;
            unit(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX_LOWER[b >> 4],
                HEX_LOWER[b & 15],
            ])
        }
        c if ascii && !c.is_ascii() => {
            let mut units = [0u16; 2];
            let mut out = ([0u8; 12], 0);
            for u in c.encode_utf16(&mut units) {
                let u = *u as usize;
                let escape = [
                    b'\\',
                    b'u',
                    HEX_LOWER[u >> 12 & 15],
                    HEX_LOWER[u >> 8 & 15],
                    HEX_LOWER[u >> 4 & 15],
                    HEX_LOWER[u & 15],
                ];
                out.0[out.1..out.1 + 6].copy_from_slice(&escape);
                out.1 += 6;
            }
            out
        }
        c => unit(c.encode_utf8(&mut [0; 4]).as_bytes()),
    }
}

fn xml_byte(b: u8, full: bool) -> Unit {
    match b {
        b'&' => unit(b"&amp;"),
        b'<' => unit(b"&lt;"),
        b'>' => unit(b"&gt;"),
        b'"' if full => unit(b"&quot;"),
        b'\'' if full => unit(b"&apos;"),
        b => unit(&[b]),
    }
}

/// A byte as a form value writes it: `+` (or `%20`) for a space.
fn form_byte(b: u8, plus: bool) -> Unit {
    match b {
        b' ' if plus => unit(b"+"),
        b'*' | b'-' | b'.' | b'_' => unit(&[b]),
        b if b.is_ascii_alphanumeric() => unit(&[b]),
        b => percent(b, true),
    }
}

fn percent(b: u8, upper: bool) -> Unit {
    let digits = if upper { HEX_UPPER } else { HEX_LOWER };
    unit(&[
        b'%',
        digits[usize::from(b >> 4)],
        digits[usize::from(b & 15)],
    ])
}

/// `value` written as `kind`, a unit at a time: what an echo is compared
/// with, without keeping the whole form.
fn units(kind: Kind, value: &[u8]) -> Box<dyn Iterator<Item = Unit> + '_> {
    match kind {
        Kind::Raw => Box::new(value.iter().map(|b| unit(std::slice::from_ref(b)))),
        Kind::Hex { upper } => {
            let digits = if upper { HEX_UPPER } else { HEX_LOWER };
            Box::new(
                value.iter().map(move |&b| {
                    unit(&[digits[usize::from(b >> 4)], digits[usize::from(b & 15)]])
                }),
            )
        }
        Kind::Base64 { url, pad } => {
            Box::new(value.chunks(3).map(move |g| base64_group(g, url, pad)))
        }
        Kind::Base64Json { url, pad } => Box::new(value.chunks(3).map(move |g| {
            escape_text(base64_group(g, url, pad), |c| match c {
                b'/' => Some(br"\/"),
                _ => None,
            })
        })),
        Kind::Base64Form { url, pad } => Box::new(value.chunks(3).map(move |g| {
            escape_text(base64_group(g, url, pad), |c| match c {
                b'+' => Some(b"%2B"),
                b'/' => Some(b"%2F"),
                b'=' => Some(b"%3D"),
                _ => None,
            })
        })),
        Kind::Json { slash, ascii } => Box::new(
            // As `String::from_utf8_lossy` reads it: each invalid sequence
            // is one U+FFFD.
            value
                .utf8_chunks()
                .flat_map(|chunk| {
                    chunk
                        .valid()
                        .chars()
                        .chain((!chunk.invalid().is_empty()).then_some('\u{fffd}'))
                })
                .map(move |c| json_char(c, slash, ascii)),
        ),
        Kind::Xml { full } => Box::new(value.iter().map(move |&b| xml_byte(b, full))),
        Kind::Form { plus } => Box::new(value.iter().map(move |&b| form_byte(b, plus))),
        Kind::Percent { upper } => Box::new(value.iter().map(move |&b| percent(b, upper))),
    }
}

/// `value` written as `kind`, appended to `out`: the escaping kinds byte
/// by byte (what [`units`] streams, without a unit at a time), the others
/// unit by unit.
fn write_escaped(kind: Kind, value: &[u8], out: &mut Vec<u8>) {
    // Room for the longest each kind writes a byte as, so that writing
    // never grows the buffer.
    let most = match kind {
        Kind::Json { .. } | Kind::Xml { .. } => 6,
        _ => 3,
    };
    out.reserve(value.len() * most);
    match kind {
        Kind::Xml { full } => {
            for &b in value {
                match b {
                    b'&' => out.extend_from_slice(b"&amp;"),
                    b'<' => out.extend_from_slice(b"&lt;"),
                    b'>' => out.extend_from_slice(b"&gt;"),
                    b'"' if full => out.extend_from_slice(b"&quot;"),
                    b'\'' if full => out.extend_from_slice(b"&apos;"),
                    b => out.push(b),
                }
            }
        }
        Kind::Form { plus } => {
            for &b in value {
                match b {
                    b' ' if plus => out.push(b'+'),
                    b'*' | b'-' | b'.' | b'_' => out.push(b),
                    b if b.is_ascii_alphanumeric() => out.push(b),
                    b => out.extend_from_slice(&[
                        b'%',
                        HEX_UPPER[usize::from(b >> 4)],
                        HEX_UPPER[usize::from(b & 15)],
                    ]),
                }
            }
        }
        Kind::Json { slash, ascii } => {
            for chunk in value.utf8_chunks() {
                let valid = chunk.valid();
                // Runs that need no escape are copied whole.
                let mut copied = 0;
                for (at, c) in valid.char_indices() {
                    let plain = !matches!(c, '"' | '\\')
                        && (c as u32) >= 0x20
                        && (!slash || c != '/')
                        && (!ascii || c.is_ascii());
                    if plain {
                        continue;
                    }
                    out.extend_from_slice(&valid.as_bytes()[copied..at]);
                    let (bytes, n) = json_char(c, slash, ascii);
                    out.extend_from_slice(&bytes[..n]);
                    copied = at + c.len_utf8();
                }
                out.extend_from_slice(&valid.as_bytes()[copied..]);
                if !chunk.invalid().is_empty() {
                    let (bytes, n) = json_char('\u{fffd}', slash, ascii);
                    out.extend_from_slice(&bytes[..n]);
                }
            }
        }
        _ => {
            for (bytes, n) in units(kind, value) {
                out.extend_from_slice(&bytes[..n]);
            }
        }
    }
}

/// Whether `kind` writes `value` exactly as `Raw` does (no byte of it is
/// one that kind escapes): then it is the same form.
fn same_as_raw(kind: Kind, value: &[u8]) -> bool {
    match kind {
        Kind::Json { slash, ascii } => {
            std::str::from_utf8(value).is_ok()
                && !value.iter().any(|&b| {
                    b == b'"'
                        || b == b'\\'
                        || b < 0x20
                        || (slash && b == b'/')
                        || (ascii && b >= 0x80)
                })
        }
        Kind::Xml { full } => !value
            .iter()
            .any(|&b| matches!(b, b'&' | b'<' | b'>') || (full && matches!(b, b'"' | b'\''))),
        Kind::Form { .. } => value
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_')),
        Kind::Raw => true,
        _ => false,
    }
}

/// Every form of a small value, whole, by kind, written one after another
/// into `arena` (one buffer for all of a scrubber's forms): the Base64
/// family through its crate, the rest byte by byte. A kind that would
/// write the value as an earlier kind already did (`Json` for a value
/// with nothing to escape, upper-case hex of digits only, …) is left out,
/// so each form is written once.
fn small_forms(value: &[u8], arena: &mut Vec<u8>) -> Vec<(Kind, Range<usize>)> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};
    let standard = STANDARD.encode(value);
    // Which variants differ from the plain one, for this value.
    let has = |text: &str, c: char| text.contains(c);
    let url_differs = has(&standard, '+') || has(&standard, '/');
    let url_safe = if url_differs {
        URL_SAFE.encode(value)
    } else {
        String::new()
    };
    let padded = has(&standard, '=');
    let hex_letters = value.iter().any(|&b| b >> 4 > 9 || b & 15 > 9);
    let base64 = |url: bool, pad: bool| {
        let text = if url { &url_safe } else { &standard };
        if pad {
            text.as_str()
        } else {
            text.trim_end_matches('=')
        }
    };
    let mut forms: Vec<(Kind, Range<usize>)> = Vec::with_capacity(KINDS.len());
    let mut keys: Vec<(usize, u64, u64)> = Vec::with_capacity(KINDS.len());
    for kind in KINDS {
        let skip = match kind {
            Kind::Raw => false,
            Kind::Hex { upper } | Kind::Percent { upper } => upper && !hex_letters,
            Kind::Base64 { url, pad } => (url && !url_differs) || (!pad && !padded),
            Kind::Base64Json { url, pad } => {
                (url && !url_differs) || (!pad && !padded) || !has(base64(url, pad), '/')
            }
            Kind::Base64Form { url, pad } => {
                let text = base64(url, pad);
                (url && !url_differs)
                    || (!pad && !padded)
                    || !(has(text, '+') || has(text, '/') || has(text, '='))
            }
            Kind::Json { .. } | Kind::Xml { .. } | Kind::Form { .. } => same_as_raw(kind, value),
        };
        if skip {
            continue;
        }
        let start = arena.len();
        match kind {
            Kind::Raw => arena.extend_from_slice(value),
            Kind::Hex { upper } | Kind::Percent { upper } => {
                let digits = if upper { HEX_UPPER } else { HEX_LOWER };
                let percent = matches!(kind, Kind::Percent { .. });
                arena.reserve(value.len() * 3);
                for &b in value {
                    if percent {
                        arena.push(b'%');
                    }
                    arena.extend_from_slice(&[
                        digits[usize::from(b >> 4)],
                        digits[usize::from(b & 15)],
                    ]);
                }
            }
            Kind::Base64 { url, pad } => arena.extend_from_slice(base64(url, pad).as_bytes()),
            Kind::Base64Json { url, pad } => {
                for &c in base64(url, pad).as_bytes() {
                    if c == b'/' {
                        arena.extend_from_slice(br"\/");
                    } else {
                        arena.push(c);
                    }
                }
            }
            Kind::Base64Form { url, pad } => {
                for &c in base64(url, pad).as_bytes() {
                    match c {
                        b'+' => arena.extend_from_slice(b"%2B"),
                        b'/' => arena.extend_from_slice(b"%2F"),
                        b'=' => arena.extend_from_slice(b"%3D"),
                        c => arena.push(c),
                    }
                }
            }
            _ => write_escaped(kind, value, arena),
        }
        let range = start..arena.len();
        // What the rules above let through twice (a JSON escape that
        // writes the value as XML's does) is still one form: compared by
        // length and ends first, whole only where those agree.
        let key = form_key(&arena[range.clone()]);
        let twice = forms
            .iter()
            .zip(&keys)
            .any(|((_, f), k)| *k == key && arena[f.clone()] == arena[range.clone()]);
        if twice {
            arena.truncate(start);
        } else {
            forms.push((kind, range));
            keys.push(key);
        }
    }
    forms
}

/// A form's length and its first and last eight bytes: forms that differ
/// there differ.
fn form_key(form: &[u8]) -> (usize, u64, u64) {
    let word = |bytes: &[u8]| {
        let mut w = [0u8; 8];
        w[..bytes.len()].copy_from_slice(bytes);
        u64::from_le_bytes(w)
    };
    let n = form.len();
    (
        n,
        word(&form[..n.min(8)]),
        word(&form[n.saturating_sub(8)..]),
    )
}

/// `value` written as `kind`, byte by byte.
fn stream(kind: Kind, value: &[u8]) -> impl Iterator<Item = u8> + '_ {
    units(kind, value).flat_map(|(bytes, n)| bytes.into_iter().take(n))
}

/// The first bytes (at most four) of `value` written as `kind`: what every
/// occurrence of that form begins with. Read from the value's first eight
/// bytes at most, which always hold whole the characters that write them.
fn prefix(kind: Kind, value: &[u8]) -> ([u8; 4], usize) {
    let head = &value[..value.len().min(8)];
    // The common kinds, directly.
    match kind {
        Kind::Raw => {
            let n = head.len().min(4);
            let mut out = [0u8; 4];
            out[..n].copy_from_slice(&head[..n]);
            return (out, n);
        }
        Kind::Hex { upper } if head.len() >= 2 => {
            let d = if upper { HEX_UPPER } else { HEX_LOWER };
            let [a, b] = [head[0], head[1]];
            return (
                [
                    d[usize::from(a >> 4)],
                    d[usize::from(a & 15)],
                    d[usize::from(b >> 4)],
                    d[usize::from(b & 15)],
                ],
                4,
            );
        }
        Kind::Percent { .. } if head.len() >= 2 => {
            let (upper, a) = (matches!(kind, Kind::Percent { upper: true }), head[0]);
            let d = if upper { HEX_UPPER } else { HEX_LOWER };
            return (
                [b'%', d[usize::from(a >> 4)], d[usize::from(a & 15)], b'%'],
                4,
            );
        }
        Kind::Base64 { url, pad } if head.len() >= 3 || pad => {
            let (g, n) = base64_group(&head[..head.len().min(3)], url, pad);
            return ([g[0], g[1], g[2], g[3]], n.min(4));
        }
        _ => {}
    }
    let mut out = ([0u8; 4], 0);
    // Appends a unit; false once four bytes are there.
    let mut push = |(bytes, n): Unit| {
        for &b in &bytes[..n] {
            if out.1 == 4 {
                return false;
            }
            out.0[out.1] = b;
            out.1 += 1;
        }
        out.1 < 4
    };
    match kind {
        Kind::Raw => {
            for b in head {
                if !push(unit(std::slice::from_ref(b))) {
                    break;
                }
            }
        }
        Kind::Hex { upper } | Kind::Percent { upper } => {
            let digits = if upper { HEX_UPPER } else { HEX_LOWER };
            for &b in head {
                let pair = [digits[usize::from(b >> 4)], digits[usize::from(b & 15)]];
                let unit = if matches!(kind, Kind::Percent { .. }) {
                    unit(&[b'%', pair[0], pair[1]])
                } else {
                    unit(&pair)
                };
                if !push(unit) {
                    break;
                }
            }
        }
        Kind::Base64 { .. } | Kind::Base64Json { .. } | Kind::Base64Form { .. } => {
            for group in head.chunks(3) {
                let written = match kind {
                    Kind::Base64 { url, pad } => base64_group(group, url, pad),
                    Kind::Base64Json { url, pad } => {
                        escape_text(base64_group(group, url, pad), |c| match c {
                            b'/' => Some(br"\/"),
                            _ => None,
                        })
                    }
                    Kind::Base64Form { url, pad } => {
                        escape_text(base64_group(group, url, pad), |c| match c {
                            b'+' => Some(b"%2B"),
                            b'/' => Some(b"%2F"),
                            b'=' => Some(b"%3D"),
                            _ => None,
                        })
                    }
                    _ => unreachable!("a Base64 kind"),
                };
                if !push(written) {
                    break;
                }
            }
        }
        // Escaping kinds: as the raw form where they write it so, else a
        // unit at a time, as `units` writes them.
        _ if same_as_raw(kind, head) => return prefix(Kind::Raw, head),
        Kind::Xml { full } => {
            for &b in head {
                if !push(xml_byte(b, full)) {
                    break;
                }
            }
        }
        Kind::Form { plus } => {
            for &b in head {
                if !push(form_byte(b, plus)) {
                    break;
                }
            }
        }
        Kind::Json { slash, ascii } => {
            'chunks: for chunk in head.utf8_chunks() {
                for c in chunk.valid().chars() {
                    if !push(json_char(c, slash, ascii)) {
                        break 'chunks;
                    }
                }
                if !chunk.invalid().is_empty() && !push(json_char('\u{fffd}', slash, ascii)) {
                    break;
                }
            }
        }
    }
    out
}

/// The prefix of every kind of form of `value` (as [`prefix`] gives each),
/// worked out once for the kinds that share one: the escaping kinds write
/// a value with nothing to escape in its first bytes as `Raw` does, and
/// every Base64 kind begins with the same first group unless it escapes a
/// character of it or the value is shorter than a group.
fn prefixes(value: &[u8], out: &mut Heads) {
    let head = &value[..value.len().min(8)];
    out.push(prefix(Kind::Raw, head));
    // Upper-case digits differ from lower-case ones only where a digit is
    // a letter.
    for (lower, upper) in [
        (Kind::Hex { upper: false }, Kind::Hex { upper: true }),
        (
            Kind::Percent { upper: false },
            Kind::Percent { upper: true },
        ),
    ] {
        let (lower, upper) = (prefix(lower, head), prefix(upper, head));
        out.push(lower);
        if upper != lower {
            out.push(upper);
        }
    }
    // The padded Base64 kinds' prefix is their first group (as `prefix`
    // gives it), written once for each alphabet.
    let group = base64_group(&head[..head.len().min(3)], false, true);
    let url_group = group_in_url_alphabet(group);
    let first_four = |(g, n): Unit| ([g[0], g[1], g[2], g[3]], n.min(4));
    out.push(first_four(group));
    if url_group != group {
        out.push(first_four(url_group));
    }
    let short = head.len() < 3;
    // A head of letters, digits and `*-._` (a card number, a CVV, most
    // keys) is written by every escaping kind as `Raw` writes it, and its
    // whole first group holds no `+` or `/` (no group of three such bytes
    // does), so every Base64 kind begins as the padded one: nothing more
    // to give.
    if !short
        && head
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_'))
    {
        return;
    }
    // A Base64 kind that escapes some characters writes its first group as
    // the plain kind does unless the group holds one of them.
    let holds = |url: bool, set: &[u8]| {
        let g = if url { url_group } else { group };
        short || g.0[..g.1].iter().any(|b| set.contains(b))
    };
    // What the escaping kinds would escape in these bytes, read once.
    let (mut quote, mut slash, mut wide, mut markup, mut apostrophe, mut reserved, mut space) =
        (false, false, false, false, false, false, false);
    for &b in head {
        space |= b == b' ';
        quote |= b == b'"' || b == b'\\' || b < 0x20;
        slash |= b == b'/';
        wide |= b >= 0x80;
        markup |= matches!(b, b'&' | b'<' | b'>');
        apostrophe |= b == b'"' || b == b'\'';
        reserved |= !(b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_'));
    }
    // Cut short, the head may end inside a character: then JSON's own
    // reading of it is asked for.
    let text = std::str::from_utf8(head).is_ok();
    // Each kind is worked out only where its prefix may differ from those
    // already given: a variant that escapes one more character (`/` in
    // JSON, a space as `+` in a form, non-ASCII as `\u`) differs from its
    // sibling only where that character is in the head.
    for kind in KINDS {
        let needed = match kind {
            Kind::Raw | Kind::Hex { .. } | Kind::Percent { .. } => false,
            Kind::Base64 { pad, .. } => !pad && short,
            // Of a whole first group, the padded and the unpadded kind
            // write the same first four bytes: the padded one is given.
            Kind::Base64Json { url, pad } => (pad || short) && holds(url, b"/"),
            Kind::Base64Form { url, pad } => (pad || short) && holds(url, b"+/="),
            Kind::Json { slash: true, .. } => slash,
            Kind::Json { ascii: true, .. } => wide,
            Kind::Json { .. } => !text || quote,
            Kind::Xml { full } => markup || (full && apostrophe),
            Kind::Form { plus: true } => reserved && space,
            Kind::Form { plus: false } => reserved,
        };
        if needed {
            out.push(prefix(kind, head));
        }
    }
}

/// Whether an answer may hold any of a call's values, told before the
/// call's scrubber is built: each form's first four bytes (or all of a
/// shorter one) are looked for in the text and in its encoded runs as the
/// scrubber decodes them (past a text's first [`DIRECT_CHARS`] characters
/// of runs, those that show one's core). Every match the scrubber makes begins
/// with one of those, so where none is found there is nothing to scrub
/// and the scrubber is not built; an honest answer costs this scan alone.
pub(crate) struct Prefilter {
    heads: Heads,
    /// The prefixes' cores (an encoded run that shows none is not
    /// decoded), found past a text's first [`DIRECT_CHARS`] characters of
    /// runs.
    cores: OnceLock<Cores>,
}

/// A call's form prefixes (at most four bytes each): a 4096-bit table of
/// their first byte pairs, and the prefixes themselves packed in one
/// vector. Built with one allocation, read a byte pair at a time.
struct Heads {
    table: PairTable,
    /// Each prefix of two bytes or more: its pair's bit, its bytes
    /// (little-endian), its length.
    keys: Vec<(u16, u32, u8)>,
}

/// What [`Heads`] and [`Pairs`] share: one bit of 4096 for each pair of
/// first bytes a window starts with, the first bytes themselves (most of a
/// text's bytes are none, and are passed with one lookup), and the bytes
/// one-byte windows are.
struct PairTable {
    bits: [u64; 64],
    first: [bool; 256],
    single: [bool; 256],
    any_single: bool,
}

impl PairTable {
    fn new() -> PairTable {
        PairTable {
            bits: [0; 64],
            first: [false; 256],
            single: [false; 256],
            any_single: false,
        }
    }

    /// Marks a window: its pair's bit, returned, for one of two bytes or
    /// more; its byte for a one-byte window.
    fn mark(&mut self, window: &[u8]) -> Option<u16> {
        match window {
            [] => None,
            [only] => {
                self.single[usize::from(*only)] = true;
                self.any_single = true;
                None
            }
            [first, second, ..] => {
                self.first[usize::from(*first)] = true;
                let bit = pair_bit(*first, *second);
                self.bits[usize::from(bit >> 6)] |= 1 << (bit & 63);
                Some(bit)
            }
        }
    }

    /// Whether a window starts with the pair of this bit.
    fn marked(&self, bit: u16) -> bool {
        self.bits[usize::from(bit >> 6)] & (1 << (bit & 63)) != 0
    }

    /// Whether a one-byte window is this byte.
    fn single(&self, byte: u8) -> bool {
        self.any_single && self.single[usize::from(byte)]
    }
}

/// The low `n` bytes of a little-endian word.
fn low_bytes(n: usize) -> u32 {
    if n >= 4 {
        u32::MAX
    } else {
        (1u32 << (8 * n)) - 1
    }
}

impl Heads {
    fn with_capacity(n: usize) -> Heads {
        Heads {
            table: PairTable::new(),
            keys: Vec::with_capacity(n),
        }
    }

    /// Adds a prefix. Kinds that share one give it twice: a second
    /// compare on a hit (rare in an honest answer) costs less than looking
    /// for it on every push.
    fn push(&mut self, (bytes, n): ([u8; 4], usize)) {
        if let Some(bit) = self.table.mark(&bytes[..n]) {
            self.keys
                .push((bit, u32::from_le_bytes(bytes) & low_bytes(n), n as u8));
        }
    }

    /// Whether this prefix is among them.
    #[cfg(test)]
    fn holds(&self, bytes: [u8; 4], n: usize) -> bool {
        match n {
            0 => true,
            1 => self.table.single(bytes[0]),
            _ => self.keys.contains(&(
                pair_bit(bytes[0], bytes[1]),
                u32::from_le_bytes(bytes) & low_bytes(n),
                n as u8,
            )),
        }
    }

    /// Whether a prefix stands anywhere in `text`.
    fn hit(&self, text: &[u8]) -> bool {
        if self.table.any_single && text.iter().any(|&b| self.table.single(b)) {
            return true;
        }
        let Some(last) = text.len().checked_sub(1) else {
            return false;
        };
        let first = &self.table.first;
        // Whether a prefix starts at `i` (a byte pair on, at most four).
        let at = |i: usize| {
            if !first[usize::from(text[i])] {
                return false;
            }
            let bit = pair_bit(text[i], text[i + 1]);
            if !self.table.marked(bit) {
                return false;
            }
            let avail = (text.len() - i).min(4);
            let mut word = [0u8; 4];
            word[..avail].copy_from_slice(&text[i..i + avail]);
            let word = u32::from_le_bytes(word);
            self.keys.iter().any(|&(b, k, n)| {
                b == bit && usize::from(n) <= avail && word & low_bytes(usize::from(n)) == k
            })
        };
        // Eight bytes to a branch: most of a text's bytes start no prefix,
        // and a block none of whose bytes does is passed at once.
        let mut blocks = text[..last].chunks_exact(8);
        let mut start = 0;
        for block in blocks.by_ref() {
            if block
                .iter()
                .fold(false, |any, &b| any | first[usize::from(b)])
                && (start..start + 8).any(at)
            {
                return true;
            }
            start += 8;
        }
        (start..last).any(at)
    }
}

impl Prefilter {
    /// The prefixes of every form of `values`.
    pub(crate) fn new(values: &[(Hidden, Vec<u8>)]) -> Self {
        let mut heads = Heads::with_capacity(values.len() * 24);
        for (_, value) in values.iter().filter(|(_, v)| !v.is_empty()) {
            prefixes(value, &mut heads);
        }
        Prefilter {
            heads,
            cores: OnceLock::new(),
        }
    }

    /// The prefilter of `values`, if an answer (its body and headers) may
    /// hold one of them: the call's scrubber is built only then.
    pub(crate) fn for_answer<'a>(
        values: &[(Hidden, Vec<u8>)],
        body: &[u8],
        mut headers: impl Iterator<Item = (&'a str, &'a [u8])>,
    ) -> Option<Prefilter> {
        let pre = Prefilter::new(values);
        let hit = pre.may_hold(body)
            || headers.any(|(n, v)| pre.may_hold(n.as_bytes()) || pre.may_hold(v));
        hit.then_some(pre)
    }

    /// The prefixes' cores.
    fn cores(&self) -> Cores {
        if self.heads.table.any_single {
            // A one-byte prefix: every run may hold it.
            return Cores::all();
        }
        // Kinds that share a prefix gave it twice: sorted as fixed-size
        // words, cheaper than as byte strings.
        let mut prefixes: Vec<([u8; 4], usize)> = self
            .heads
            .keys
            .iter()
            .map(|&(_, word, n)| (word.to_le_bytes(), usize::from(n)))
            .collect();
        prefixes.sort_unstable();
        prefixes.dedup();
        Cores::of_distinct(prefixes.iter().map(|(bytes, n)| &bytes[..*n]))
    }

    /// Whether `text`, or an encoded run of it decoded, holds a prefix.
    pub(crate) fn may_hold(&self, text: &[u8]) -> bool {
        let hit = |bytes: &[u8]| self.heads.hit(bytes);
        if hit(text) {
            return true;
        }
        let mut buffer = Vec::new();
        let mut direct = Direct::default();
        // Among a text's first [`REMEMBERED_RUNS`] runs, those asked
        // already, none holding a prefix: a text repeats its member names
        // (an array of records), and the same characters decode to the same
        // bytes. Past them every run is asked, so that a text of many
        // distinct runs costs no more than before.
        let mut asked: Vec<&[u8]> = Vec::new();
        for (n, run) in encoded::long_runs(text, encoded::base64_char, RUN).enumerate() {
            let chars = &text[run];
            if n < REMEMBERED_RUNS {
                if asked.contains(&chars) {
                    continue;
                }
                asked.push(chars);
            }
            let whole = direct.take(chars);
            let decodes = |written| decodes(&self.cores, || self.cores(), chars, written, whole);
            let base64 = decodes(Run::Base64)
                && (0..=3).any(|skip| {
                    encoded::decode_base64_into(&chars[skip..], &mut buffer) && hit(&buffer)
                });
            let hex = || {
                chars.iter().all(u8::is_ascii_hexdigit)
                    && decodes(Run::Hex)
                    && (0..=1).any(|skip| {
                        encoded::decode_hex(&chars[skip..]).is_some_and(|bytes| hit(&bytes))
                    })
            };
            if base64 || hex() {
                return true;
            }
        }
        encoded::percent_runs(text)
            .filter(|r| r.len() >= 12)
            .any(|run| encoded::decode_percent(&text[run]).is_some_and(|bytes| hit(&bytes)))
    }
}

/// How far `text` goes on as `value` written as `kind`, and whether it
/// holds that form whole.
fn matched(kind: Kind, value: &[u8], text: &[u8]) -> (usize, bool) {
    let mut form = stream(kind, value);
    let mut n = 0;
    for &t in text {
        match form.next() {
            Some(b) if b == t => n += 1,
            Some(_) => return (n, false),
            None => return (n, true),
        }
    }
    (n, form.next().is_none())
}

/// One written form of one value.
struct Form {
    value: usize,
    kind: Kind,
    /// Its first [`WINDOW`] bytes, which the searcher finds.
    window: ([u8; WINDOW], usize),
    /// Where the whole form is in the scrubber's arena, for a value of at
    /// most [`KEPT_WHOLE`] bytes; a longer value's form is written on the
    /// fly where it is compared.
    whole: Option<Range<usize>>,
    /// A short value's raw form: matched only where it stands whole.
    enclosed: bool,
    /// A short value's hex or Base64 form: matched only where no
    /// neighbouring character continues it.
    standalone: bool,
}

impl Form {
    /// Its first [`WINDOW`] bytes.
    fn window(&self) -> &[u8] {
        &self.window.0[..self.window.1]
    }
}

/// The first [`WINDOW`] bytes of `form`, kept inline.
fn head(form: &[u8]) -> ([u8; WINDOW], usize) {
    let n = form.len().min(WINDOW);
    let mut out = [0; WINDOW];
    out[..n].copy_from_slice(&form[..n]);
    (out, n)
}

/// The values one call must not hand back, ready to search for.
pub(crate) struct Scrubber {
    /// The fewest bytes a match can take: decoded text shorter than this
    /// holds no value.
    shortest: usize,
    /// Every small value's forms, one after another.
    arena: Vec<u8>,
    names: Vec<Hidden>,
    /// The values longer than [`KEPT_WHOLE`], compared on the fly (a
    /// small one's entry is empty: its forms are in the arena).
    values: Vec<Vec<u8>>,
    forms: Vec<Form>,
    search: Option<Search>,
    /// What an encoded run must show for a decoding of it to hold a
    /// window: found past a text's first [`DIRECT_CHARS`] characters of
    /// runs (at once for a connector's secrets), or given by
    /// the prefilter that found them already (its prefixes' cores serve:
    /// every window begins with one of its prefixes).
    cores: OnceLock<Cores>,
}

/// Finds where a window starts. For a long text (a connector's secrets,
/// built once per load, or a call's values against a large answer),
/// Teddy, a packed SIMD searcher built in microseconds that scans
/// gigabytes a second, or past a few dozen windows (or on a machine
/// without it) an aho-corasick NFA; for a call's values against a small
/// answer, [`Pairs`], built in a fraction of that.
enum Search {
    Packed(packed::Searcher),
    Nfa(AhoCorasick),
    Pairs(Box<Pairs>),
}

/// Up to this much text to scan, a call's searcher is [`Pairs`].
pub(crate) const SMALL_SCAN: usize = 64 * 1024;

impl Search {
    fn new(windows: &[&[u8]], small_scan: bool) -> Search {
        if small_scan {
            return Search::Pairs(Box::new(Pairs::new(windows)));
        }
        packed::Config::new()
            .match_kind(packed::MatchKind::LeftmostFirst)
            .builder()
            .extend(windows)
            .build()
            .map(Search::Packed)
            .unwrap_or_else(|| {
                Search::Nfa(
                    AhoCorasick::builder()
                        .match_kind(MatchKind::LeftmostFirst)
                        .kind(Some(AhoCorasickKind::NoncontiguousNFA))
                        .build(windows)
                        .expect("short patterns always build"),
                )
            })
    }

    /// Where the first window at or after `from` starts.
    fn next(&self, text: &[u8], from: usize) -> Option<usize> {
        let span = aho_corasick::Span::from(from..text.len());
        match self {
            Search::Packed(s) => s.find_in(text, span).map(|m| m.start()),
            Search::Nfa(a) => a
                .find(aho_corasick::Input::new(text).span(span))
                .map(|m| m.start()),
            Search::Pairs(p) => p.next(text, from),
        }
    }
}

/// A call's few windows, for a small answer: the first two bytes of each
/// window mark one bit of a 4096-bit table, and a position whose two bytes
/// hit a marked bit is compared with the windows there. aho-corasick's
/// builders take one to three microseconds for a call's dozen windows,
/// more than this whole scan of a few kilobytes; this one is built in
/// about a hundred nanoseconds and reads a byte a nanosecond.
struct Pairs {
    table: PairTable,
    /// Each window: its pair's bit (none for one byte), where its bytes
    /// are in `bytes`.
    windows: Vec<(Option<u16>, Range<usize>)>,
    bytes: Vec<u8>,
}

/// The bit of the table a pair of bytes marks.
fn pair_bit(first: u8, second: u8) -> u16 {
    ((u16::from(first) << 4) ^ u16::from(second)) & 0xfff
}

impl Pairs {
    fn new(windows: &[&[u8]]) -> Pairs {
        let mut pairs = Pairs {
            table: PairTable::new(),
            windows: Vec::with_capacity(windows.len()),
            bytes: Vec::with_capacity(windows.iter().map(|w| w.len()).sum()),
        };
        for window in windows.iter().filter(|w| !w.is_empty()) {
            let bit = pairs.table.mark(window);
            let start = pairs.bytes.len();
            pairs.bytes.extend_from_slice(window);
            pairs.windows.push((bit, start..pairs.bytes.len()));
        }
        pairs
    }

    /// Whether a window of the pair `bit` (or of one byte) starts `rest`.
    fn starts(&self, rest: &[u8], bit: Option<u16>) -> bool {
        // The windows of the pair, and the one-byte windows where `rest`
        // starts with one of their bytes.
        let single = self.table.single(rest[0]);
        self.windows
            .iter()
            .filter(|(b, _)| (bit.is_some() && *b == bit) || (single && b.is_none()))
            .any(|(_, range)| rest.starts_with(&self.bytes[range.clone()]))
    }

    /// Where the first window at or after `from` starts.
    fn next(&self, text: &[u8], from: usize) -> Option<usize> {
        let pairs_end = text.len().saturating_sub(1);
        for i in from..pairs_end {
            let bit = pair_bit(text[i], text[i + 1]);
            if (self.table.marked(bit) || self.table.single(text[i]))
                && self.starts(&text[i..], Some(bit))
            {
                return Some(i);
            }
        }
        // The last byte starts only a one-byte window.
        (from.max(pairs_end)..text.len())
            .find(|&i| self.table.single(text[i]) && self.starts(&text[i..], None))
    }
}

/// Where an answer echoed a hidden value: which, and where (never the value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Echo {
    pub(crate) name: Hidden,
    pub(crate) place: String,
}

impl std::fmt::Display for Echo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} in {}", self.name, self.place)
    }
}

/// The most distinct echoes a call notes; beyond them only a count, so
/// that an answer echoing many values in many headers cannot make the
/// host write an unbounded log line or journal detail.
const MAX_NOTED: usize = 16;

/// The echoes found: the first [`MAX_NOTED`] distinct ones, and how many
/// more were found after them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Echoes {
    noted: Vec<Echo>,
    more: usize,
}

impl Echoes {
    /// Notes `echo` (once), or counts it past the cap.
    pub(crate) fn add(&mut self, echo: Echo) {
        if self.noted.contains(&echo) {
            return;
        }
        if self.noted.len() < MAX_NOTED {
            self.noted.push(echo);
        } else {
            self.more = self.more.saturating_add(1);
        }
    }

    /// Notes every echo of `other`.
    pub(crate) fn extend(&mut self, other: Echoes) {
        for echo in other.noted {
            self.add(echo);
        }
        self.more = self.more.saturating_add(other.more);
    }

    /// How many echoes were found (noted and counted).
    pub(crate) fn len(&self) -> usize {
        self.noted.len() + self.more
    }

    /// Whether none was found.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl std::fmt::Display for Echoes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, echo) in self.noted.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{echo}")?;
        }
        if self.more > 0 {
            write!(f, " (and {} more)", self.more)?;
        }
        Ok(())
    }
}

/// What may stand right before a short value placed whole.
const OPENERS: [&[u8]; 17] = [
    b"\"", b"'", b">", b"=", b"&quot;", b"&apos;", b"&gt;", b"&#34;", b"&#39;", b"%22", b"%27",
    b"%3E", b"%3e", b"%3D", b"%3d", b"\\u0022", b"\\u0027",
];
/// What may stand right after it.
const CLOSERS: [&[u8]; 13] = [
    b"\"", b"'", b"<", b"&", b"\\\"", b"\\u0022", b"\\u0027", b"%22", b"%27", b"%3C", b"%3c",
    b"%26", b"\\'",
];

/// A Base64 character of either alphabet, or its padding.
fn base64_or_padding(b: u8) -> bool {
    encoded::base64_char(b) || b == b'='
}

impl Scrubber {
    /// A scrubber for `values` (each named), duplicates dropped, for texts
    /// of any size.
    pub(crate) fn new(values: &[(Hidden, Vec<u8>)]) -> Self {
        // Built once (a connector's secrets): its cores too.
        let scrubber = Self::sized(values, usize::MAX);
        let _ = scrubber.cores.set(scrubber.cores());
        scrubber
    }

    /// A scrubber for `values` that will scan about `scan` bytes: one
    /// built for a small answer is built faster and scans slower.
    pub(crate) fn sized(values: &[(Hidden, Vec<u8>)], scan: usize) -> Self {
        let mut names = Vec::new();
        let mut kept: Vec<Vec<u8>> = Vec::new();
        let mut forms: Vec<Form> = Vec::new();
        let mut arena = Vec::new();
        for (i, (name, value)) in values.iter().enumerate() {
            if value.is_empty() || values[..i].iter().any(|(_, v)| v == value) {
                continue;
            }
            let index = kept.len();
            let short = value.len() < SHORT;
            let first = forms.len();
            if value.len() <= KEPT_WHOLE {
                // Every form written once; kinds that write the value alike
                // are one form.
                for (kind, range) in small_forms(value, &mut arena) {
                    let whole = &arena[range.clone()];
                    let raw_like = short
                        && (kind == Kind::Raw || !whole.iter().all(|&b| base64_or_padding(b)));
                    forms.push(Form {
                        value: index,
                        kind,
                        window: head(whole),
                        whole: Some(range),
                        enclosed: short && raw_like,
                        standalone: short && !raw_like,
                    });
                }
            } else {
                for kind in KINDS {
                    let window = head(&stream(kind, value).take(WINDOW).collect::<Vec<u8>>());
                    // A kind that writes this value as another kind already
                    // did is the same form.
                    if forms[first..].iter().any(|f| {
                        f.window == window && stream(f.kind, value).eq(stream(kind, value))
                    }) {
                        continue;
                    }
                    forms.push(Form {
                        value: index,
                        kind,
                        window,
                        whole: None,
                        enclosed: false,
                        standalone: false,
                    });
                }
            }
            names.push(name.clone());
            kept.push(if value.len() > KEPT_WHOLE {
                value.clone()
            } else {
                Vec::new()
            });
        }
        // Forms of different kinds (or values) often share a window: it is
        // searched for once.
        let mut windows: Vec<&[u8]> = forms.iter().map(Form::window).collect();
        windows.sort_unstable();
        windows.dedup();
        let search = (!windows.is_empty()).then(|| Search::new(&windows, scan <= SMALL_SCAN));
        let shortest = forms
            .iter()
            .map(|f| f.whole.as_ref().map_or(WINDOW, |w| w.len().min(WINDOW)))
            .min()
            .unwrap_or(0);
        Scrubber {
            shortest,
            arena,
            names,
            values: kept,
            forms,
            search,
            cores: OnceLock::new(),
        }
    }

    /// The scrubber, with the cores of the prefilter that found its
    /// values may be in the answer, if that prefilter found them.
    pub(crate) fn with_cores_of(self, prefilter: Prefilter) -> Self {
        if let Some(cores) = prefilter.cores.into_inner() {
            let _ = self.cores.set(cores);
        }
        self
    }

    /// Whether an encoded run of a text is to be decoded (see
    /// [`decodes`]).
    fn decodes(&self, chars: &[u8], written: Run, direct: bool) -> bool {
        decodes(&self.cores, || self.cores(), chars, written, direct)
    }

    /// The scrubber with these cores (a test's).
    #[cfg(test)]
    fn with_cores(self, cores: Cores) -> Self {
        let _ = self.cores.set(cores);
        self
    }

    /// What an encoded run must show for a decoding of it to hold a
    /// window.
    fn cores(&self) -> Cores {
        Cores::of(self.forms.iter().map(Form::window))
    }

    /// Whether there is nothing to look for.
    pub(crate) fn is_empty(&self) -> bool {
        self.search.is_none()
    }

    /// The ranges of `text` that hold a hidden value, merged, with the
    /// values found.
    fn find(&self, text: &[u8], whole: bool, found: &mut Vec<usize>) -> Vec<(usize, usize)> {
        let Some(search) = &self.search else {
            return Vec::new();
        };
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        // Every position where some window starts, each tried with every
        // form whose window is there (overlapping echoes included).
        let mut from = 0;
        let mut starts = Vec::new();
        while let Some(start) = search.next(text, from) {
            starts.push(start);
            from = start + 1;
        }
        for (start, form) in starts.into_iter().flat_map(|start| {
            self.forms
                .iter()
                .filter(move |f| text[start..].starts_with(f.window()))
                .map(move |f| (start, f))
        }) {
            let (matched, whole_form) = match &form.whole {
                Some(range) => {
                    let bytes = &self.arena[range.clone()];
                    let n = text[start..]
                        .iter()
                        .zip(bytes)
                        .take_while(|(a, b)| a == b)
                        .count();
                    (n, n == bytes.len())
                }
                None => matched(form.kind, &self.values[form.value], &text[start..]),
            };
            // A form no longer than the window must match whole; a longer
            // one as far as its window at least (the searcher saw that).
            if matched < WINDOW && !whole_form {
                continue;
            }
            let end = start + matched;
            let before = &text[..start];
            let after = &text[end..];
            if form.enclosed
                && !(whole && start == 0 && end == text.len())
                && !(OPENERS.iter().any(|o| before.ends_with(o))
                    && (after.is_empty() || CLOSERS.iter().any(|c| after.starts_with(c))))
            {
                continue;
            }
            if form.standalone
                && (before.last().is_some_and(|b| base64_or_padding(*b))
                    || after.first().is_some_and(|b| encoded::base64_char(*b)))
            {
                continue;
            }
            if !found.contains(&form.value) {
                found.push(form.value);
            }
            ranges.push((start, end));
        }
        merged(ranges)
    }

    /// Whether `bytes`, decoded from a run of the answer, hold a value.
    fn holds(&self, bytes: &[u8], found: &mut Vec<usize>) -> bool {
        !self.find(bytes, false, found).is_empty()
    }

    /// `text` with every hidden value replaced, or `None` when it holds
    /// none; the values found are added to `echoes`, at `place`. `whole`
    /// says `text` is a whole value (a header's, or a whole body), where a
    /// short value standing alone is an echo too.
    #[cfg(test)]
    pub(crate) fn scrub(
        &self,
        text: &[u8],
        place: &str,
        whole: bool,
        echoes: &mut Echoes,
    ) -> Option<Vec<u8>> {
        Self::scrub_all(&[self], text, &place, whole, echoes)
    }

    /// [`Scrubber::scrub`] with several scrubbers (the connector's secrets,
    /// the call's own values): the encoded runs are decoded once for them
    /// all, each finds its values' forms, and whatever any found is
    /// replaced.
    pub(crate) fn scrub_all(
        scrubbers: &[&Scrubber],
        text: &[u8],
        place: &dyn std::fmt::Display,
        whole: bool,
        echoes: &mut Echoes,
    ) -> Option<Vec<u8>> {
        // This runs for each header and the body: the scrubbers as given
        // (the HTTP capability gives none empty), and where each notes what
        // it found on the stack for a call's two.
        let kept: Vec<&Scrubber>;
        let scrubbers = if scrubbers.iter().any(|s| s.is_empty()) {
            kept = scrubbers
                .iter()
                .copied()
                .filter(|s| !s.is_empty())
                .collect();
            &kept[..]
        } else {
            scrubbers
        };
        if scrubbers.is_empty() {
            return None;
        }
        let mut two: [Vec<usize>; 2] = Default::default();
        let mut more: Vec<Vec<usize>>;
        let found: &mut [Vec<usize>] = if scrubbers.len() <= two.len() {
            &mut two[..scrubbers.len()]
        } else {
            more = vec![Vec::new(); scrubbers.len()];
            &mut more
        };
        // Every match is found in the text as it came, the encoded runs
        // (each judged whole) and each scrubber's direct matches, and
        // their union replaced: one replaced first would split the other
        // (a direct match cut short inside a run, mixed-case hex whose
        // first digits read as the lower-case form, or a run inside a
        // value echoed raw) and leave the rest of a value behind.
        let mut ranges = encoded_runs(scrubbers, text, found);
        for (s, found) in scrubbers.iter().zip(found.iter_mut()) {
            ranges.extend(s.find(text, whole, found));
        }
        let replaced = (!ranges.is_empty()).then(|| replace(text, &merged(ranges)));
        for (s, found) in scrubbers.iter().zip(found.iter()) {
            for &value in found {
                echoes.add(Echo {
                    name: s.names[value].clone(),
                    place: place.to_string(),
                });
            }
        }
        replaced
    }
}

/// A text's budget of [`DIRECT_CHARS`] characters of runs decoded without
/// their cores asked.
#[derive(Default)]
struct Direct(usize);

impl Direct {
    /// Whether `run` is within the budget, which it then uses.
    fn take(&mut self, run: &[u8]) -> bool {
        let within = self.0 + run.len() <= DIRECT_CHARS;
        if within {
            self.0 += run.len();
        }
        within
    }
}

/// Whether an encoded run (`chars`, written as `written`) is to be
/// decoded, given the cores found so far (`found`) and how to find them
/// (`find`): a run within the text's direct budget (`direct`) is, while
/// the cores are not found; any other only if it shows a core.
fn decodes(
    found: &OnceLock<Cores>,
    find: impl FnOnce() -> Cores,
    chars: &[u8],
    written: Run,
    direct: bool,
) -> bool {
    match found.get() {
        Some(cores) => cores.shown_in(chars, written),
        None if direct => true,
        None => found.get_or_init(find).shown_in(chars, written),
    }
}

/// Whether `bytes` hold a value of any of `scrubbers` (each one asked,
/// so that every value found is noted).
fn any_holds(scrubbers: &[&Scrubber], bytes: &[u8], found: &mut [Vec<usize>]) -> bool {
    let mut held = false;
    for (s, found) in scrubbers.iter().zip(found.iter_mut()) {
        held |= s.holds(bytes, found);
    }
    held
}

/// Base64 and hex runs of `text` (with any padding after them) that
/// decode, at some alignment, to bytes holding a value of one of
/// `scrubbers`; and runs of `%XX` escapes that do. Each run is decoded
/// once, into one buffer, for every scrubber.
fn encoded_runs(
    scrubbers: &[&Scrubber],
    text: &[u8],
    found: &mut [Vec<usize>],
) -> Vec<(usize, usize)> {
    let mut hits = Vec::new();
    let mut buffer = Vec::new();
    let shortest = scrubbers.iter().map(|s| s.shortest).min().unwrap_or(0);
    let mut direct = Direct::default();
    for run in encoded::long_runs(text, encoded::base64_char, RUN) {
        let chars = &text[run.clone()];
        let whole = direct.take(chars);
        // An alignment is decoded only where it gives more bytes than the
        // shortest match: decoded to exactly a form, the run *is* that
        // form's Base64 (or hex), which the direct search already found.
        // A run that shows none of the windows' cores is not decoded.
        let mut held = scrubbers
            .iter()
            .any(|s| s.decodes(chars, Run::Base64, whole))
            && (0..=3)
                .filter(|&skip| (chars.len() - skip) * 3 / 4 > shortest)
                .any(|skip| {
                    encoded::decode_base64_into(&chars[skip..], &mut buffer)
                        && any_holds(scrubbers, &buffer, found)
                });
        if !held
            && chars.iter().all(u8::is_ascii_hexdigit)
            && scrubbers.iter().any(|s| s.decodes(chars, Run::Hex, whole))
        {
            held = (0..=1)
                .filter(|&skip| (chars.len() - skip) / 2 > shortest)
                .any(|skip| {
                    encoded::decode_hex(&chars[skip..])
                        .is_some_and(|bytes| any_holds(scrubbers, &bytes, found))
                });
        }
        if held {
            let padding = text[run.end..]
                .iter()
                .take(2)
                .take_while(|&&b| b == b'=')
                .count();
            hits.push((run.start, run.end + padding));
        }
    }
    // A whole request echoed percent-encoded, byte by byte (a run of just
    // one form is the form, found directly).
    for run in encoded::percent_runs(text).filter(|r| r.len() >= 12 && r.len() / 3 > shortest) {
        if encoded::decode_percent(&text[run.clone()])
            .is_some_and(|bytes| any_holds(scrubbers, &bytes, found))
        {
            hits.push((run.start, run.end));
        }
    }
    hits.sort_unstable();
    hits.dedup();
    hits
}

/// `ranges` sorted, those that overlap or touch made one.
fn merged(mut ranges: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
    for (s, e) in ranges {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
}

fn replace(text: &[u8], ranges: &[(usize, usize)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut copied = 0;
    for &(s, e) in ranges {
        out.extend_from_slice(&text[copied..s]);
        out.extend_from_slice(MARKER);
        copied = e;
    }
    out.extend_from_slice(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    use rand::rngs::StdRng;
    use rand::{RngExt as _, SeedableRng as _};

    const SECRET: &[u8] = b"s3cr3t/Key+with&<odd>\"chars\" \xc3\xa9";

    fn values() -> Vec<(Hidden, Vec<u8>)> {
        vec![
            (Hidden::Secret("k".into()), SECRET.to_vec()),
            (Hidden::CardNumber, b"4532015112830366".to_vec()),
            (Hidden::Cvv, b"123".to_vec()),
        ]
    }

    fn scrubber() -> Scrubber {
        Scrubber::new(&values())
    }

    /// Scrubbed by a scrubber for any text (Teddy) and by one for a small
    /// answer (`Pairs`), which must agree.
    fn scrubbed(text: &[u8]) -> (Vec<u8>, Echoes) {
        let run = |s: Scrubber| {
            let mut echoes = Echoes::default();
            let out = s
                .scrub(text, "body", false, &mut echoes)
                .unwrap_or_else(|| text.to_vec());
            (out, echoes)
        };
        let (big, echoes) = run(scrubber());
        let (small, small_echoes) = run(Scrubber::sized(&values(), text.len()));
        assert_eq!(big, small, "{}", String::from_utf8_lossy(text));
        assert_eq!(echoes.to_string(), small_echoes.to_string());
        // A scrubber given the cores its prefilter found (as a call's is)
        // finds the same.
        let pre = Prefilter::new(&values());
        let _ = pre.cores.set(pre.cores());
        let (seeded, seeded_echoes) =
            run(Scrubber::sized(&values(), text.len()).with_cores_of(pre));
        assert_eq!(big, seeded, "{}", String::from_utf8_lossy(text));
        assert_eq!(echoes.to_string(), seeded_echoes.to_string());
        // And one that decodes every run, as the scrubber did before it
        // asked for cores.
        let (every, every_echoes) =
            run(Scrubber::sized(&values(), text.len()).with_cores(Cores::all()));
        assert_eq!(big, every, "{}", String::from_utf8_lossy(text));
        assert_eq!(echoes.to_string(), every_echoes.to_string());
        // Whatever the scrubber finds, the prefilter lets through.
        if !echoes.is_empty() {
            assert!(
                Prefilter::new(&values()).may_hold(text),
                "{}",
                String::from_utf8_lossy(text)
            );
        }
        (big, echoes)
    }

    fn clean(text: &[u8]) {
        let (out, echoes) = scrubbed(text);
        assert_eq!(out, text, "{}", String::from_utf8_lossy(text));
        assert!(echoes.is_empty());
    }

    fn gone(text: &[u8]) {
        let (out, echoes) = scrubbed(text);
        assert!(
            !echoes.is_empty(),
            "not found in {}",
            String::from_utf8_lossy(text)
        );
        let out = String::from_utf8_lossy(&out);
        assert!(out.contains("[hidden]"), "{out}");
        for needle in ["s3cr3t", "4532015112830366", "\"123\""] {
            assert!(!out.contains(needle), "{out}");
        }
    }

    #[test]
    fn every_encoding_of_an_echo_is_replaced() {
        let json = serde_json::to_string(&String::from_utf8_lossy(SECRET)).unwrap();
        let mut xml = Vec::new();
        crate::contract::parts::Encoding::XmlText
            .write(&mut xml, SECRET, true)
            .unwrap();
        let form: String = url::form_urlencoded::byte_serialize(SECRET).collect();
        for echo in [
            [b"echo: ".as_slice(), SECRET].concat(),
            format!("{{\"echo\":{json}}}").into_bytes(),
            [b"<e>".as_slice(), &xml, b"</e>"].concat(),
            format!("x={form}&y=1").into_bytes(),
            format!("x={}", form.replace('+', "%20")).into_bytes(),
            hex::encode(SECRET).into_bytes(),
            hex::encode_upper(SECRET).into_bytes(),
            STANDARD.encode(SECRET).into_bytes(),
            URL_SAFE_NO_PAD.encode(SECRET).into_bytes(),
            SECRET
                .iter()
                .map(|b| format!("%{b:02x}"))
                .collect::<String>()
                .into_bytes(),
            // A whole request echoed in Base64, the value at every offset.
            STANDARD
                .encode([b"{\"a\":\"".as_slice(), SECRET, b"\"}"].concat())
                .into_bytes(),
            STANDARD
                .encode([b"{\"ab\":\"".as_slice(), SECRET, b"\"}"].concat())
                .into_bytes(),
            STANDARD
                .encode([b"{\"abc\":\"".as_slice(), SECRET, b"\"}"].concat())
                .into_bytes(),
            hex::encode([b"x".as_slice(), SECRET].concat()).into_bytes(),
            b"{\"pan\":\"4532015112830366\"}".to_vec(),
            STANDARD.encode(b"{\"cvv\":\"123\",\"o\":1}").into_bytes(),
        ] {
            gone(&echo);
        }
    }

    /// Past the first few runs of a text, a run is decoded only when it
    /// shows a core: an echo there, in Base64 at each alignment or in hex,
    /// is still found, by every scrubber (seeded or not) and the
    /// prefilter.
    #[test]
    fn an_echo_after_many_honest_runs_is_replaced() {
        let honest: Vec<String> = (0..8)
            .map(|i| STANDARD_NO_PAD.encode(format!("honest run number {i} of many")))
            .collect();
        let mixed_case = |hex: String| -> String {
            hex.chars()
                .enumerate()
                .map(|(i, c)| {
                    if i % 3 == 0 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                })
                .collect()
        };
        let mut echoes_found_only_decoded = vec![mixed_case(hex::encode(SECRET))];
        for lead in 0..3 {
            for inner in [&b"{\"pan\":\"4532015112830366\"}"[..], b"{\"cvv\":\"123\"}"] {
                let mut request = vec![b'x'; lead];
                request.extend_from_slice(inner);
                echoes_found_only_decoded.push(STANDARD_NO_PAD.encode(&request));
                echoes_found_only_decoded.push(mixed_case(hex::encode(&request)));
                // Both Base64 alphabets in one run: `-/+_` is `+/+/`.
                let mut both = vec![0xfb, 0xff, 0xbf];
                both.extend_from_slice(&request);
                let both = STANDARD_NO_PAD.encode(&both);
                assert!(both.starts_with("+/+/"));
                echoes_found_only_decoded.push(format!("-/+_{}", &both[4..]));
            }
        }
        for echo in echoes_found_only_decoded {
            let text = format!("{} {echo} end", honest.join(" "));
            let (out, echoes) = scrubbed(text.as_bytes());
            assert!(!echoes.is_empty(), "{text}");
            assert_eq!(
                String::from_utf8_lossy(&out),
                format!("{} [hidden] end", honest.join(" ")),
                "{text}"
            );
            assert!(Prefilter::new(&values()).may_hold(text.as_bytes()));
        }
        clean(format!("{} end", honest.join(" ")).as_bytes());
    }

    /// The prefilter does not decode a run again where it repeats: an
    /// echo written encoded after the same honest member name many times
    /// (an array of records), written twice, or past the runs it
    /// remembers, still lets the answer through to the scrubber, which
    /// replaces every occurrence.
    #[test]
    fn an_echo_among_repeated_runs_still_passes_the_prefilter() {
        let record = r#"{"originalCurrency":"SGD","originalAmount":4.07}"#;
        let honest = [record; 6].join(",");
        let clean_text = format!("[{honest}]");
        assert!(!Prefilter::new(&values()).may_hold(clean_text.as_bytes()));
        clean(clean_text.as_bytes());
        let echo = STANDARD_NO_PAD.encode(br#"{"pan":"4532015112830366"}"#);
        let many: Vec<String> = (0..2 * REMEMBERED_RUNS)
            .map(|i| format!(r#"{{"originalCurrency{i:02}":1}}"#))
            .collect();
        let many = many.join(",");
        for text in [
            format!(r#"[{many},{honest},{{"originalCurrency":"{echo}"}}]"#),
            format!(r#"[{honest},{{"originalCurrency":"{echo}"}}]"#),
            format!(r#"[{honest},{{"originalCurrency":"{echo}","again":"{echo}"}}]"#),
            format!(r#"[{{"note":"{echo}"}},{honest},{{"note":"{echo}"}}]"#),
        ] {
            assert!(
                Prefilter::new(&values()).may_hold(text.as_bytes()),
                "{text}"
            );
            let (out, echoes) = scrubbed(text.as_bytes());
            assert!(!echoes.is_empty(), "{text}");
            let out = String::from_utf8_lossy(&out);
            assert!(!out.contains(&echo), "{out}");
            assert!(out.contains("[hidden]"), "{out}");
        }
    }

    /// A value echoed raw that holds an encoded run holding another value:
    /// the whole of it is replaced, not the run alone.
    #[test]
    fn a_value_holding_an_encoded_run_is_replaced_whole() {
        let run = STANDARD_NO_PAD.encode(b"{\"pan\":\"4532015112830366\"}");
        let secret = format!("the start of a secret: {run} and the rest of it");
        let values = [
            (Hidden::Secret("k".into()), secret.clone().into_bytes()),
            (Hidden::CardNumber, b"4532015112830366".to_vec()),
        ];
        for scrubber in [
            Scrubber::new(&values),
            Scrubber::sized(&values, secret.len()),
        ] {
            let mut echoes = Echoes::default();
            let out = scrubber.scrub(secret.as_bytes(), "body", true, &mut echoes);
            assert_eq!(out.as_deref(), Some(MARKER), "{secret}");
            assert_eq!(echoes.len(), 2);
        }
    }

    #[test]
    fn encoded_text_echoed_escaped_again_is_replaced() {
        // Base64 full of `+` and `/`, as a signature may be.
        let sig: Vec<u8> = [0xfb, 0xef, 0xbe, 0xff, 0xff, 0xff]
            .repeat(3)
            .into_iter()
            .chain(*b"tail")
            .collect();
        let s = Scrubber::new(&[(
            Hidden::Derived(std::sync::Arc::new(["k".to_owned()].into())),
            sig.clone(),
        )]);
        let b64 = STANDARD.encode(&sig);
        assert!(b64.contains('+') && b64.contains('/'));
        let percent_all = |text: &str| {
            text.bytes()
                .map(|b| format!("%{b:02X}"))
                .collect::<String>()
        };
        for echo in [
            // PHP's json_encode writes `/` as `\/`.
            format!("{{\"sign\":\"{}\"}}", b64.replace('/', r"\/")),
            // A form echoed back.
            format!(
                "sign={}&x=1",
                b64.replace('+', "%2B")
                    .replace('/', "%2F")
                    .replace('=', "%3D")
            ),
            // The whole request percent-encoded, with the signature in hex
            // or Base64 in it.
            percent_all(&format!("sig={}", hex::encode(&sig))),
            percent_all(&format!("sig={b64}")),
        ] {
            let mut echoes = Echoes::default();
            let out = s.scrub(echo.as_bytes(), "body", false, &mut echoes);
            assert!(out.is_some() && !echoes.is_empty(), "{echo}");
            let out = String::from_utf8(out.unwrap()).unwrap();
            assert!(
                !out.contains(&b64[..12]) && !out.contains(&hex::encode(&sig)[..12]),
                "{out}"
            );
        }
    }

    #[test]
    fn a_short_value_is_replaced_only_where_it_stands_whole() {
        // Echoed the way it was placed, in any escaping.
        for echo in [
            b"{\"cvv\":\"123\"}".as_slice(),
            b"{\\\"cvv\\\":\\\"123\\\"}",
            b"<Cvv>123</Cvv>",
            b"cvv=123&x=1",
            b"%22cvv%22%3A%22123%22",
            b"&quot;123&quot;",
        ] {
            let (out, echoes) = scrubbed(echo);
            assert_eq!(echoes.len(), 1, "{}", String::from_utf8_lossy(echo));
            assert!(!String::from_utf8_lossy(&out).contains("123"));
        }
        // The same digits elsewhere in an honest answer are left alone.
        for honest in [
            b"{\"status\":123,\"msg\":\"ok\"}".as_slice(),
            b"{\"orderNo\":\"ATL-1234\",\"amount\":\"123.00\"}",
            b"{\"ref\":\"TX123\"}",
            b"<Code>4123</Code>",
            b"MTIzNDU2Nzg5MA==",
        ] {
            clean(honest);
        }
        // A whole header value is an echo.
        let mut echoes = Echoes::default();
        assert!(
            scrubber()
                .scrub(b"123", "header x", true, &mut echoes)
                .is_some()
        );
        assert!(
            scrubber()
                .scrub(b"123", "body", false, &mut Echoes::default())
                .is_none()
        );
    }

    /// Every form `value` may be echoed in, written by the reference
    /// encoders (serde_json, base64, url): what the streams must equal.
    fn forms_of(value: &[u8]) -> Vec<Vec<u8>> {
        let (b64, b64np, b64u, b64unp) = (STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD);
        let mut escaped_base64 = Vec::new();
        for text in [
            b64.encode(value),
            b64np.encode(value),
            b64u.encode(value),
            b64unp.encode(value),
        ] {
            escaped_base64.push(text.replace('/', r"\/").into_bytes());
            escaped_base64.push(
                text.replace('+', "%2B")
                    .replace('/', "%2F")
                    .replace('=', "%3D")
                    .into_bytes(),
            );
        }
        let text = String::from_utf8_lossy(value);
        let json = serde_json::to_string(&*text).unwrap_or_default();
        let json = json[1..json.len().saturating_sub(1).max(1)].to_owned();
        let mut json_ascii = String::new();
        for c in json.chars() {
            if c.is_ascii() {
                json_ascii.push(c);
            } else {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    json_ascii.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
        let mut xml_full = Vec::new();
        let mut xml_min = Vec::new();
        for &b in value {
            let (full, min): (&[u8], &[u8]) = match b {
                b'&' => (b"&amp;", b"&amp;"),
                b'<' => (b"&lt;", b"&lt;"),
                b'>' => (b"&gt;", b"&gt;"),
                b'"' => (b"&quot;", b"\""),
                b'\'' => (b"&apos;", b"'"),
                _ => (std::slice::from_ref(&b), std::slice::from_ref(&b)),
            };
            xml_full.extend_from_slice(full);
            xml_min.extend_from_slice(min);
        }
        let form: String = url::form_urlencoded::byte_serialize(value).collect();
        let mut every_upper = String::new();
        let mut every_lower = String::new();
        for b in value {
            every_upper.push_str(&format!("%{b:02X}"));
            every_lower.push_str(&format!("%{b:02x}"));
        }
        let mut out: Vec<Vec<u8>> = vec![
            value.to_vec(),
            hex::encode(value).into_bytes(),
            hex::encode_upper(value).into_bytes(),
            b64.encode(value).into_bytes(),
            b64np.encode(value).into_bytes(),
            b64u.encode(value).into_bytes(),
            b64unp.encode(value).into_bytes(),
            json.replace('/', "\\/").into_bytes(),
            json.into_bytes(),
            json_ascii.into_bytes(),
            xml_full,
            xml_min,
            form.replace('+', "%20").into_bytes(),
            form.into_bytes(),
            every_upper.into_bytes(),
            every_lower.into_bytes(),
        ];
        out.extend(escaped_base64);
        out.sort();
        out.dedup();
        out.retain(|f| !f.is_empty());
        out
    }

    #[test]
    fn each_form_is_written_as_the_reference_encoders_write_it() {
        for value in [
            SECRET,
            b"plain".as_slice(),
            b"a/b \x00\x1f\x7f\xff\xfe \xf0\x9f\x92\xb3 \\ ~*-._+".as_slice(),
            b"ab".as_slice(),
            b"abcd".as_slice(),
            b"12".as_slice(),
            b"\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7".as_slice(),
            "\u{1F4B3}\u{1F4B3}\u{1F4B3}".as_bytes(),
            b"a\"b'c<d&e f/g".as_slice(),
            // Heads every escaping kind writes as `Raw` does: a card
            // number, a CVV, a key of letters, digits and `*-._`.
            b"4532015112830366".as_slice(),
            b"738".as_slice(),
            b"Ab3-_.*xyz9".as_slice(),
            b"abc".as_slice(),
            // A plain first group, then a byte some kind escapes: the head
            // is read whole, not its first group alone.
            b"abc\"def".as_slice(),
            b"abc<def".as_slice(),
            b"abc/def".as_slice(),
            b"abc def".as_slice(),
            b"abc?".as_slice(),
            "abc\u{e9}".as_bytes(),
            b"abcdefg'".as_slice(),
            // Short, written in Base64 with a `/` and with a `+`.
            b"\xff\xf0".as_slice(),
            b"\xfb\xef".as_slice(),
        ] {
            // Written whole as small values are, and on the fly as large
            // ones are, alike.
            let mut arena = Vec::new();
            let mut small: Vec<Vec<u8>> = Vec::new();
            for (kind, range) in small_forms(value, &mut arena) {
                let whole = arena[range].to_vec();
                assert_eq!(whole, stream(kind, value).collect::<Vec<_>>(), "{kind:?}");
                small.push(whole);
            }
            let mut ours: Vec<Vec<u8>> =
                KINDS.iter().map(|&k| stream(k, value).collect()).collect();
            ours.sort();
            ours.dedup();
            // Each distinct form once: none left out, none twice.
            small.sort();
            assert_eq!(small, ours, "{}", String::from_utf8_lossy(value));
            // The prefilter's keys: each kind's first bytes, every one of
            // them among the keys worked out for the value.
            let mut keys = Heads::with_capacity(32);
            prefixes(value, &mut keys);
            for kind in KINDS {
                let (bytes, n) = prefix(kind, value);
                let first: Vec<u8> = stream(kind, value).take(4).collect();
                assert_eq!(&bytes[..n], first.as_slice(), "{kind:?}");
                assert!(keys.holds(bytes, n), "{kind:?}");
            }
            assert_eq!(ours, forms_of(value), "{}", String::from_utf8_lossy(value));
        }
    }

    /// The prefilter's scan finds a prefix wherever one stands, at every
    /// place in texts of every length (a block of eight bytes and the
    /// rest), as comparing each prefix at each place finds it.
    #[test]
    fn the_heads_scan_finds_what_a_plain_search_finds() {
        let prefixes: [&[u8]; 5] = [b"ab", b"xyz", b"q\xff", b"cdef", b"7"];
        let mut heads = Heads::with_capacity(prefixes.len());
        for p in prefixes {
            let mut bytes = [0u8; 4];
            bytes[..p.len()].copy_from_slice(p);
            heads.push((bytes, p.len()));
        }
        let plain = |text: &[u8]| {
            prefixes
                .iter()
                .any(|p| text.windows(p.len()).any(|w| w == *p))
        };
        let alphabet = b"abcdefqxyz7\xff";
        let mut rng = StdRng::seed_from_u64(0x853c_49e6_748f_ea9b);
        let mut next = |bound: usize| rng.random_range(0..bound);
        let mut found = 0;
        for round in 0..20_000 {
            let len = round % 40;
            // Mostly bytes that start no prefix, so that most texts hold none.
            let text: Vec<u8> = (0..len)
                .map(|_| match next(12) {
                    0..=2 => alphabet[next(alphabet.len())],
                    _ => b'-',
                })
                .collect();
            let expected = plain(&text);
            found += usize::from(expected);
            assert_eq!(
                heads.hit(&text),
                expected,
                "{}",
                String::from_utf8_lossy(&text)
            );
        }
        assert!(found > 1_000 && found < 19_000, "{found} of 20000 held one");
    }

    #[test]
    fn the_pair_table_finds_what_a_plain_search_finds() {
        let windows: [&[u8]; 4] = [b"a", b"bc", b"xyz", b"b\xff"];
        let pairs = Pairs::new(&windows);
        let plain = |text: &[u8], from: usize| {
            (from..text.len()).find(|&i| windows.iter().any(|w| text[i..].starts_with(w)))
        };
        for text in [
            &b""[..],
            b"a",
            b"zzbc",
            b"xxa",
            b"xy",
            b"bcd",
            b"qqqqxyz",
            b"b",
            b"qb\xff",
            b"bxbxbxb",
        ] {
            for from in 0..=text.len() {
                assert_eq!(
                    pairs.next(text, from),
                    plain(text, from),
                    "{text:?} from {from}"
                );
            }
        }
    }

    #[test]
    fn echoes_past_the_cap_are_counted_not_listed() {
        let mut echoes = Echoes::default();
        for i in 0..1000 {
            echoes.add(Echo {
                name: Hidden::Cvv,
                place: format!("header x-{i}"),
            });
        }
        assert_eq!(echoes.len(), 1000);
        let text = echoes.to_string();
        assert_eq!(text.matches("card:cvv in").count(), MAX_NOTED);
        assert!(text.ends_with("(and 984 more)"), "{text}");
    }

    #[test]
    fn an_echo_cut_short_is_replaced_as_far_as_it_goes_and_honest_text_stays() {
        let long = vec![b'z'; 100];
        let s = Scrubber::new(&[(Hidden::Secret("big".into()), long.clone())]);
        let mut echoes = Echoes::default();
        let text = [b"a".as_slice(), &long[..50], b"!"].concat();
        assert_eq!(
            s.scrub(&text, "body", false, &mut echoes).unwrap(),
            b"a[hidden]!"
        );
        // A field the supplier cuts to 20 characters echoes a prefix: from
        // its first 12 bytes on, it is replaced.
        let key = b"k-7f3a9c2e51d84b06a1f9e3c7d2b5a8e4".to_vec();
        let s = Scrubber::new(&[(Hidden::Secret("key".into()), key.clone())]);
        let cut = [b"\"orderNo\":\"".as_slice(), &key[..20], b"\""].concat();
        let out = s.scrub(&cut, "body", false, &mut echoes).unwrap();
        assert_eq!(out, b"\"orderNo\":\"[hidden]\"");
        // A value longer than those kept whole: its forms are written on
        // the fly, whole and cut short alike.
        let big: Vec<u8> = (0..300u32).map(|i| (i * 7 % 251) as u8).collect();
        let s_big = Scrubber::new(&[(Hidden::Secret("big".into()), big.clone())]);
        for echo in [
            hex::encode(&big),
            STANDARD.encode(&big),
            hex::encode(&big[..150]),
            big.iter().map(|b| format!("%{b:02X}")).collect(),
        ] {
            let text = format!("<{echo}>");
            let out = s_big
                .scrub(text.as_bytes(), "body", false, &mut echoes)
                .unwrap_or_default();
            assert_eq!(out, b"<[hidden]>", "{echo:.40}");
        }
        let eleven = [b"x".as_slice(), &key[..11], b"x"].concat();
        assert!(s.scrub(&eleven, "body", false, &mut echoes).is_none());
        clean(b"{\"status\":0,\"msg\":\"Success\",\"orderNo\":\"ATL-OK-1\",\"paymentMethod\":1}");
        clean(b"<Envelope><Body><Id>9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08</Id></Body></Envelope>");
    }
}
