//! Card data never leaves the host unmasked: every text that came from a
//! connector or a supplier passes through here before it is logged,
//! returned or stored.

use std::borrow::Cow;

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
#[derive(Debug, Clone, Default)]
pub struct Masker {
    known: Vec<String>,
    cvvs: Vec<String>,
}

impl Masker {
    /// A masker that also knows the card numbers and CVVs of a request.
    pub fn new(known: Vec<String>, cvvs: Vec<String>) -> Self {
        Masker { known, cvvs }
    }

    /// The text with card data masked.
    pub fn mask<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = mask_digit_runs(text, &self.known);
        for cvv in &self.cvvs {
            if !cvv.is_empty() && out.contains(cvv.as_str()) {
                out = Cow::Owned(replace_standalone(&out, cvv));
            }
        }
        out
    }
}

/// Masks card-like digit runs with no request context.
pub fn mask_text(text: &str) -> Cow<'_, str> {
    mask_digit_runs(text, &[])
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

fn mask_digit_runs<'a>(text: &'a str, known: &[String]) -> Cow<'a, str> {
    // Most text (every log line, every outcome field) holds no run long
    // enough to be a card number: no allocation for it.
    if text
        .chars()
        .filter(|&c| digit(c).is_some())
        .nth(11)
        .is_none()
    {
        return Cow::Borrowed(text);
    }
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out: Option<String> = None;
    let mut copied = 0;
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
            let buf = out.get_or_insert_with(String::new);
            buf.push_str(&text[copied..start]);
            if holds_known && !card_like {
                let mut masked = digits.clone();
                for k in known.iter().filter(|k| k.len() >= 12) {
                    masked = masked.replace(k.as_str(), &mask_pan(k));
                }
                buf.push_str(&masked);
            } else {
                buf.push_str(&mask_pan(&digits));
            }
            copied = end;
        }
        i = end_char.max(i + 1);
    }
    match out {
        Some(mut buf) => {
            buf.push_str(&text[copied..]);
            Cow::Owned(buf)
        }
        None => Cow::Borrowed(text),
    }
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

    #[test]
    fn luhn_check() {
        assert!(luhn("4532015112830366"));
        assert!(luhn("378282246310005"));
        assert!(!luhn("4532015112830367"));
    }
}
