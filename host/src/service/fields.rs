//! The names of the fields a request body may carry, read from the body
//! types themselves so that the list cannot drift from them: an error
//! names a field only when the path to it is made of these, never the
//! caller's own keys (an attribute's name).

use super::bodies::{PaymentBody, ResolveBody};
use crate::payments::model::{BillingAddress, Card};
use serde::Deserialize;
use serde::de::{self, Visitor};
use std::sync::LazyLock;

/// A deserializer that only notes the field names a struct asks for.
struct Names(&'static [&'static str]);

impl<'de> de::Deserializer<'de> for &mut Names {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        self.0 = fields;
        Err(de::Error::custom("names noted"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

/// The fields `T` (a struct deriving `Deserialize`) takes.
fn fields_of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    let mut names = Names(&[]);
    let _ = T::deserialize(&mut names);
    names.0
}

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
        ] {
            assert!(FIELDS.contains(&name), "{name} is missing from {FIELDS:?}");
        }
        assert_eq!(FIELDS.len(), 10 + 8 + 5 + 2, "{FIELDS:?}");
    }
}
