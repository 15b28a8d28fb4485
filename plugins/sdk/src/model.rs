//! The contract's data types, with constructors that read well in a connector.
//!
//! What a connector receives (the payment request, its method and card) are
//! the SDK's own types, so that a card's sealed number and CVV are
//! [`Sealed`] values both in a component and in a connector compiled
//! natively; what it answers are the contract's types.

use crate::Sealed;
use crate::bindings::payhost::connector::types;

pub use types::{
    BillingAddress, CardBrand, ConnectorError, ConnectorInfo, Encoding, ErrorKind, MethodKind,
    Money, PaymentOutcome, PaymentState, Placement,
};

/// A payment card. The number and the CVV are sealed: place them in the
/// supplier's request; the connector never holds them.
#[derive(Debug, Clone)]
pub struct Card {
    /// The card number (digits only; the host has checked it passes the
    /// Luhn check).
    pub number: Sealed,
    /// The brand, from the number's prefix.
    pub brand: CardBrand,
    /// The number's first six digits.
    pub first_six: String,
    /// The number's last four digits.
    pub last_four: String,
    /// Expiry month, 1 to 12.
    pub expiry_month: u8,
    /// Expiry year with four digits (`2027`).
    pub expiry_year: u16,
    /// The card verification value, when the operator supplied one (digits
    /// only). The host never stores it.
    pub cvv: Option<Sealed>,
    /// The card holder's first (given) name.
    pub holder_first_name: String,
    /// The card holder's last (family) name.
    pub holder_last_name: String,
    /// The billing address, when the operator supplied one.
    pub billing_address: Option<BillingAddress>,
    /// `true` for a multi-use card, `false` for a single-use virtual card.
    pub reusable: bool,
}

/// How the order is to be paid.
#[derive(Debug, Clone)]
pub enum PaymentMethod {
    /// From the platform's prepaid balance or deposit with the supplier.
    Balance,
    /// With a card that the supplier charges directly (virtual card
    /// passthrough).
    Card(Card),
    /// With the traveller's card, the supplier acting as merchant of record.
    MerchantOfRecord(Card),
    /// From an account the supplier keeps, named by the supplier's own
    /// account or payment code (AeroHub `AAG` or `CAG`, a Nemo gateway id, an
    /// Atlas bring-your-own-account code).
    Account(String),
}

/// One payment to make.
#[derive(Debug, Clone)]
pub struct PaymentRequest {
    /// The supplier's order (booking) number to pay.
    pub order_id: String,
    /// The platform's own order number, for the supplier's reconciliation.
    pub client_order_id: Option<String>,
    /// How to pay.
    pub method: PaymentMethod,
    /// The amount the platform expects to pay.
    pub amount: Money,
    /// The host's key for this attempt; pass it to suppliers that accept an
    /// idempotency key.
    pub idempotency_key: String,
    /// Further supplier-specific values (`session-id`, `card-type`, ...), as
    /// documented in each connector's README.
    pub attributes: Vec<(String, String)>,
}

#[cfg(target_arch = "wasm32")]
impl From<types::Card> for Card {
    fn from(card: types::Card) -> Self {
        Card {
            number: Sealed::from_wit(card.number),
            brand: card.brand,
            first_six: card.first_six,
            last_four: card.last_four,
            expiry_month: card.expiry_month,
            expiry_year: card.expiry_year,
            cvv: card.cvv.map(Sealed::from_wit),
            holder_first_name: card.holder_first_name,
            holder_last_name: card.holder_last_name,
            billing_address: card.billing_address,
            reusable: card.reusable,
        }
    }
}

#[cfg(target_arch = "wasm32")]
impl From<types::PaymentMethod> for PaymentMethod {
    fn from(method: types::PaymentMethod) -> Self {
        match method {
            types::PaymentMethod::Balance => PaymentMethod::Balance,
            types::PaymentMethod::Card(card) => PaymentMethod::Card(card.into()),
            types::PaymentMethod::MerchantOfRecord(card) => {
                PaymentMethod::MerchantOfRecord(card.into())
            }
            types::PaymentMethod::Account(code) => PaymentMethod::Account(code),
        }
    }
}

#[cfg(target_arch = "wasm32")]
impl From<types::PaymentRequest> for PaymentRequest {
    fn from(request: types::PaymentRequest) -> Self {
        PaymentRequest {
            order_id: request.order_id,
            client_order_id: request.client_order_id,
            method: request.method.into(),
            amount: request.amount,
            idempotency_key: request.idempotency_key,
            attributes: request.attributes,
        }
    }
}

impl Money {
    /// An amount in a currency; `amount` is a decimal string, sent as written.
    pub fn new(amount: impl Into<String>, currency: impl Into<String>) -> Self {
        Money {
            amount: amount.into(),
            currency: currency.into(),
        }
    }
}

impl PaymentRequest {
    /// The value of a supplier-specific attribute, if the operator set it.
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

impl PaymentMethod {
    /// The kind of this method, to compare with what a connector supports.
    pub fn kind(&self) -> MethodKind {
        match self {
            PaymentMethod::Balance => MethodKind::Balance,
            PaymentMethod::Card(_) => MethodKind::Card,
            PaymentMethod::MerchantOfRecord(_) => MethodKind::MerchantOfRecord,
            PaymentMethod::Account(_) => MethodKind::Account,
        }
    }
}

impl ConnectorError {
    /// An error of `kind`, not retryable, without a supplier code.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ConnectorError {
            kind,
            retryable: false,
            supplier_code: None,
            message: message.into(),
        }
    }

    /// The error as the supplier reported it: its raw code and its message.
    pub fn supplier(kind: ErrorKind, code: impl Into<String>, message: impl Into<String>) -> Self {
        ConnectorError {
            kind,
            retryable: false,
            supplier_code: Some(code.into()),
            message: message.into(),
        }
    }

    /// Marks the error as one the same request may be sent again for.
    pub fn retryable(mut self, retryable: bool) -> Self {
        self.retryable = retryable;
        self
    }
}

impl PaymentOutcome {
    fn with_state(state: PaymentState) -> Self {
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

    /// The supplier took the money.
    pub fn succeeded() -> Self {
        Self::with_state(PaymentState::Succeeded)
    }

    /// The supplier accepted the payment; ticketing or settlement follows.
    pub fn pending() -> Self {
        Self::with_state(PaymentState::Pending)
    }

    /// The supplier refused, or nothing was sent. The error's supplier code
    /// and message become the outcome's too.
    pub fn failed(error: ConnectorError) -> Self {
        Self::with_error(PaymentState::Failed, error)
    }

    /// The request may have reached the supplier and its answer is unclear.
    pub fn unknown(error: ConnectorError) -> Self {
        Self::with_error(PaymentState::Unknown, error)
    }

    fn with_error(state: PaymentState, error: ConnectorError) -> Self {
        let mut outcome = Self::with_state(state);
        outcome.supplier_code = error.supplier_code.clone();
        outcome.supplier_message = error.supplier_code.as_ref().map(|_| error.message.clone());
        outcome.error = Some(error);
        outcome
    }

    /// Sets the supplier's reference for the payment.
    pub fn reference(mut self, reference: impl Into<String>) -> Self {
        self.supplier_reference = Some(reference.into());
        self
    }

    /// Sets the amount the supplier reports as charged. An amount that is
    /// not a plain decimal with a three-letter currency code (see
    /// [`crate::rules::amount`] and [`crate::rules::currency`]) is not
    /// money: it is kept as the detail `charged-unreadable` instead.
    pub fn charged(mut self, money: Money) -> Self {
        if payhost_rules::amount::is_plain_decimal(&money.amount)
            && payhost_rules::currency::is_currency_code(&money.currency)
        {
            self.charged = Some(money);
        } else {
            self.details.push((
                "charged-unreadable".into(),
                format!("{} {}", money.amount, money.currency),
            ));
        }
        self
    }

    /// Sets the supplier's raw status code and message.
    pub fn supplier(mut self, code: impl Into<String>, message: Option<String>) -> Self {
        self.supplier_code = Some(code.into());
        self.supplier_message = message;
        self
    }

    /// Adds a fact worth keeping.
    pub fn detail(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.details.push((key.into(), value.into()));
        self
    }
}

impl ConnectorInfo {
    /// A connector named `name` (lower-case letters, digits, `-`; see
    /// [`crate::rules::name::is_connector_name`]), at `version` (semver),
    /// for `supplier`. Add what it needs with the builder methods.
    pub fn new(
        name: impl Into<String>,
        version: impl Into<String>,
        supplier: impl Into<String>,
    ) -> Self {
        ConnectorInfo {
            name: name.into(),
            version: version.into(),
            supplier: supplier.into(),
            methods: Vec::new(),
            secrets: Vec::new(),
            config_keys: Vec::new(),
            hosts: Vec::new(),
            placements: Vec::new(),
        }
    }

    /// Declares where each secret, derived value and card field it sends
    /// stands (see [`Placement::new`]). The operator grants those its
    /// section also names; a request that puts a hidden value anywhere
    /// else is denied before it is sent.
    pub fn placements(mut self, placements: impl IntoIterator<Item = Placement>) -> Self {
        self.placements.extend(placements);
        self
    }

    /// Declares the payment methods the connector implements.
    pub fn methods(mut self, methods: impl IntoIterator<Item = MethodKind>) -> Self {
        self.methods.extend(methods);
        self
    }

    /// Declares the secrets the connector references by name (see
    /// [`crate::rules::name::is_key_name`]).
    pub fn secrets<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.secrets.extend(names.into_iter().map(Into::into));
        self
    }

    /// Declares the config keys the connector reads (see
    /// [`crate::rules::name::is_key_name`]).
    pub fn config_keys<S: Into<String>>(mut self, keys: impl IntoIterator<Item = S>) -> Self {
        self.config_keys.extend(keys.into_iter().map(Into::into));
        self
    }

    /// Declares the origins the connector calls (`https://api.example.com`,
    /// `https://*.example.com`, or `config:base_url` for the origin of the
    /// URL in that config key).
    pub fn hosts<S: Into<String>>(mut self, hosts: impl IntoIterator<Item = S>) -> Self {
        self.hosts.extend(hosts.into_iter().map(Into::into));
        self
    }
}

impl Placement {
    /// `value` (`secret:NAME`, `card:number`, `card:cvv`, or `derived:A+B`
    /// for what crypto computed from those) placed in requests matching
    /// `request` (`"POST **/pay.do"`), at `at` (`header:NAME`,
    /// `query:NAME`, `json:/pointer`, `xml:/element/path`, `form:NAME`),
    /// written with `encoding` (the [`Encoding`] it is placed with, as in
    /// `"raw"`, `"hex"` or `"json-string"`).
    pub fn new(
        value: impl Into<String>,
        request: impl Into<String>,
        at: impl Into<String>,
        encoding: impl Into<String>,
    ) -> Self {
        Placement {
            value: value.into(),
            request: request.into(),
            at: at.into(),
            encoding: encoding.into(),
            prefix: None,
            origin: None,
        }
    }

    /// Text the value follows in the same header (`"Bearer "`).
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// The one granted origin these requests go to.
    pub fn origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = Some(origin.into());
        self
    }
}
