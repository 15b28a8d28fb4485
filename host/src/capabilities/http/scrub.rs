//! Answers scrubbed of what the host hid: before a connector reads an
//! answer, every hidden value the call put into a request (secrets, card
//! data, values crypto derived from them) is replaced by `[hidden]`
//! wherever it stands in the headers or the body, written raw, in hex of
//! either case, in Base64 (standard or URL-safe, with or without padding),
//! percent-, JSON- or XML-escaped; and inside any Base64 or hex run of the
//! answer that decodes to bytes holding one (a whole request echoed
//! encoded), the whole run is replaced.
//!
//! One multi-pattern automaton (aho-corasick) finds every form of every
//! value in one pass. A long value is matched by its first
//! [`WINDOW`] bytes and then compared in place, so a value of megabytes
//! costs the automaton no more than a short one, and an echo cut short is
//! replaced as far as it goes.
//!
//! A short value (under [`SHORT`] bytes: a CVV) is replaced only where it
//! stands as a whole quoted or delimited value (`"123"`, `>123<`, `=123&`,
//! their escaped forms, or a whole header value), the way it was placed: an
//! honest answer holding the same digits inside a longer value, or as a
//! bare number (`"status": 123`), is left as it is.

use crate::contract::hidden::Hidden;
use crate::payments::encoded;
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use base64::Engine as _;

/// What replaces a hidden value in an answer.
pub(crate) const MARKER: &[u8] = b"[hidden]";
/// How many bytes of a form the automaton matches before the rest is
/// compared in place.
const WINDOW: usize = 32;
/// Values shorter than this are matched only where they stand whole.
pub(crate) const SHORT: usize = 6;
/// Base64 or hex runs at least this long are decoded and searched.
const RUN: usize = 16;

/// One written form of one value.
struct Form {
    value: usize,
    bytes: Vec<u8>,
    /// A short value's raw form: matched only where it stands whole.
    enclosed: bool,
    /// A short value's hex or Base64 form: matched only where no
    /// neighbouring character continues it.
    standalone: bool,
}

/// The values one call must not hand back, ready to search for.
pub(crate) struct Scrubber {
    names: Vec<Hidden>,
    forms: Vec<Form>,
    automaton: Option<AhoCorasick>,
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

/// Every form `value` may be echoed in.
fn forms_of(value: &[u8]) -> Vec<Vec<u8>> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let b64np = base64::engine::general_purpose::STANDARD_NO_PAD;
    let b64u = base64::engine::general_purpose::URL_SAFE;
    let b64unp = base64::engine::general_purpose::URL_SAFE_NO_PAD;
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
    out.sort();
    out.dedup();
    out.retain(|f| !f.is_empty());
    out
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
    /// A scrubber for `values` (each named), duplicates dropped.
    pub(crate) fn new(values: &[(Hidden, Vec<u8>)]) -> Self {
        let mut names = Vec::new();
        let mut forms = Vec::new();
        let mut seen: Vec<&[u8]> = Vec::new();
        for (name, value) in values {
            if value.is_empty() || seen.contains(&value.as_slice()) {
                continue;
            }
            seen.push(value);
            let index = names.len();
            names.push(name.clone());
            let short = value.len() < SHORT;
            for bytes in forms_of(value) {
                let raw_like = !bytes.iter().all(|b| base64_or_padding(*b)) || bytes == *value;
                forms.push(Form {
                    value: index,
                    enclosed: short && raw_like,
                    standalone: short && !raw_like,
                    bytes,
                });
            }
        }
        let automaton = (!forms.is_empty()).then(|| {
            AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .kind(Some(AhoCorasickKind::NoncontiguousNFA))
                .build(forms.iter().map(|f| &f.bytes[..f.bytes.len().min(WINDOW)]))
                .expect("a few hundred short patterns always build")
        });
        Scrubber {
            names,
            forms,
            automaton,
        }
    }

    /// Whether there is nothing to look for.
    pub(crate) fn is_empty(&self) -> bool {
        self.automaton.is_none()
    }

    /// The ranges of `text` that hold a hidden value, merged, with the
    /// values found.
    fn find(&self, text: &[u8], whole: bool, found: &mut Vec<usize>) -> Vec<(usize, usize)> {
        let Some(automaton) = &self.automaton else {
            return Vec::new();
        };
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        for m in automaton.find_overlapping_iter(text) {
            let form = &self.forms[m.pattern().as_usize()];
            let start = m.start();
            let matched = text[start..]
                .iter()
                .zip(&form.bytes)
                .take_while(|(a, b)| a == b)
                .count();
            if matched < form.bytes.len().min(WINDOW) {
                continue;
            }
            // A form shorter than the window must match whole.
            if form.bytes.len() <= WINDOW && matched < form.bytes.len() {
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

    /// Base64 and hex runs of `text` (with any padding after them) that
    /// decode, at some alignment, to bytes holding a value.
    fn encoded_runs(&self, text: &[u8], found: &mut Vec<usize>) -> Vec<(usize, usize)> {
        let mut hits = Vec::new();
        for run in encoded::runs(text, encoded::base64_char).filter(|r| r.len() >= RUN) {
            let chars = &text[run.clone()];
            let base64 = (0..=3).filter_map(|skip| encoded::decode_base64(&chars[skip..]));
            let hex = chars
                .iter()
                .all(u8::is_ascii_hexdigit)
                .then(|| (0..=1).filter_map(|skip| encoded::decode_hex(&chars[skip..])))
                .into_iter()
                .flatten();
            if base64.chain(hex).any(|bytes| self.holds(&bytes, found)) {
                let padding = text[run.end..]
                    .iter()
                    .take(2)
                    .take_while(|&&b| b == b'=')
                    .count();
                hits.push((run.start, run.end + padding));
            }
        }
        hits
    }

    /// `text` with every hidden value replaced, or `None` when it holds
    /// none; the values found are added to `echoes`, at `place`. `whole`
    /// says `text` is a whole value (a header's, or a whole body), where a
    /// short value standing alone is an echo too.
    pub(crate) fn scrub(
        &self,
        text: &[u8],
        place: &str,
        whole: bool,
        echoes: &mut Echoes,
    ) -> Option<Vec<u8>> {
        self.automaton.as_ref()?;
        let mut found = Vec::new();
        let direct = self.find(text, whole, &mut found);
        let replaced = if direct.is_empty() {
            None
        } else {
            Some(replace(text, &direct))
        };
        let current = replaced.as_deref().unwrap_or(text);
        let runs = self.encoded_runs(current, &mut found);
        let out = if runs.is_empty() {
            replaced
        } else {
            Some(replace(current, &runs))
        };
        for value in found {
            echoes.add(Echo {
                name: self.names[value].clone(),
                place: place.to_owned(),
            });
        }
        out
    }
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
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

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
        clean(b"{\"status\":0,\"msg\":\"Success\",\"orderNo\":\"ATL-OK-1\",\"paymentMethod\":1}");
        clean(b"<Envelope><Body><Id>9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08</Id></Body></Envelope>");
    }
}
