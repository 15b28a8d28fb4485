//! Payments as the host, its CLI and its API see them (`contract::convert`
//! turns them into the contract's types at the sandbox wall).
//!
//! Money is a decimal string, never a float. A card's number and CVV never
//! print: `Debug` masks the number and hides the CVV, and nothing here
//! serializes a card.

use crate::payments::card_secret::CardSecret;
use crate::payments::mask::{holds_card, luhn, mask_pan};
use payhost_rules::{amount, currency, text};

pub use payhost_rules::{ErrorKind, State as PaymentState};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// An amount of money: a plain decimal string and an ISO 4217 code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    /// Digits with at most one `.` (`"312.99"`).
    pub amount: String,
    /// Three upper-case letters (`"USD"`).
    pub currency: String,
}

impl Money {
    /// Checks and builds an amount.
    pub fn parse(amount: &str, currency: &str) -> Result<Money, RequestError> {
        let money = Money {
            amount: amount.trim().to_owned(),
            currency: currency.trim().to_owned(),
        };
        money.check()?;
        Ok(money)
    }

    fn check(&self) -> Result<(), RequestError> {
        if !amount::is_plain_decimal(&self.amount) {
            return Err(RequestError::new(
                "the amount is not a plain decimal: write digits with an optional `.` and fraction, like 312.99",
            ));
        }
        if !currency::is_currency_code(&self.currency) {
            return Err(RequestError::new(
                "the currency is not an ISO 4217 code: write three upper-case letters, like USD",
            ));
        }
        Ok(())
    }
}

impl Money {
    /// What a payment may ask for: above zero, in a currency payments are
    /// made in, with no more decimals than its minor unit. (An amount a
    /// supplier reports is only checked by [`Money::check`]'s form.)
    fn check_payable(&self) -> Result<(), RequestError> {
        // A currency money is paid in: its minor unit bounds the decimals.
        let Some(minor) = crate::payments::minor_unit::minor_unit(&self.currency).map(usize::from)
        else {
            return Err(RequestError::new(
                "the currency is not one payments are made in: ISO 4217 lists no such code, or lists it without a minor unit (precious metals, the test and no-currency codes)",
            ));
        };
        let (whole, fraction) = self
            .amount
            .split_once('.')
            .unwrap_or((self.amount.as_str(), ""));
        if whole.bytes().chain(fraction.bytes()).all(|b| b == b'0') {
            return Err(RequestError::new("the amount must be above zero"));
        }
        if fraction.trim_end_matches('0').len() > minor {
            return Err(RequestError::new(format!(
                "the amount has more decimals than its currency's minor unit ({minor})"
            )));
        }
        Ok(())
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

/// A card holder's billing address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BillingAddress {
    /// Street and number.
    pub street: String,
    /// City.
    pub city: String,
    /// State or province code.
    #[serde(default)]
    pub region: Option<String>,
    /// Postal code.
    #[serde(default)]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
}

/// A payment card, as read from a card file or an API request.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Card {
    /// The card number; spaces and dashes are removed.
    pub number: CardSecret,
    /// Expiry month, 1 to 12.
    pub expiry_month: u8,
    /// Expiry year, four digits.
    pub expiry_year: u16,
    /// The CVV, if given. Never stored.
    #[serde(default)]
    pub cvv: Option<CardSecret>,
    /// Holder's first name.
    pub holder_first_name: String,
    /// Holder's last name.
    pub holder_last_name: String,
    /// Billing address.
    #[serde(default)]
    pub billing_address: Option<BillingAddress>,
    /// Multi-use card.
    #[serde(default)]
    pub reusable: bool,
}

impl fmt::Debug for Card {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Card")
            .field("number", &self.masked_number())
            .field(
                "expiry",
                &format_args!("{:02}/{}", self.expiry_month, self.expiry_year),
            )
            .field("cvv", &self.cvv.as_ref().map(|_| "***"))
            .finish_non_exhaustive()
    }
}

/// A card's brand, from its number's prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CardBrand {
    /// Visa (4).
    Visa,
    /// Mastercard (51-55, 2221-2720).
    Mastercard,
    /// American Express (34, 37).
    Amex,
    /// Discover (6011, 644-649, 65).
    Discover,
    /// JCB (3528-3589).
    Jcb,
    /// UnionPay (62).
    UnionPay,
    /// Diners Club (300-305, 36, 38, 39).
    Diners,
    /// Mir (2200-2204).
    Mir,
    /// Any other prefix.
    Other,
}

impl Card {
    /// The number as shown anywhere: first 6 and last 4 digits.
    pub fn masked_number(&self) -> String {
        mask_pan(self.number.expose())
    }

    /// The number's first six digits (all of it, if shorter).
    pub fn first_six(&self) -> &str {
        let number = self.number.expose();
        &number[..number.len().min(6)]
    }

    /// The number's last four digits (all of it, if shorter).
    pub fn last_four(&self) -> &str {
        let number = self.number.expose();
        &number[number.len().saturating_sub(4)..]
    }

    /// The brand, from the number's prefix.
    pub fn brand(&self) -> CardBrand {
        let prefix = |n: usize| -> u32 {
            self.number
                .expose()
                .get(..n)
                .and_then(|p| p.parse().ok())
                .unwrap_or(0)
        };
        let (p1, p2, p3, p4) = (prefix(1), prefix(2), prefix(3), prefix(4));
        match () {
            _ if p1 == 4 => CardBrand::Visa,
            _ if (51..=55).contains(&p2) || (2221..=2720).contains(&p4) => CardBrand::Mastercard,
            _ if p2 == 34 || p2 == 37 => CardBrand::Amex,
            _ if (2200..=2204).contains(&p4) => CardBrand::Mir,
            _ if p4 == 6011 || (644..=649).contains(&p3) || p2 == 65 => CardBrand::Discover,
            _ if (3528..=3589).contains(&p4) => CardBrand::Jcb,
            _ if p2 == 62 => CardBrand::UnionPay,
            _ if (300..=305).contains(&p3) || matches!(p2, 36 | 38 | 39) => CardBrand::Diners,
            _ => CardBrand::Other,
        }
    }

    fn normalize(&mut self) {
        self.number = self.number.without(|c| c == ' ' || c == '-');
        if let Some(cvv) = &mut self.cvv {
            *cvv = cvv.expose().trim().into();
        }
    }

    fn check(&self, today: (u16, u8)) -> Result<(), RequestError> {
        let digits = self.number.expose().len();
        if !(12..=19).contains(&digits) || !luhn(self.number.expose()) {
            return Err(RequestError::new(
                "the card number is not valid: it must be 12 to 19 digits and pass the Luhn check",
            ));
        }
        if !(1..=12).contains(&self.expiry_month) || !(2000..=2100).contains(&self.expiry_year) {
            return Err(RequestError::new(
                "the card expiry is not valid: month 1-12 and a four-digit year",
            ));
        }
        if (self.expiry_year, self.expiry_month) < today {
            return Err(RequestError::new("the card has expired"));
        }
        if let Some(cvv) = &self.cvv
            && !((3..=4).contains(&cvv.expose().len())
                && cvv.expose().bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(RequestError::new("the CVV must be 3 or 4 digits"));
        }
        if self.holder_first_name.trim().is_empty() || self.holder_last_name.trim().is_empty() {
            return Err(RequestError::new(
                "the card holder's first and last name are required",
            ));
        }
        Ok(())
    }
}

/// How an order is paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentMethod {
    /// From the platform's balance or deposit with the supplier.
    Balance,
    /// A card the supplier charges (virtual card passthrough).
    Card(Card),
    /// The traveller's card, the supplier acting as merchant of record.
    MerchantOfRecord(Card),
    /// An account the supplier keeps, by its code.
    Account(String),
}

impl PaymentMethod {
    /// The method's kind.
    pub fn kind(&self) -> MethodKind {
        match self {
            PaymentMethod::Balance => MethodKind::Balance,
            PaymentMethod::Card(_) => MethodKind::Card,
            PaymentMethod::MerchantOfRecord(_) => MethodKind::MerchantOfRecord,
            PaymentMethod::Account(_) => MethodKind::Account,
        }
    }

    /// The card, for the methods that carry one.
    pub fn card(&self) -> Option<&Card> {
        match self {
            PaymentMethod::Card(c) | PaymentMethod::MerchantOfRecord(c) => Some(c),
            _ => None,
        }
    }
}

/// A payment method's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MethodKind {
    /// See [`PaymentMethod::Balance`].
    Balance,
    /// See [`PaymentMethod::Card`].
    Card,
    /// See [`PaymentMethod::MerchantOfRecord`].
    MerchantOfRecord,
    /// See [`PaymentMethod::Account`].
    Account,
}

impl fmt::Display for MethodKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MethodKind::Balance => "balance",
            MethodKind::Card => "card",
            MethodKind::MerchantOfRecord => "merchant-of-record",
            MethodKind::Account => "account",
        })
    }
}

/// One payment to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRequest {
    /// The supplier's order number.
    pub order_id: String,
    /// The platform's own order number.
    pub client_order_id: Option<String>,
    /// How to pay.
    pub method: PaymentMethod,
    /// The amount expected.
    pub amount: Money,
    /// The key of this attempt.
    pub idempotency_key: String,
    /// Supplier-specific values.
    pub attributes: BTreeMap<String, String>,
}

/// Why a request was refused before any connector ran.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RequestError(String);

impl RequestError {
    /// An error with this text.
    pub fn new(message: impl Into<String>) -> Self {
        RequestError(message.into())
    }
}

impl PaymentRequest {
    /// Normalizes card numbers and checks every field, so that a request a
    /// connector sees is well-formed.
    pub fn validate(&mut self) -> Result<(), RequestError> {
        self.check_text()?;
        let order = self.order_id.trim();
        // Control characters were refused by `check_text`, naming the field.
        if order.is_empty() || order.len() > 64 {
            return Err(RequestError::new(
                "the order id must be 1 to 64 printable characters",
            ));
        }
        self.order_id = order.to_owned();
        self.amount.check()?;
        self.amount.check_payable()?;
        if self.idempotency_key.trim().is_empty() || self.idempotency_key.len() > 128 {
            return Err(RequestError::new(
                "the idempotency key must be 1 to 128 printable characters, not only spaces",
            ));
        }
        if let Some(id) = &self.client_order_id
            && id.len() > 128
        {
            return Err(RequestError::new(
                "the client order id must be at most 128 characters",
            ));
        }
        if self.attributes.len() > 64
            || self
                .attributes
                .iter()
                .any(|(k, v)| k.trim().is_empty() || k.len() > 64 || v.len() > 4096)
        {
            return Err(RequestError::new(
                "attributes: at most 64, each name 1 to 64 characters and each value at most 4096",
            ));
        }
        let today = today();
        match &mut self.method {
            PaymentMethod::Card(card) | PaymentMethod::MerchantOfRecord(card) => {
                card.normalize();
                card.check(today)?;
            }
            PaymentMethod::Account(code) if code.trim().is_empty() => {
                return Err(RequestError::new(
                    "an account payment needs the supplier's account code",
                ));
            }
            _ => {}
        }
        Ok(())
    }
}

/// Refuses, naming `field`, a control character or a bidirectional
/// override in `value`.
fn printable(field: &str, value: &str) -> Result<(), RequestError> {
    match text::forbidden_char(value) {
        None => Ok(()),
        Some(c) => Err(RequestError::new(format!(
            "{field} holds the control or bidirectional character U+{:04X}; remove it (request strings must be printable)",
            u32::from(c)
        ))),
    }
}

/// [`printable`], and refuses a card number in `value` (the masker's rule:
/// a run of 12 to 19 digits passing the Luhn check, standing as a token of
/// its own, or written in Base64, hex or `%XX`). Card data goes only in the
/// card's own fields, which are never stored; anywhere else it would be
/// journaled, logged and sent in the clear. The refusal quotes nothing of
/// the value.
fn cardless(field: &str, value: &str) -> Result<(), RequestError> {
    printable(field, value)?;
    if holds_card(value) {
        return Err(RequestError::new(format!(
            "{field} reads as a card number (12 to 19 digits that pass the Luhn check, perhaps written in Base64, hex or %XX); a card goes only in the card fields. If it is not one, write it differently (it would be masked wherever the host records it)"
        )));
    }
    Ok(())
}

impl PaymentRequest {
    /// Every string of the request is printable: no C0 or C1 control, DEL,
    /// or bidirectional override; and none holds a card number.
    fn check_text(&self) -> Result<(), RequestError> {
        cardless("the order id", &self.order_id)?;
        if let Some(id) = &self.client_order_id {
            cardless("the client order id", id)?;
        }
        // A key of the caller's making (a UUID, a digest) is matched, not
        // read for card numbers inside it (a UUID's last group may pass
        // the Luhn check); but a key that is a card number, whole, is a
        // careless caller's, and would be stored and shown.
        printable("the idempotency key", &self.idempotency_key)?;
        let digits: String = self
            .idempotency_key
            .chars()
            .filter(|c| !matches!(c, ' ' | '-'))
            .collect();
        if (12..=19).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && luhn(&digits)
        {
            return Err(RequestError::new(
                "the idempotency key reads as a card number (12 to 19 digits that pass the Luhn check); use a random key, such as a UUID",
            ));
        }
        cardless("the amount", &self.amount.amount)?;
        cardless("the currency", &self.amount.currency)?;
        for (key, value) in &self.attributes {
            cardless("an attribute name", key)?;
            cardless("an attribute value", value)?;
        }
        match &self.method {
            PaymentMethod::Account(code) => cardless("the account code", code)?,
            PaymentMethod::Card(card) | PaymentMethod::MerchantOfRecord(card) => {
                cardless("the card holder's first name", &card.holder_first_name)?;
                cardless("the card holder's last name", &card.holder_last_name)?;
                if let Some(a) = &card.billing_address {
                    cardless("the billing street", &a.street)?;
                    cardless("the billing city", &a.city)?;
                    cardless("the billing country", &a.country)?;
                    if let Some(region) = &a.region {
                        cardless("the billing region", region)?;
                    }
                    if let Some(code) = &a.postal_code {
                        cardless("the billing postal code", code)?;
                    }
                }
            }
            PaymentMethod::Balance => {}
        }
        Ok(())
    }
}

/// The current (year, month), UTC.
fn today() -> (u16, u8) {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let days = (secs / 86_400) as i64;
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year as u16, month as u8)
}

/// Why an operation failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectorError {
    /// The unified kind.
    pub kind: ErrorKind,
    /// Whether the same request may be sent again as it is.
    pub retryable: bool,
    /// The supplier's raw code.
    pub supplier_code: Option<String>,
    /// A message for the operator.
    pub message: String,
}

impl ConnectorError {
    /// A host-made error, not retryable, without a supplier code.
    pub fn host(kind: ErrorKind, message: impl Into<String>) -> Self {
        ConnectorError {
            kind,
            retryable: false,
            supplier_code: None,
            message: message.into(),
        }
    }
}

/// The result of a payment or a query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentOutcome {
    /// Where the payment stands.
    pub state: PaymentState,
    /// The supplier's reference.
    pub supplier_reference: Option<String>,
    /// What the supplier reports as charged.
    pub charged: Option<Money>,
    /// The supplier's raw status code.
    pub supplier_code: Option<String>,
    /// The supplier's message, verbatim (card data masked).
    pub supplier_message: Option<String>,
    /// Why, for `failed` and `unknown`.
    pub error: Option<ConnectorError>,
    /// Further facts.
    pub details: Vec<(String, String)>,
}

impl PaymentOutcome {
    /// An outcome in `state` with nothing else known (an operator's decision).
    pub fn new(state: PaymentState) -> Self {
        PaymentOutcome {
            state,
            supplier_reference: None,
            charged: None,
            supplier_code: None,
            supplier_message: None,
            error: None,
            details: Vec::new(),
        }
    }

    /// An outcome the host decides on its own (the connector failed).
    pub fn host(state: PaymentState, error: ConnectorError) -> Self {
        PaymentOutcome {
            error: Some(error),
            ..Self::new(state)
        }
    }

    /// The error kind, if any.
    pub fn kind(&self) -> Option<ErrorKind> {
        self.error.as_ref().map(|e| e.kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(number: &str) -> Card {
        Card {
            number: number.into(),
            expiry_month: 12,
            expiry_year: 2099,
            cvv: Some("123".into()),
            holder_first_name: "Ada".into(),
            holder_last_name: "Lovelace".into(),
            billing_address: None,
            reusable: false,
        }
    }

    fn request(method: PaymentMethod, amount: &str) -> PaymentRequest {
        PaymentRequest {
            order_id: "O-1".into(),
            client_order_id: None,
            method,
            amount: Money {
                amount: amount.into(),
                currency: "USD".into(),
            },
            idempotency_key: "k".into(),
            attributes: BTreeMap::new(),
        }
    }

    #[test]
    fn a_card_number_outside_the_card_fields_is_refused_without_being_quoted() {
        use base64::Engine as _;
        let pan = "4532015112830366";
        let b64 = base64::engine::general_purpose::STANDARD.encode(pan);
        type Set<'a> = Box<dyn Fn(&mut PaymentRequest) + 'a>;
        let cases: Vec<(&str, Set<'_>)> = vec![
            ("the order id", Box::new(|r| r.order_id = pan.into())),
            (
                "the order id",
                Box::new(|r| r.order_id = "4532 0151 1283 0366".into()),
            ),
            (
                "the client order id",
                Box::new(|r| r.client_order_id = Some(format!("ref-{pan}"))),
            ),
            (
                "the idempotency key",
                Box::new(|r| r.idempotency_key = pan.into()),
            ),
            (
                "an attribute value",
                Box::new(move |r| {
                    r.attributes.insert("note".into(), format!("card {b64}"));
                }),
            ),
            (
                "an attribute name",
                Box::new(|r| {
                    r.attributes.insert(pan.into(), "x".into());
                }),
            ),
        ];
        for (field, set) in cases {
            let mut r = request(PaymentMethod::Balance, "10.00");
            set(&mut r);
            let e = r.validate().unwrap_err().to_string();
            assert!(e.starts_with(field), "{field}: {e}");
            assert!(e.contains("reads as a card number"), "{e}");
            assert!(!e.contains("4532") && !e.contains("0366"), "{e}");
        }
        // Digits that are no card number pass: too short, or failing Luhn.
        let mut r = request(PaymentMethod::Balance, "10.00");
        r.order_id = "100001".into();
        r.client_order_id = Some("4532015112830367".into());
        // Digits inside a longer token: a UUID whose groups join into a
        // Luhn-valid run, a digest.
        r.attributes.insert(
            "session".into(),
            "209752ca-8b61-9930-6646-58d52bd04263".into(),
        );
        r.attributes
            .insert("digest".into(), "ab4532015112830366cd".into());
        r.idempotency_key = "a387d1c1-562a-46ed-5032-429089781407".into();
        assert!(r.validate().is_ok());
        // The card itself, in its own field, is where a card goes.
        let mut r = request(PaymentMethod::Card(card(pan)), "10.00");
        assert!(r.validate().is_ok());
    }

    #[test]
    fn validation_checks_amount_card_and_expiry() {
        assert!(request(PaymentMethod::Balance, "312.99").validate().is_ok());
        for bad in ["312,99", "-1", "1e3", "1.", ".5", "", "3.1.2"] {
            assert!(
                request(PaymentMethod::Balance, bad).validate().is_err(),
                "{bad}"
            );
        }
        let mut ok = request(PaymentMethod::Card(card("4532 0151 1283 0366")), "1");
        assert!(ok.validate().is_ok());
        assert_eq!(ok.method.card().unwrap().number, "4532015112830366");
        let err = request(PaymentMethod::Card(card("4532015112830367")), "1")
            .validate()
            .unwrap_err();
        // The error names what is wrong, not the number.
        assert!(err.to_string().contains("Luhn"), "{err}");
        assert!(!err.to_string().contains("0367"), "{err}");
        // Above zero, within the currency's minor unit, a real currency.
        for (amount, currency) in [
            ("0", "USD"),
            ("0.00", "USD"),
            ("0.001", "JPY"),
            ("1.5", "JPY"),
            ("1.001", "USD"),
            ("1", "XXX"),
            ("1", "ZZZ"),
            ("1", "XAU"),
        ] {
            let mut r = request(PaymentMethod::Balance, amount);
            r.amount.currency = currency.into();
            let err = r.validate().unwrap_err().to_string();
            assert!(
                amount.len() < 3 || !err.contains(amount),
                "{amount} {currency}: {err}"
            );
            assert!(!err.contains(currency), "{amount} {currency}: {err}");
        }
        for (amount, currency) in [
            ("1", "JPY"),
            ("1.25", "USD"),
            ("1.500", "USD"),
            ("0.001", "KWD"),
        ] {
            let mut r = request(PaymentMethod::Balance, amount);
            r.amount.currency = currency.into();
            assert!(r.validate().is_ok(), "{amount} {currency}");
        }
        let mut spaces = request(PaymentMethod::Balance, "1");
        spaces.idempotency_key = "   ".into();
        assert!(spaces.validate().is_err());
        let mut expired = card("4532015112830366");
        expired.expiry_year = 2001;
        assert!(
            request(PaymentMethod::Card(expired), "1")
                .validate()
                .unwrap_err()
                .to_string()
                .contains("expired")
        );
    }

    #[test]
    fn card_debug_is_masked() {
        let text = format!("{:?}", card("4532015112830366"));
        assert!(
            !text.contains("4532015112830366") && !text.contains("123"),
            "{text}"
        );
    }
}
