//! What text a request may carry: no control characters and no
//! bidirectional overrides, which can forge what an operator reads in a
//! terminal or a log, or smuggle a separator into a supplier's request.

/// The first character of `text` that a request string may not hold: a C0
/// control (U+0000 to U+001F), DEL, a C1 control (U+0080 to U+009F), or a
/// bidirectional formatting character (U+061C, U+200E, U+200F, U+202A to
/// U+202E, U+2066 to U+2069).
///
/// ```
/// use payhost_rules::text::forbidden_char;
/// assert_eq!(forbidden_char("ATL-OK-1"), None);
/// assert_eq!(forbidden_char("a\u{1}b"), Some('\u{1}'));
/// assert_eq!(forbidden_char("a\u{202e}b"), Some('\u{202e}'));
/// ```
pub fn forbidden_char(text: &str) -> Option<char> {
    text.chars().find(|&c| forbidden(c))
}

fn forbidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// `text` with every character [`forbidden_char`] would find written as
/// `\u{XXXX}`, so that text from a connector or a supplier cannot move the
/// cursor, colour a terminal, start a new log line or reorder what is
/// shown. Borrowed when there is nothing to escape.
///
/// ```
/// use payhost_rules::text::escape;
/// assert_eq!(escape("ok"), "ok");
/// assert_eq!(escape("a\nstate succeeded"), "a\\u{a}state succeeded");
/// assert_eq!(escape("\u{1b}[2K"), "\\u{1b}[2K");
/// ```
pub fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(forbidden) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if forbidden(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_overrides_are_found_and_the_rest_passes() {
        for ok in ["", "ATL-OK-1", "Zoë Ünal", "东方航空", "a b\u{a0}c", "€12"] {
            assert_eq!(forbidden_char(ok), None, "{ok:?}");
        }
        for (bad, c) in [
            ("a\nb", '\n'),
            ("\u{0}", '\u{0}'),
            ("x\u{7f}", '\u{7f}'),
            ("\u{85}", '\u{85}'),
            ("\u{1b}[31m", '\u{1b}'),
            ("a\u{202e}b", '\u{202e}'),
            ("\u{2066}", '\u{2066}'),
            ("\u{200f}", '\u{200f}'),
        ] {
            assert_eq!(forbidden_char(bad), Some(c), "{bad:?}");
        }
    }
}
