//! Currency codes.

/// Whether `text` has the shape of an ISO 4217 currency code: exactly three
/// ASCII upper-case letters (`"USD"`). The code is not looked up in a table:
/// a well-formed code the host does not know is still well-formed.
///
/// ```
/// use payhost_rules::currency::is_currency_code;
///
/// assert!(is_currency_code("USD"));
/// assert!(!is_currency_code("usd"));
/// ```
pub fn is_currency_code(text: &str) -> bool {
    text.len() == 3 && text.bytes().all(|b| b.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_upper_case_letters() {
        for ok in ["USD", "EUR", "CNY", "RUB", "XXX", "ZZZ"] {
            assert!(is_currency_code(ok), "{ok:?} should be a currency code");
        }
    }

    #[test]
    fn anything_else_is_not() {
        for bad in [
            "", "U", "US", "USDT", "usd", "Usd", "US1", "U D", " USD", "USD ", "ÜSD", "€", "$US",
        ] {
            assert!(
                !is_currency_code(bad),
                "{bad:?} should not be a currency code"
            );
        }
    }
}
