//! The names of the fields a request body may carry, read from the body
//! types themselves so that the list cannot drift from them: an error
//! names a field only when the path to it is made of these, never the
//! caller's own keys (an attribute's name).

use super::bodies::{PaymentBody, ResolveBody};
use crate::payments::model::{BillingAddress, Card};
use crate::policy::settings::fields_of;
use std::sync::LazyLock;

/// Every field name of the API's bodies, the card and its address included.
pub(crate) static FIELDS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    [
        fields_of::<PaymentBody>(),
        fields_of::<Card>(),
        fields_of::<BillingAddress>(),
        fields_of::<ResolveBody>(),
    ]
    .concat()
});

#[cfg(test)]
mod tests {
    use super::FIELDS;

    #[test]
    fn every_field_of_the_bodies_is_named_and_nothing_else() {
        for name in [
            "connector",
            "order_id",
            "idempotency_key",
            "attributes",
            "number",
            "cvv",
            "billing_address",
            "region",
            "postal_code",
            "country",
            "note",
            "query",
        ] {
            assert!(FIELDS.contains(&name), "{name} is missing from {FIELDS:?}");
        }
        assert_eq!(FIELDS.len(), 10 + 8 + 5 + 3, "{FIELDS:?}");
    }
}
