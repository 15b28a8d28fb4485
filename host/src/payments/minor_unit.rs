//! A currency's minor unit, looked up once per code.
//!
//! `iso_currency::Currency::from_code` matches the code against every code
//! ISO 4217 lists, several hundred instructions for each payment; the
//! answer for a code never changes, so it is kept in a table of every
//! three-letter code (26³ bytes, filled as codes are met).

use payhost_rules::currency::is_currency_code;
use std::sync::atomic::{AtomicU8, Ordering};

/// Codes not looked up yet.
const UNKNOWN: u8 = 0;
/// Codes with no minor unit: not listed, or listed without one.
const NONE: u8 = 1;
/// Every three-letter code's answer: [`UNKNOWN`], [`NONE`], or the minor
/// unit plus 2.
static TABLE: [AtomicU8; 26 * 26 * 26] = [const { AtomicU8::new(UNKNOWN) }; 26 * 26 * 26];

/// The number of decimals of `code`'s minor unit, or `None` when ISO 4217
/// lists no such code, or lists it without a minor unit (precious metals,
/// the test and no-currency codes).
pub(crate) fn minor_unit(code: &str) -> Option<u8> {
    let Some(slot) = slot(code) else {
        return lookup(code);
    };
    match TABLE[slot].load(Ordering::Relaxed) {
        UNKNOWN => {
            let found = lookup(code);
            TABLE[slot].store(
                found.map_or(NONE, |m| m.saturating_add(2)),
                Ordering::Relaxed,
            );
            found
        }
        NONE => None,
        known => Some(known - 2),
    }
}

/// Where a code of the shape of a currency code is kept.
fn slot(code: &str) -> Option<usize> {
    if !is_currency_code(code) {
        return None;
    }
    Some(
        code.bytes()
            .fold(0, |slot, letter| slot * 26 + usize::from(letter - b'A')),
    )
}

fn lookup(code: &str) -> Option<u8> {
    iso_currency::Currency::from_code(code)
        .and_then(|c| c.exponent())
        .and_then(|e| u8::try_from(e).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_answers_as_the_list_does() {
        for code in [
            "USD", "JPY", "BHD", "CLF", "XAU", "XXX", "XTS", "QQQ", "ZZZ", "AAA",
        ] {
            let listed = lookup(code);
            // Twice: the first fills the table, the second reads it.
            assert_eq!(minor_unit(code), listed, "{code}, first");
            assert_eq!(minor_unit(code), listed, "{code}, from the table");
        }
        assert_eq!(minor_unit("USD"), Some(2));
        assert_eq!(minor_unit("JPY"), Some(0));
        assert_eq!(minor_unit("BHD"), Some(3));
        assert_eq!(minor_unit("XAU"), None, "gold has no minor unit");
        assert_eq!(minor_unit("QQQ"), None, "not listed");
    }

    #[test]
    fn anything_but_three_upper_case_letters_is_looked_up_whole() {
        for code in ["usd", "US", "USDD", "", "ÜSD"] {
            assert_eq!(minor_unit(code), None, "{code:?}");
        }
    }
}
