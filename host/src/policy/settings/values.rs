//! The kinds of value `payhost.toml` holds, each a type that serde reads
//! and that refuses a wrong value with the form it should take, in plain
//! words: a duration, a size, a whole number, the origins, keys, hashes
//! and file names of a connector's section. And [`Section`], which reads a
//! connector's section into its derived struct while keeping the keys
//! that belong to the connector aside, without losing where each value
//! stands in the file.

use crate::contract::ContractVersion;
use crate::contract::placement::PlacementSpec;
use crate::policy::allowlist::OriginPattern;
use crate::policy::limits;
use crate::policy::placement::Placement;
use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

/// How the log is written: a line of text per event, or a JSON object per
/// line for a log collector.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// `2026-12-05T08:00:00Z INFO request{request_id=…}: payment attempt=42 …`.
    #[default]
    Text,
    /// One JSON object per line, the request's span fields included.
    Json,
}

/// A duration in quotes (`"15s"`, `"500ms"`), read with `humantime`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Lasting(pub Duration);

impl<'de> Deserialize<'de> for Lasting {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Text;
        impl Visitor<'_> for Text {
            type Value = Lasting;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration in quotes, like \"15s\" or \"500ms\"")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Lasting, E> {
                limits::parse_duration(text).map(Lasting).map_err(E::custom)
            }
        }
        d.deserialize_str(Text)
    }
}

/// A duration that must be more than zero, refused at its line when it
/// is not.
pub(super) fn above_zero(
    report: &super::report::Report<'_>,
    key: &str,
    value: Option<toml::Spanned<Lasting>>,
) -> Result<Option<Duration>, super::report::ConfigError> {
    match value {
        Some(v) if v.get_ref().0.is_zero() => {
            let name = key.rsplit('.').next().unwrap_or(key);
            Err(report.at(v.span(), key, format!("`{name}` must be more than 0s")))
        }
        Some(v) => Ok(Some(v.into_inner().0)),
        None => Ok(None),
    }
}

/// A size in bytes: a whole number, or a string with a unit (`"64MiB"`).
#[derive(Debug, Clone, Copy)]
pub(super) struct Size(pub u64);

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Bytes;
        impl Visitor<'_> for Bytes {
            type Value = Size;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a size, like \"64MiB\", \"512KiB\" or 1048576")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Size, E> {
                limits::parse_size(text).map(Size).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Size, E> {
                Ok(Size(n))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Size, E> {
                u64::try_from(n)
                    .map(Size)
                    .map_err(|_| E::custom("a size cannot be negative"))
            }
        }
        d.deserialize_any(Bytes)
    }
}

/// A whole number without quotes that fits `T`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Whole<T>(pub T);

impl<'de, T: TryFrom<u64>> Deserialize<'de> for Whole<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Number<T>(PhantomData<T>);
        impl<T: TryFrom<u64>> Visitor<'_> for Number<T> {
            type Value = Whole<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a whole number without quotes, like 512")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Whole<T>, E> {
                T::try_from(n)
                    .map(Whole)
                    .map_err(|_| E::custom(format!("{n} is too large here")))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Whole<T>, E> {
                let n = u64::try_from(n)
                    .map_err(|_| E::custom("a negative number means nothing here"))?;
                self.visit_u64(n)
            }
        }
        d.deserialize_u64(Number(PhantomData))
    }
}

/// Reads a string and turns it into `T` with `parse`, whose error is the
/// message the operator sees.
fn parsed<'de, D, T, E>(
    d: D,
    expecting: &'static str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    E: fmt::Display,
{
    struct Text<F>(&'static str, F);
    impl<T, E: fmt::Display, F: FnOnce(&str) -> Result<T, E>> Visitor<'_> for Text<F> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
        fn visit_str<R: de::Error>(self, text: &str) -> Result<T, R> {
            (self.1)(text).map_err(R::custom)
        }
    }
    d.deserialize_str(Text(expecting, parse))
}

/// A list of strings, each turned into `T` by `parse`; `whole` is the
/// message for a value that is no list at all.
fn listed<'de, D, T, E>(
    d: D,
    whole: &'static str,
    parse: fn(&str) -> Result<T, E>,
) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    E: fmt::Display,
{
    struct List<T, E>(&'static str, fn(&str) -> Result<T, E>);
    impl<'de, T, E: fmt::Display> Visitor<'de> for List<T, E> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
        fn visit_str<R: de::Error>(self, _: &str) -> Result<Vec<T>, R> {
            Err(R::custom(self.0))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut out = Vec::new();
            while let Some(text) = seq.next_element::<Entry>()? {
                out.push((self.1)(&text.0).map_err(de::Error::custom)?);
            }
            Ok(out)
        }
    }
    d.deserialize_seq(List(whole, parse))
}

/// One string of a list.
struct Entry(String);

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parsed(d, "text in quotes", |t| {
            Ok::<_, std::convert::Infallible>(Entry(t.to_owned()))
        })
    }
}

/// `allowed_hosts` in a connector's section: origins.
#[derive(Debug, Default)]
pub(super) struct Origins(pub Vec<OriginPattern>);

impl<'de> Deserialize<'de> for Origins {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        listed(
            d,
            "`allowed_hosts` must be a list of origins like [\"https://api.example.com\"]",
            OriginPattern::parse,
        )
        .map(Origins)
    }
}

/// `publishers`: `ed25519:…` public keys.
#[derive(Debug, Default)]
pub(super) struct Publishers(pub Vec<String>);

impl<'de> Deserialize<'de> for Publishers {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        listed(
            d,
            "`publishers` must be a list of keys like [\"ed25519:…\"] (`payhost plugins keygen` prints one)",
            |text| {
                crate::package::parse_public(text)
                    .map(|_| text.to_owned())
                    .map_err(|e| e.to_string())
            },
        )
        .map(Publishers)
    }
}

/// `sha256`: 64 hex digits, kept in lower case.
#[derive(Debug)]
pub(super) struct Sha256Hex(pub String);

impl<'de> Deserialize<'de> for Sha256Hex {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        const FORM: &str =
            "`sha256` must be the 64 hex digits `payhost plugins inspect FILE` shows";
        parsed(d, FORM, |text| {
            (text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| Sha256Hex(text.to_ascii_lowercase()))
                .ok_or_else(|| FORM.to_owned())
        })
    }
}

/// `file`: a file name in the plugin directory.
#[derive(Debug)]
pub(super) struct FileName(pub String);

impl<'de> Deserialize<'de> for FileName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        const FORM: &str =
            "`file` must be a file name in the plugin directory, like \"atlas.wasm\"";
        parsed(d, FORM, |text| {
            (text.ends_with(".wasm") && !text.contains('/') && !text.contains('\\'))
                .then(|| FileName(text.to_owned()))
                .ok_or_else(|| FORM.to_owned())
        })
    }
}

/// `min_contract`: `"0.2"` or `"0.2.0"`, a contract this host runs.
#[derive(Debug, Clone, Copy)]
pub(super) struct MinContract(pub ContractVersion);

impl<'de> Deserialize<'de> for MinContract {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parsed(d, "`min_contract` must be a string like \"0.2\"", |text| {
            let mut numbers = text.trim().split('.').map(|n| n.parse::<u64>().ok());
            let (major, minor) = (numbers.next().flatten(), numbers.next().flatten());
            major
                .zip(minor)
                .and_then(|(major, minor)| ContractVersion::from_minor(major, minor))
                .map(MinContract)
                .ok_or_else(|| {
                    format!(
                        "min_contract `{text}` is not a contract version this host runs: write \"0.1\" or \"0.2\""
                    )
                })
        })
    }
}

/// `placements`: a list of placements, or `"declared"`.
#[derive(Debug)]
pub(super) enum Placements {
    /// The connector's own declared placements, granted as they are.
    Declared,
    /// The operator's list.
    Listed(Vec<Placement>),
}

const PLACEMENTS_FORM: &str = "`placements` must be a list like [{ value = \"secret:api_key\", request = \"POST **/pay\", at = \"header:x-api-key\", encoding = \"raw\" }] (`payhost plugins inspect FILE` prints the ones a connector declares), or \"declared\" to grant those as they are for a file pinned by sha256 or publishers";

impl<'de> Deserialize<'de> for Placements {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Form;
        impl<'de> Visitor<'de> for Form {
            type Value = Placements;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(PLACEMENTS_FORM)
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Placements, E> {
                match text {
                    "declared" => Ok(Placements::Declared),
                    _ => Err(E::custom(PLACEMENTS_FORM)),
                }
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Placements, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = seq.next_element_seed(OnePlacement(out.len() + 1))? {
                    out.push(entry);
                }
                Ok(Placements::Listed(out))
            }
        }
        d.deserialize_any(Form)
    }
}

/// The `n`th entry of `placements`, refused at its own place.
struct OnePlacement(usize);

impl<'de> DeserializeSeed<'de> for OnePlacement {
    type Value = Placement;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Placement, D::Error> {
        let n = self.0;
        let spec = PlacementSpec::deserialize(d).map_err(|e| {
            de::Error::custom(format!(
                "`placements` entry {n}: {e}; each is {{ value, request, at, encoding }}, with `prefix` and `origin` optional"
            ))
        })?;
        Placement::from_spec(&spec)
            .map_err(|e| de::Error::custom(format!("`placements` entry {n}: {e}")))
    }
}

/// A connector's section: `keys` are what the struct `T` takes (the host's
/// settings and the limits), `config` every other key, which must be a
/// string: the connector's own config values.
#[derive(Debug, Default)]
pub(super) struct Section<T> {
    /// The host's keys.
    pub keys: T,
    /// The connector's own values.
    pub config: BTreeMap<String, String>,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Section<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Table<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Table<T> {
            type Value = Section<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a connector's section")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Section<T>, A::Error> {
                let mut config = BTreeMap::new();
                let keys = T::deserialize(Split {
                    map,
                    fields: &[],
                    config: &mut config,
                })?;
                Ok(Section { keys, config })
            }
        }
        d.deserialize_map(Table(PhantomData))
    }
}

/// Hands `T` the keys it names and keeps the rest aside, each value still
/// read by the file's own deserializer (so an error keeps its line).
struct Split<'a, A> {
    map: A,
    fields: &'static [&'static str],
    config: &'a mut BTreeMap<String, String>,
}

impl<'de, A: MapAccess<'de>> Deserializer<'de> for Split<'_, A> {
    type Error = A::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
        visitor.visit_map(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        mut self,
        _: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.fields = fields;
        visitor.visit_map(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Split<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        while let Some(key) = self.map.next_key::<String>()? {
            if self.fields.contains(&key.as_str()) {
                return seed.deserialize(key.into_deserializer()).map(Some);
            }
            let value = self.map.next_value_seed(ConfigValue(&key))?;
            self.config.insert(key, value);
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

/// A connector's own config value: a string.
struct ConfigValue<'a>(&'a str);

impl ConfigValue<'_> {
    fn refuse<E: de::Error>(&self) -> E {
        let key = self.0;
        E::custom(format!(
            "`{key}` is not a setting of the host, and a connector's config values are strings: write `{key} = \"...\"`"
        ))
    }
}

impl<'de> DeserializeSeed<'de> for ConfigValue<'_> {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ConfigValue<'_> {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` as text in quotes", self.0)
    }
    fn visit_str<E: de::Error>(self, text: &str) -> Result<String, E> {
        Ok(text.to_owned())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<String, E> {
        Err(self.refuse())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<String, E> {
        Err(self.refuse())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<String, E> {
        Err(self.refuse())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<String, E> {
        Err(self.refuse())
    }
    fn visit_seq<S: SeqAccess<'de>>(self, _: S) -> Result<String, S::Error> {
        Err(self.refuse())
    }
    fn visit_map<M: MapAccess<'de>>(self, _: M) -> Result<String, M::Error> {
        Err(self.refuse())
    }
}

/// A deserializer that only notes the field names a struct asks for.
struct Names(&'static [&'static str]);

impl<'de> Deserializer<'de> for &mut Names {
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

/// The fields `T` (a struct deriving `Deserialize`) takes, read from its
/// derived code so that a list of them cannot drift from it.
pub(crate) fn fields_of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    let mut names = Names(&[]);
    let _ = T::deserialize(&mut names);
    names.0
}
