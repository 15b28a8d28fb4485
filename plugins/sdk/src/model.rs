//! The contract's data types, with constructors that read well in a connector.

use crate::bindings::payhost::connector::types;

pub use types::{
    BillingAddress, Card, ConnectorError, ConnectorInfo, ErrorKind, MethodKind, Money,
    PaymentMethod, PaymentOutcome, PaymentRequest, PaymentState, SecretEncoding,
};

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
        }
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
