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
    let head: String = digits[..6].iter().collect();
    let tail: String = digits[digits.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(digits.len() - 10))
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

/// Masks, in free text, every run of 13 to 19 digits (spaces or dashes
/// between them allowed) that passes the Luhn check, and every exact
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

fn mask_digit_runs<'a>(text: &'a str, known: &[String]) -> Cow<'a, str> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        // A run of digits, allowing single spaces or dashes between them.
        let start = i;
        let mut end = i;
        let mut digits = String::new();
        let mut j = i;
        while j < bytes.len() {
            if bytes[j].is_ascii_digit() {
                digits.push(bytes[j] as char);
                j += 1;
                end = j;
            } else if (bytes[j] == b' ' || bytes[j] == b'-')
                && j + 1 < bytes.len()
                && bytes[j + 1].is_ascii_digit()
                && digits.len() < 19
            {
                j += 1;
            } else {
                break;
            }
        }
        let card_like = (13..=19).contains(&digits.len()) && luhn(&digits);
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
        i = end.max(start + 1);
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
    fn luhn_check() {
        assert!(luhn("4532015112830366"));
        assert!(luhn("378282246310005"));
        assert!(!luhn("4532015112830367"));
    }
}
