//! Answers scrubbed of what the host hid: before a connector reads an
//! answer, every hidden value the call put into a request (secrets, card
//! data, values crypto derived from them) is replaced by `[hidden]`
//! wherever it stands in the headers or the body, written raw, in hex of
//! either case, in Base64 (standard or URL-safe, with or without padding),
//! percent-, JSON- or XML-escaped; and inside any Base64 or hex run of the
//! answer that decodes to bytes holding one (a whole request echoed
//! encoded), the whole run is replaced.
//!
//! One multi-pattern searcher (aho-corasick's: Teddy for a call's few
//! values, an NFA for more) finds every form of every value in one pass. A form is matched by its first [`WINDOW`] bytes and
//! then compared in place with the form written on the fly from the value,
//! so a value of megabytes costs no more memory than the value itself (no
//! form is kept whole), and an echo cut short is replaced as far as it
//! goes, from its first [`WINDOW`] bytes.
//!
//! A short value (under [`SHORT`] bytes: a CVV) is replaced only where it
//! stands as a whole quoted or delimited value (`"123"`, `>123<`, `=123&`,
//! their escaped forms, or a whole header value), the way it was placed: an
//! honest answer holding the same digits inside a longer value, or as a
//! bare number (`"status": 123`), is left as it is.

use crate::contract::hidden::Hidden;
use crate::payments::encoded;
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind, packed};

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
/// Base64 or hex runs at least this long are decoded and searched.
const RUN: usize = 16;

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
        Kind::Form { plus } => Box::new(value.iter().map(move |&b| match b {
            b' ' if plus => unit(b"+"),
            b'*' | b'-' | b'.' | b'_' => unit(&[b]),
            b if b.is_ascii_alphanumeric() => unit(&[b]),
            b => percent(b, true),
        })),
        Kind::Percent { upper } => Box::new(value.iter().map(move |&b| percent(b, upper))),
    }
}

/// `value` written as `kind`, whole: the escaping kinds byte by byte
/// (what [`units`] streams, without a unit at a time), the others unit by
/// unit.
fn written(kind: Kind, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() * 2);
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
                        && !(slash && c == '/')
                        && !(ascii && !c.is_ascii());
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
    out
}

/// Whether `kind` writes `value` exactly as `Raw` does (no byte of it is
/// one that kind escapes): then it is the same form.
fn same_as_raw(kind: Kind, value: &[u8]) -> bool {
    match kind {
        Kind::Json { slash, ascii } => {
            std::str::from_utf8(value).is_ok()
                && !value.iter().any(|&b| {
                    b == b'"' || b == b'\\' || b < 0x20 || (slash && b == b'/') || (ascii && b >= 0x80)
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

/// Every form of a small value, whole, by kind: the Base64 family and hex
/// through their crates, the rest unit by unit. A kind that would write the
/// value as an earlier kind already did (`Json` for a value with nothing
/// to escape, upper-case hex of digits only, …) is left out, so each form
/// is written once.
fn small_forms(value: &[u8]) -> Vec<(Kind, Vec<u8>)> {
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
    let mut forms: Vec<(Kind, Vec<u8>)> = Vec::with_capacity(KINDS.len());
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
        let whole = match kind {
            Kind::Raw => value.to_vec(),
            Kind::Hex { upper: false } => hex::encode(value).into_bytes(),
            Kind::Hex { upper: true } => hex::encode_upper(value).into_bytes(),
            Kind::Base64 { url, pad } => base64(url, pad).as_bytes().to_vec(),
            Kind::Base64Json { url, pad } => base64(url, pad).replace('/', r"\/").into_bytes(),
            Kind::Base64Form { url, pad } => base64(url, pad)
                .replace('+', "%2B")
                .replace('/', "%2F")
                .replace('=', "%3D")
                .into_bytes(),
            Kind::Percent { upper } => {
                let digits = if upper { HEX_UPPER } else { HEX_LOWER };
                let mut out = Vec::with_capacity(value.len() * 3);
                for &b in value {
                    out.extend_from_slice(&[
                        b'%',
                        digits[usize::from(b >> 4)],
                        digits[usize::from(b & 15)],
                    ]);
                }
                out
            }
            _ => written(kind, value),
        };
        // What the rules above let through twice (a JSON escape that
        // writes the value as XML's does) is still one form.
        if !forms.iter().any(|(_, f)| *f == whole) {
            forms.push((kind, whole));
        }
    }
    forms
}

/// `value` written as `kind`, byte by byte.
fn stream(kind: Kind, value: &[u8]) -> impl Iterator<Item = u8> + '_ {
    units(kind, value).flat_map(|(bytes, n)| bytes.into_iter().take(n))
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
    /// The whole form, for a value of at most [`KEPT_WHOLE`] bytes; a
    /// longer value's form is written on the fly where it is compared.
    whole: Option<Vec<u8>>,
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
    names: Vec<Hidden>,
    values: Vec<Vec<u8>>,
    forms: Vec<Form>,
    search: Option<Search>,
}

/// Finds where a window starts. A few dozen windows take Teddy, a packed
/// SIMD searcher built in a few microseconds that scans gigabytes a
/// second, or, where the text to scan is small (a call's answer of a few
/// kilobytes), Rabin-Karp, built four times faster and scanning a
/// kilobyte in about a microsecond; more windows (or a machine without
/// Teddy) take an aho-corasick NFA.
enum Search {
    Packed(packed::Searcher),
    Nfa(AhoCorasick),
}

/// Up to this much text to scan, a call's searcher is Rabin-Karp.
pub(crate) const SMALL_SCAN: usize = 64 * 1024;

impl Search {
    fn new(windows: &[&[u8]], small_scan: bool) -> Search {
        packed::Config::new()
            .match_kind(packed::MatchKind::LeftmostFirst)
            .only_rabin_karp(small_scan)
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
        }
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
        Self::sized(values, usize::MAX)
    }

    /// A scrubber for `values` that will scan about `scan` bytes: one
    /// built for a small answer is built faster and scans slower.
    pub(crate) fn sized(values: &[(Hidden, Vec<u8>)], scan: usize) -> Self {
        let mut names = Vec::new();
        let mut kept: Vec<Vec<u8>> = Vec::new();
        let mut forms: Vec<Form> = Vec::new();
        for (name, value) in values {
            if value.is_empty() || kept.contains(value) {
                continue;
            }
            let index = kept.len();
            let short = value.len() < SHORT;
            let first = forms.len();
            if value.len() <= KEPT_WHOLE {
                // Every form written once; kinds that write the value alike
                // are one form.
                for (kind, whole) in small_forms(value) {
                    let raw_like = short
                        && (kind == Kind::Raw || !whole.iter().all(|&b| base64_or_padding(b)));
                    forms.push(Form {
                        value: index,
                        kind,
                        window: head(&whole),
                        whole: Some(whole),
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
            kept.push(value.clone());
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
            names,
            values: kept,
            forms,
            search,
        }
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
                Some(bytes) => {
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
        Self::scrub_all(&[self], text, place, whole, echoes)
    }

    /// [`Scrubber::scrub`] with several scrubbers (the connector's secrets,
    /// the call's own values): each finds its values' forms in turn, then
    /// the encoded runs of what is left are decoded once for them all.
    pub(crate) fn scrub_all(
        scrubbers: &[&Scrubber],
        text: &[u8],
        place: &str,
        whole: bool,
        echoes: &mut Echoes,
    ) -> Option<Vec<u8>> {
        let scrubbers: Vec<&Scrubber> = scrubbers
            .iter()
            .copied()
            .filter(|s| !s.is_empty())
            .collect();
        if scrubbers.is_empty() {
            return None;
        }
        let mut found: Vec<Vec<usize>> = vec![Vec::new(); scrubbers.len()];
        let mut replaced: Option<Vec<u8>> = None;
        for (s, found) in scrubbers.iter().zip(&mut found) {
            let current = replaced.as_deref().unwrap_or(text);
            let direct = s.find(current, whole, found);
            if !direct.is_empty() {
                replaced = Some(replace(current, &direct));
            }
        }
        let current = replaced.as_deref().unwrap_or(text);
        let runs = encoded_runs(&scrubbers, current, &mut found);
        let out = if runs.is_empty() {
            replaced
        } else {
            Some(replace(current, &runs))
        };
        for (s, found) in scrubbers.iter().zip(found) {
            for value in found {
                echoes.add(Echo {
                    name: s.names[value].clone(),
                    place: place.to_owned(),
                });
            }
        }
        out
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
    for run in encoded::runs(text, encoded::base64_char).filter(|r| r.len() >= RUN) {
        let chars = &text[run.clone()];
        // An alignment that decodes to fewer bytes than any match takes
        // is not decoded.
        let mut held = (0..=3)
            .filter(|&skip| (chars.len() - skip) * 3 / 4 >= shortest)
            .any(|skip| {
                encoded::decode_base64_into(&chars[skip..], &mut buffer)
                    && any_holds(scrubbers, &buffer, found)
            });
        if !held && chars.iter().all(u8::is_ascii_hexdigit) {
            held = (0..=1).any(|skip| {
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
    // A whole request echoed percent-encoded, byte by byte.
    for run in encoded::percent_runs(text).filter(|r| r.len() >= 12) {
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

    const SECRET: &[u8] = b"s3cr3t/Key+with&<odd>\"chars\" \xc3\xa9";

    fn scrubber() -> Scrubber {
        Scrubber::new(&[
            (Hidden::Secret("k".into()), SECRET.to_vec()),
            (Hidden::CardNumber, b"4532015112830366".to_vec()),
            (Hidden::Cvv, b"123".to_vec()),
        ])
    }

    fn scrubbed(text: &[u8]) -> (Vec<u8>, Echoes) {
        let mut echoes = Echoes::default();
        let out = scrubber()
            .scrub(text, "body", false, &mut echoes)
            .unwrap_or_else(|| text.to_vec());
        (out, echoes)
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

    #[test]
    fn encoded_text_echoed_escaped_again_is_replaced() {
        // Base64 full of `+` and `/`, as a signature may be.
        let sig: Vec<u8> = [0xfb, 0xef, 0xbe, 0xff, 0xff, 0xff]
            .repeat(3)
            .into_iter()
            .chain(*b"tail")
            .collect();
        let s = Scrubber::new(&[(Hidden::Derived(["k".to_owned()].into()), sig.clone())]);
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
        ] {
            // Written whole as small values are, and on the fly as large
            // ones are, alike.
            for (kind, whole) in small_forms(value) {
                assert_eq!(whole, stream(kind, value).collect::<Vec<_>>(), "{kind:?}");
            }
            let mut ours: Vec<Vec<u8>> =
                KINDS.iter().map(|&k| stream(k, value).collect()).collect();
            ours.sort();
            ours.dedup();
            assert_eq!(ours, forms_of(value), "{}", String::from_utf8_lossy(value));
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
