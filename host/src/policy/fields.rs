//! How `payhost.toml`'s values are read: a duration in quotes and a whole
//! number, each refused with the form it should take rather than a Rust
//! type's name; and a section's keys read one at a time, so that a bad
//! value is reported at its own line, not at its section's header.

use serde::Deserializer;
use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use std::fmt;
use std::time::Duration;

/// A duration in quotes (`"15s"`, `"500ms"`).
pub(crate) fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    struct Text;
    impl Visitor<'_> for Text {
        type Value = Duration;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a duration in quotes, like \"15s\" or \"500ms\"")
        }
        fn visit_str<E: de::Error>(self, text: &str) -> Result<Duration, E> {
            super::limits::parse_duration(text).map_err(E::custom)
        }
    }
    d.deserialize_str(Text)
}

/// A whole number that fits `T`.
pub(crate) fn whole<'de, D: Deserializer<'de>, T: TryFrom<u64>>(d: D) -> Result<T, D::Error> {
    struct Whole<T>(std::marker::PhantomData<T>);
    impl<T: TryFrom<u64>> Visitor<'_> for Whole<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a whole number without quotes, like 512")
        }
        fn visit_u64<E: de::Error>(self, n: u64) -> Result<T, E> {
            T::try_from(n).map_err(|_| E::custom(format!("{n} is too large here")))
        }
        fn visit_i64<E: de::Error>(self, n: i64) -> Result<T, E> {
            let n =
                u64::try_from(n).map_err(|_| E::custom("a negative number means nothing here"))?;
            self.visit_u64(n)
        }
    }
    d.deserialize_u64(Whole(std::marker::PhantomData))
}

/// Reads a table key by key: `apply` takes each key and its value and says
/// what is wrong with them, and the error points at that value's line.
pub(crate) fn keys<'de, D, F>(d: D, expecting: &'static str, apply: F) -> Result<(), D::Error>
where
    D: Deserializer<'de>,
    F: FnMut(String, toml::Value) -> Result<(), String>,
{
    d.deserialize_map(Keys { apply, expecting })
}

struct Keys<F> {
    apply: F,
    expecting: &'static str,
}

impl<'de, F: FnMut(String, toml::Value) -> Result<(), String>> Visitor<'de> for Keys<F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            map.next_value_seed(Value {
                key,
                apply: &mut self.apply,
            })?;
        }
        Ok(())
    }
}

/// One key's value, read and applied while the deserializer still knows
/// where it stands.
struct Value<'a, F> {
    key: String,
    apply: &'a mut F,
}

impl<'de, F: FnMut(String, toml::Value) -> Result<(), String>> DeserializeSeed<'de>
    for Value<'_, F>
{
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let value = <toml::Value as serde::Deserialize>::deserialize(d)?;
        (self.apply)(self.key, value).map_err(de::Error::custom)
    }
}
