//! Money amounts: plain decimal strings, never floats.
//!
//! The contract's `money.amount` is digits, optionally a `.` and more digits
//! (`"312.99"`, `"59805"`, `"0.50"`): no sign, no exponent, no thousands
//! separator, no leading or trailing `.`.

/// The most digits before the `.`: enough for any real amount, and small
/// enough that the integer part always fits an `i64` or a `u64`.
pub const MAX_INTEGER_DIGITS: usize = 18;

/// The most digits after the `.`.
pub const MAX_FRACTION_DIGITS: usize = 8;

/// Whether `text` is a plain decimal: 1 to [`MAX_INTEGER_DIGITS`] ASCII
/// digits, optionally followed by a `.` and 1 to [`MAX_FRACTION_DIGITS`]
/// ASCII digits.
///
/// ```
/// use payhost_rules::amount::is_plain_decimal;
///
/// assert!(is_plain_decimal("312.99"));
/// assert!(is_plain_decimal("0.50"));
/// assert!(!is_plain_decimal("312,99"));
/// assert!(!is_plain_decimal("-1"));
/// ```
pub fn is_plain_decimal(text: &str) -> bool {
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (text, None),
    };
    is_digits(int, MAX_INTEGER_DIGITS) && frac.is_none_or(|f| is_digits(f, MAX_FRACTION_DIGITS))
}

/// Whether `text` is 1 to `max` ASCII digits.
fn is_digits(text: &str, max: usize) -> bool {
    (1..=max).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_decimals() {
        for ok in ["0", "1", "312.99", "59805", "0.50", "00.0", "1.00000000"] {
            assert!(is_plain_decimal(ok), "{ok:?} should be a plain decimal");
        }
    }

    #[test]
    fn integer_digits_are_capped_at_18() {
        let eighteen = "9".repeat(MAX_INTEGER_DIGITS);
        let nineteen = "9".repeat(MAX_INTEGER_DIGITS + 1);
        assert!(is_plain_decimal(&eighteen));
        assert!(is_plain_decimal(&format!("{eighteen}.5")));
        assert!(!is_plain_decimal(&nineteen));
        assert!(!is_plain_decimal(&format!("{nineteen}.5")));
    }

    #[test]
    fn fraction_digits_are_capped_at_8() {
        let eight = "1".repeat(MAX_FRACTION_DIGITS);
        let nine = "1".repeat(MAX_FRACTION_DIGITS + 1);
        assert!(is_plain_decimal(&format!("0.{eight}")));
        assert!(!is_plain_decimal(&format!("0.{nine}")));
    }

    #[test]
    fn not_plain_decimals() {
        for bad in [
            "", ".", "1.", ".5", "-1", "+1", "1e3", "1E3", "312,99", "1,000.00", "1.2.3", " 1",
            "1 ", "1_000", "0x10", "NaN", "inf", "١٢", "1..2",
        ] {
            assert!(
                !is_plain_decimal(bad),
                "{bad:?} should not be a plain decimal"
            );
        }
    }
}
