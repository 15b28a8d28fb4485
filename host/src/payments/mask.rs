//! Card data never leaves the host unmasked: every text that came from a
//! connector or a supplier passes through here before it is logged,
//! returned or stored.

use super::cores::{Cores, Run};
use super::encoded::{
    base64_char, decode_base64_into, decode_hex, decode_percent, long_runs, percent_runs,
};
use std::borrow::Cow;
use std::ops::Range;
use std::sync::OnceLock;

/// A card number as the host shows it: first 6 and last 4 digits.
pub fn mask_pan(number: &str) -> String {
    let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 12 {
        return "*".repeat(digits.len());
    }
    // First six and last four, but never fewer than six digits hidden: a
    // 12-digit number shows its first two.
    let hidden = (digits.len() - 10).max(6);
    let shown_head = digits.len() - 4 - hidden;
    let head: String = digits[..shown_head].iter().collect();
    let tail: String = digits[digits.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(hidden))
}

/// Whether `digits` passes the Luhn check.
pub fn luhn(digits: &str) -> bool {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let d2 = d * 2;
                if d2 > 9 { d2 - 9 } else { d2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Masks, in free text, every run of 12 to 19 digits that passes the Luhn
/// check — digits of any script (fullwidth, Arabic-Indic …), with up to
/// three separators (spaces of any width, dashes, dots, slashes,
/// underscores) between groups — and every exact
/// occurrence of the `known` card numbers, and replaces every standalone
/// occurrence of the `cvvs` with `***`.
///
/// A card number written encoded is masked too: a maximal run of Base64
/// (standard or URL-safe, padded or not), hex (either case) or
/// percent-escaped characters whose decoding holds a card number is
/// replaced, as a whole, by the masked number(s) in plain text, and one
/// whose decoding holds a known CVV standalone is replaced by `***`.
#[derive(Clone, Default)]
pub struct Masker {
    known: Vec<String>,
    cvvs: Vec<String>,
    /// The CVVs' cores, found the first time a run short of a card
    /// number is met, for every text this masker masks (boxed: they are
    /// over a kilobyte, and a masker is moved with its call's state).
    cvv_cores: OnceLock<Box<Cores>>,
}

/// How many card numbers and CVVs it knows, never which.
impl std::fmt::Debug for Masker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Masker")
            .field("known", &self.known.len())
            .field("cvvs", &self.cvvs.len())
            .finish_non_exhaustive()
    }
}

impl Masker {
    /// A masker that also knows the card numbers and CVVs of a request.
    pub fn new(known: Vec<String>, cvvs: Vec<String>) -> Self {
        Masker {
            known,
            cvvs,
            cvv_cores: OnceLock::new(),
        }
    }

    /// The text with card data masked.
    pub fn mask<'a>(&self, text: &'a str) -> Cow<'a, str> {
        mask(text, &self.known, &self.cvvs, &self.cvv_cores)
    }
}

/// Masks card-like digit runs, plain or encoded, with no request context.
pub fn mask_text(text: &str) -> Cow<'_, str> {
    mask(text, &[], &[], &OnceLock::new())
}

fn mask<'a>(
    text: &'a str,
    known: &[String],
    cvvs: &[String],
    cvv_cores: &OnceLock<Box<Cores>>,
) -> Cow<'a, str> {
    let mut out = Cow::Borrowed(text);
    if let Some(masked) = mask_encoded_runs(&out, known, cvvs, cvv_cores) {
        out = Cow::Owned(masked);
    }
    if let Some(masked) = mask_digit_runs(&out, known) {
        out = Cow::Owned(masked);
    }
    for cvv in cvvs {
        if !cvv.is_empty() && out.contains(cvv.as_str()) {
            out = Cow::Owned(replace_standalone(&out, cvv));
        }
    }
    out
}

/// The first code point of every run of ten decimal digits in Unicode
/// (ASCII, Arabic-Indic, Devanagari, … fullwidth, mathematical): a card
/// number written in any of them is still a card number.
const DIGIT_ZEROS: [u32; 46] = [
    0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66,
    0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
    0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
    0x104A0, 0x11066, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E950, 0x1FBF0,
];

/// The value of a decimal digit in any script.
fn digit(c: char) -> Option<u8> {
    if c.is_ascii() {
        return c.is_ascii_digit().then(|| c as u8 - b'0');
    }
    let c = u32::from(c);
    DIGIT_ZEROS
        .iter()
        .find(|&&zero| (zero..zero + 10).contains(&c))
        .map(|zero| (c - zero) as u8)
}

/// What people and systems put between a card number's groups.
fn separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '-' | '.' | '/' | '_' | '\u{a0}' | '\u{2002}'..='\u{200a}' | '\u{2010}'..='\u{2015}'
            | '\u{202f}' | '\u{3000}' | '\u{ff0d}'
    )
}

/// The most separators in a row that still join two groups of digits.
const MAX_SEPARATORS: usize = 3;

/// A card number found in a text: where it stands and how it is shown.
struct Card {
    at: Range<usize>,
    masked: String,
}

/// Every card-like digit run of `text` and every run holding one of the
/// `known` numbers, in order.
fn find_cards(text: &str, known: &[String]) -> Vec<Card> {
    // Most text (every log line, every outcome field) holds no run long
    // enough to be a card number: no allocation for it.
    if text
        .chars()
        .filter(|&c| digit(c).is_some())
        .nth(11)
        .is_none()
    {
        return Vec::new();
    }
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut cards = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if digit(chars[i].1).is_none() {
            i += 1;
            continue;
        }
        // A run of digits (in any script), allowing up to three separators
        // between groups.
        let start = chars[i].0;
        let mut end_char = i;
        let mut digits = String::new();
        let mut j = i;
        while j < chars.len() {
            if let Some(d) = digit(chars[j].1) {
                digits.push(char::from(b'0' + d));
                j += 1;
                end_char = j;
                continue;
            }
            let mut k = j;
            while k < chars.len() && separator(chars[k].1) && k - j < MAX_SEPARATORS {
                k += 1;
            }
            if k > j && k < chars.len() && digit(chars[k].1).is_some() && digits.len() < 19 {
                j = k;
            } else {
                break;
            }
        }
        let end = chars.get(end_char).map_or(text.len(), |(b, _)| *b);
        let card_like = (12..=19).contains(&digits.len()) && luhn(&digits);
        let holds_known = known
            .iter()
            .any(|k| k.len() >= 12 && digits.contains(k.as_str()));
        if card_like || holds_known {
            let masked = if holds_known && !card_like {
                let mut masked = digits.clone();
                for k in known.iter().filter(|k| k.len() >= 12) {
                    masked = masked.replace(k.as_str(), &mask_pan(k));
                }
                masked
            } else {
                mask_pan(&digits)
            };
            cards.push(Card {
                at: start..end,
                masked,
            });
        }
        i = end_char.max(i + 1);
    }
    cards
}

/// Whether `text` holds a card number of its own: a card-like run (the
/// masker's rule) with no letter or digit right beside it, or one written
/// in an encoded run. A run inside a longer token (the digits of a UUID or
/// a hex digest, joined across its dashes) is not one: the masker still
/// masks it where it is shown, but a request is not refused for it.
pub(crate) fn holds_card(text: &str) -> bool {
    mask_encoded_runs(text, &[], &[], &OnceLock::new()).is_some()
        || find_cards(text, &[]).iter().any(|card| {
            let before = text[..card.at.start].chars().next_back();
            let after = text[card.at.end..].chars().next();
            !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
        })
}

/// The text with its plain card numbers masked, or `None` if it holds none.
fn mask_digit_runs(text: &str, known: &[String]) -> Option<String> {
    let cards = find_cards(text, known);
    if cards.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for card in cards {
        out.push_str(&text[copied..card.at.start]);
        out.push_str(&card.masked);
        copied = card.at.end;
    }
    out.push_str(&text[copied..]);
    Some(out)
}

/// Whether `needle` (not empty) occurs in `bytes` with no ASCII digit
/// right before or after it.
fn holds_standalone(bytes: &[u8], needle: &[u8]) -> bool {
    bytes.windows(needle.len()).enumerate().any(|(i, window)| {
        window == needle
            && !(i > 0 && bytes[i - 1].is_ascii_digit())
            && !bytes.get(i + needle.len()).is_some_and(u8::is_ascii_digit)
    })
}

/// What a run's decodings hold, as they are read one alignment at a time
/// into one buffer: the masked card numbers of the first that holds any,
/// and whether one held a known CVV standalone.
#[derive(Default)]
struct Held {
    cards: Option<String>,
    cvv: bool,
}

impl Held {
    /// Reads one decoding; `true` once it held card numbers (the later
    /// alignments need not be read).
    fn read(&mut self, bytes: &[u8], known: &[String], cvvs: &[String]) -> bool {
        // A card number is twelve digits or more, each an ASCII digit or
        // a character of bytes past ASCII: bytes with fewer hold none, and
        // are not made text to be looked through.
        if bytes
            .iter()
            .filter(|&&b| b.is_ascii_digit() || b >= 0x80)
            .nth(11)
            .is_some()
        {
            let cards = find_cards(&String::from_utf8_lossy(bytes), known);
            if !cards.is_empty() {
                let masked: Vec<String> = cards.into_iter().map(|card| card.masked).collect();
                self.cards = Some(masked.join(" "));
                return true;
            }
        }
        self.cvv = self.cvv
            || cvvs
                .iter()
                .any(|cvv| !cvv.is_empty() && holds_standalone(bytes, cvv.as_bytes()));
        false
    }

    /// What replaces the run: the masked card numbers, else `***` if a
    /// decoding held a known CVV standalone, else nothing (the run stays
    /// as it is).
    fn replacement(self) -> Option<String> {
        self.cards.or_else(|| self.cvv.then(|| "***".to_owned()))
    }
}

/// The fewest digits of a card number.
const CARD_DIGITS: usize = 12;
/// The fewest Base64 characters that decode to a card number's digits.
const CARD_IN_BASE64: usize = (4 * CARD_DIGITS).div_ceil(3);

/// The text with every Base64, hex or percent-escaped run that holds card
/// data replaced (see [`Masker`]), or `None` if it holds none.
///
/// Only runs long enough to encode a secret are decoded: 12 digits (a
/// card number's fewest) are 16 Base64, 24 hex or 36 percent-escaped
/// characters; a masker that knows CVVs also decodes a shorter run long
/// enough for the shortest of them, when it shows a CVV's core. Text
/// without such a run allocates nothing here.
fn mask_encoded_runs(
    text: &str,
    known: &[String],
    cvvs: &[String],
    cvv_cores: &OnceLock<Box<Cores>>,
) -> Option<String> {
    let bytes = text.as_bytes();
    let fewest = cvvs
        .iter()
        .map(String::len)
        .filter(|&len| len > 0)
        .min()
        .map_or(12, |len| len.clamp(3, 12));
    // Byte ranges (all on ASCII characters, so on char boundaries) and what
    // replaces them.
    let mut found: Vec<(Range<usize>, String)> = Vec::new();
    let mut buffer = Vec::new();
    // A run too short to hold a card number may hold only a known CVV: it
    // is decoded only if it shows one's core.
    let may_hold_cvv = |chars: &[u8], written: Run| {
        cvv_cores
            .get_or_init(|| Box::new(Cores::of(cvvs.iter().map(|cvv| cvv.as_bytes()))))
            .shown_in(chars, written)
    };
    for run in long_runs(bytes, base64_char, (4 * fewest).div_ceil(3)) {
        if run.len() < CARD_IN_BASE64 && !may_hold_cvv(&bytes[run.clone()], Run::Base64) {
            continue;
        }
        // The run may be part of a longer token, or start mid-group: every
        // alignment is tried, by dropping up to three leading characters.
        let chars = &bytes[run.clone()];
        let mut held = Held::default();
        for skip in 0..=3 {
            if decode_base64_into(&chars[skip..], &mut buffer) && held.read(&buffer, known, cvvs) {
                break;
            }
        }
        if let Some(shown) = held.replacement() {
            let padding = bytes[run.end..]
                .iter()
                .take(2)
                .take_while(|&&b| b == b'=')
                .count();
            found.push((run.start..run.end + padding, shown));
        }
    }
    for run in long_runs(bytes, |b| b.is_ascii_hexdigit(), 2 * fewest) {
        if run.len() < 2 * CARD_DIGITS && !may_hold_cvv(&bytes[run.clone()], Run::Hex) {
            continue;
        }
        let chars = &bytes[run.clone()];
        let mut held = Held::default();
        for skip in 0..=1 {
            if let Some(bytes) = decode_hex(&chars[skip..])
                && held.read(&bytes, known, cvvs)
            {
                break;
            }
        }
        if let Some(shown) = held.replacement() {
            found.push((run, shown));
        }
    }
    for run in percent_runs(bytes) {
        if run.len() < 3 * fewest {
            continue;
        }
        let mut held = Held::default();
        if let Some(decoded) = decode_percent(&bytes[run.clone()]) {
            held.read(&decoded, known, cvvs);
        }
        if let Some(shown) = held.replacement() {
            found.push((run, shown));
        }
    }
    if found.is_empty() {
        return None;
    }
    // A hex run lies within a Base64 run: where runs overlap, their union
    // is replaced, showing each distinct masked number once, and `***` only
    // if it shows none.
    found.sort_by_key(|(at, _)| at.start);
    let mut merged: Vec<(Range<usize>, String)> = Vec::with_capacity(found.len());
    for (at, shown) in found {
        match merged.last_mut() {
            Some((last, last_shown)) if at.start < last.end => {
                last.end = last.end.max(at.end);
                if last_shown == "***" {
                    *last_shown = shown;
                } else if shown != "***" && !last_shown.split(' ').any(|s| s == shown) {
                    last_shown.push(' ');
                    last_shown.push_str(&shown);
                }
            }
            _ => merged.push((at, shown)),
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (at, shown) in merged {
        out.push_str(&text[copied..at.start]);
        out.push_str(&shown);
        copied = at.end;
    }
    out.push_str(&text[copied..]);
    Some(out)
}

fn replace_standalone(text: &str, needle: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find(needle) {
        let before = rest[..pos].chars().next_back();
        let after = rest[pos + needle.len()..].chars().next();
        let standalone = !before.is_some_and(|c| c.is_ascii_digit())
            && !after.is_some_and(|c| c.is_ascii_digit());
        out.push_str(&rest[..pos]);
        out.push_str(if standalone { "***" } else { needle });
        rest = &rest[pos + needle.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    #[test]
    fn masks_card_numbers_in_text() {
        assert_eq!(mask_pan("4532015112830366"), "453201******0366");
        assert_eq!(
            mask_text("card 4532015112830366 ok"),
            "card 453201******0366 ok"
        );
        assert_eq!(
            mask_text("card 4532 0151 1283 0366."),
            "card 453201******0366."
        );
        assert_eq!(
            mask_text("ts 1700000000000 id 12345"),
            "ts 1700000000000 id 12345"
        );
        let m = Masker::new(vec!["4111111111111112".into()], vec!["737".into()]);
        assert_eq!(
            m.mask("n=4111111111111112 cvv 737 x7370"),
            "n=411111******1112 cvv *** x7370"
        );
    }

    /// A masker printed for debugging (its CVV cores found) says how much
    /// it knows, never what.
    #[test]
    fn a_masker_debug_shows_no_card_data() {
        let m = Masker::new(vec!["4111111111111112".into()], vec!["737".into()]);
        // A Base64 run too short for a card number: the CVV's cores are found.
        assert_eq!(m.mask("token NzM3"), "token ***");
        let shown = format!("{m:?}");
        assert!(!shown.contains("4111") && !shown.contains("737"), "{shown}");
        assert!(shown.contains("known: 1"), "{shown}");
    }

    #[test]
    fn masks_card_numbers_however_written() {
        for written in [
            "4532.0151.1283.0366",
            "4532  0151  1283  0366",
            "4532/0151/1283/0366",
            "4532\u{a0}0151\u{2009}1283\u{202f}0366",
            "\u{ff14}\u{ff15}\u{ff13}\u{ff12}\u{ff10}\u{ff11}\u{ff15}\u{ff11}\u{ff11}\u{ff12}\u{ff18}\u{ff13}\u{ff10}\u{ff13}\u{ff16}\u{ff16}",
            "\u{664}\u{665}\u{663}\u{662}\u{660}\u{661}\u{665}\u{661}\u{661}\u{662}\u{668}\u{663}\u{660}\u{663}\u{666}\u{666}",
            "4532 - 0151 - 1283 - 0366",
        ] {
            let text = format!("card {written} ok");
            assert_eq!(mask_text(&text), "card 453201******0366 ok", "{written:?}");
        }
        // Twelve digits that pass the Luhn check: at least six stay hidden.
        assert_eq!(mask_text("n 123456789015 x"), "n 12******9015 x");
        // Known numbers in another script.
        let m = Masker::new(vec!["4111111111111112".into()], vec![]);
        assert_eq!(m.mask("n \u{ff14}111 1111 1111 1112"), "n 411111******1112");
    }

    const PAN: &str = "4532015112830366";
    const MASKED: &str = "453201******0366";

    fn std_b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    #[test]
    fn masks_card_numbers_in_base64() {
        // Standard alphabet, padded and not.
        let padded = std_b64(PAN.as_bytes());
        assert_eq!(padded, "NDUzMjAxNTExMjgzMDM2Ng==");
        assert_eq!(
            mask_text(&format!("b {padded} ok")),
            format!("b {MASKED} ok")
        );
        let bare = base64::engine::general_purpose::STANDARD_NO_PAD.encode(PAN);
        assert_eq!(mask_text(&format!("b {bare} ok")), format!("b {MASKED} ok"));
        // The number inside JSON, in both alphabets: this JSON's encoding
        // holds '/' and '+' (standard) or '_' and '-' (URL-safe).
        let json = format!(r#"{{"pan":"{PAN}","note":"???>>>"}}"#);
        let standard = std_b64(json.as_bytes());
        assert!(standard.contains('/') && standard.contains('+'));
        assert_eq!(
            mask_text(&format!("body={standard}")),
            format!("body={MASKED}")
        );
        let url_safe = base64::engine::general_purpose::URL_SAFE.encode(&json);
        assert!(url_safe.contains('_') && url_safe.contains('-'));
        assert_eq!(
            mask_text(&format!("body={url_safe}.")),
            format!("body={MASKED}.")
        );
        let url_safe = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&json);
        assert_eq!(mask_text(&url_safe), MASKED);
        // Two numbers in one run: both shown masked.
        let two = std_b64(format!("[{PAN},4111111111111111]").as_bytes());
        assert_eq!(mask_text(&two), format!("{MASKED} 411111******1111"));
    }

    #[test]
    fn masks_card_numbers_in_misaligned_base64() {
        let json = std_b64(format!(r#"{{"id":"ATL-OK-1","pan":"{PAN}"}}"#).as_bytes());
        // Glued to a longer token, or cut mid-group: every alignment.
        for token in [
            format!("x{json}"),
            format!("xy{json}"),
            format!("xyz{json}"),
            format!("tok_{json}"),
            json[1..].to_owned(),
            json[2..].to_owned(),
            json[3..].to_owned(),
        ] {
            assert_eq!(
                mask_text(&format!("t: {token} end")),
                format!("t: {MASKED} end"),
                "{token}"
            );
        }
    }

    #[test]
    fn masks_card_numbers_in_hex() {
        assert_eq!(hex::encode(PAN), "34353332303135313132383330333636");
        assert_eq!(
            mask_text(&format!("h {} ok", hex::encode(PAN))),
            format!("h {MASKED} ok")
        );
        let json = format!(r#"{{"pan":"{PAN}"}}"#);
        let lower = hex::encode(&json);
        let upper = hex::encode_upper(&json);
        assert!(lower.contains('a') && upper.contains('A'));
        assert_eq!(mask_text(&format!("h={lower};")), format!("h={MASKED};"));
        assert_eq!(mask_text(&format!("h={upper};")), format!("h={MASKED};"));
        // Starting mid-byte, after a stray hex character.
        assert_eq!(mask_text(&format!("h=f{lower};")), format!("h={MASKED};"));
        // A known number that fails the Luhn check.
        let m = Masker::new(vec!["4111111111111112".into()], vec![]);
        assert_eq!(m.mask(&hex::encode("4111111111111112")), "411111******1112");
    }

    #[test]
    fn masks_card_numbers_percent_encoded() {
        let escaped: String = PAN.bytes().map(|b| format!("%{b:02X}")).collect();
        assert_eq!(escaped, "%34%35%33%32%30%31%35%31%31%32%38%33%30%33%36%36");
        assert_eq!(
            mask_text(&format!("?pan={escaped}&x=1")),
            format!("?pan={MASKED}&x=1")
        );
        // Escaped separators, in either case.
        let spaced = "%34%35%33%32%2d%30%31%35%31%2D%31%32%38%33%20%30%33%36%36";
        assert_eq!(mask_text(&format!("q={spaced}")), format!("q={MASKED}"));
    }

    #[test]
    fn masks_known_cvvs_in_base64_and_hex() {
        let m = Masker::new(vec![], vec!["737".into()]);
        let json = std_b64(br#"{"cvv":"737"}"#);
        assert_eq!(json, "eyJjdnYiOiI3MzcifQ==");
        assert_eq!(m.mask(&format!("b {json} ok")), "b *** ok");
        assert_eq!(m.mask("b NzM3 ok"), "b *** ok");
        assert_eq!(
            m.mask(&format!("h {} ok", hex::encode("cvv=737;"))),
            "h *** ok"
        );
        assert_eq!(m.mask("p %37%33%37 ok"), "p *** ok");
        // Not standalone: part of a longer number.
        for longer in [br#"{"n":"7370"}"#, br#"{"n":"1737"}"#] {
            let longer = std_b64(longer);
            assert_eq!(m.mask(&longer), longer);
        }
        // Unknown to the masker: left alone.
        assert_eq!(mask_text(&json), json);
        // A number and a CVV in one run: the run shows the masked number.
        let both = std_b64(format!(r#"{{"pan":"{PAN}","cvv":"737"}}"#).as_bytes());
        assert_eq!(m.mask(&both), MASKED);
        // A hex run holding the number inside a Base64 run holding the CVV:
        // the union is replaced, once.
        let glued = format!("{}{json}", hex::encode(PAN));
        assert_eq!(m.mask(&format!("g {glued} ok")), format!("g {MASKED} ok"));
    }

    #[test]
    fn leaves_ordinary_text_alone() {
        use sha2::{Digest, Sha256};
        let digest = hex::encode(Sha256::digest(b"ATL-OK-1"));
        let digest_upper = digest.to_uppercase();
        let token = std_b64(&Sha256::digest(b"session 42"));
        let token_url =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(b"session 43"));
        let json =
            std_b64(br#"{"order":"ATL-OK-1","amount":"312.99","at":"2024-05-01T12:34:56Z"}"#);
        let m = Masker::new(vec!["4111111111111112".into()], vec!["737".into()]);
        for text in [
            "order ATL-OK-1 paid 312.99 EUR",
            "at 2024-05-01T12:34:56.789Z",
            "at 2024-05-01T12:34:56+02:00",
            "id 123e4567-e89b-12d3-a456-426614174000",
            "/var/lib/payhost/connectors/atlas-js/component.wasm",
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
            "q=ATL%2DOK%2D1&amount=312%2E99",
            &format!("sha256 {digest}"),
            &format!("sha256 {digest_upper}"),
            &format!("token {token}"),
            &format!("token {token_url}"),
            &format!("body {json}"),
        ] {
            assert!(matches!(mask_text(text), Cow::Borrowed(_)), "{text}");
            assert!(matches!(m.mask(text), Cow::Borrowed(_)), "{text}");
        }
    }

    #[test]
    fn luhn_check() {
        assert!(luhn("4532015112830366"));
        assert!(luhn("378282246310005"));
        assert!(!luhn("4532015112830367"));
    }
}
