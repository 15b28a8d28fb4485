//! Reading a supplier's JSON answer into a typed structure that borrows
//! from the body: only the fields a connector reads, no tree, no copies.
//!
//! ```
//! use payhost_sdk::answer::{self, Int, Text};
//!
//! #[derive(serde::Deserialize)]
//! struct Answer<'a> {
//!     #[serde(default)]
//!     status: Int,
//!     #[serde(default, borrow)]
//!     msg: Text<'a>,
//! }
//!
//! let body = br#"{"status":0,"msg":"success","other":[1,2,3]}"#;
//! let answer: Answer = answer::object(body).unwrap();
//! assert_eq!(answer.status.get(), Some(0));
//! assert_eq!(answer.msg.get(), Some("success"));
//! ```
//!
//! How a hostile answer reads, field by field, is the type's to say, and
//! each of these says it the way the connectors read a `serde_json::Value`
//! before:
//!
//! - [`Text`]: the string, or absent for any other type (a number, an
//!   object, `null`) rather than an unreadable answer.
//! - [`Int`]: a number written as a plain integer (`0`, `404`, `-3`);
//!   absent for `0.0`, `1e0`, `-0`, `"0"` or a number too large, so that
//!   only the literal `0` can mean success.
//! - [`Number`]: the exact text of a number or a string (an amount).
//! - [`Object`]: a nested object read as `T`, or absent for any other type.
//!
//! Two things read differently from a `Value`, on purpose: the answer must
//! be a JSON object (a derived structure would also take an array, field by
//! position), and a field the structure reads that appears twice makes the
//! answer unreadable (a `Value` kept the last one): a supplier that says
//! two things has said nothing a connector may act on. Fields the structure
//! does not name are skipped, however often they appear.

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, de::value::MapAccessDeserializer};
use std::borrow::Cow;
use std::fmt;

/// Reads `body` as a JSON object into `T`, borrowing its strings where they
/// have no escapes. Bytes that are not UTF-8 anywhere in it, anything else
/// at the top (an array, a string, a number), or a field of `T` that
/// appears twice is an error.
pub fn object<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, serde_json::Error> {
    // All of it UTF-8, as JSON is: a field skipped unread is still checked.
    let text = std::str::from_utf8(body)
        .map_err(|e| <serde_json::Error as de::Error>::custom(format!("not UTF-8: {e}")))?;
    let first = text.bytes().find(|b| !b" \t\r\n".contains(b));
    if first != Some(b'{') {
        return Err(de::Error::custom("the answer is not a JSON object"));
    }
    // What serde_json checks only in the values it reads, checked in all.
    check_unread(text.as_bytes()).map_err(<serde_json::Error as de::Error>::custom)?;
    serde_json::from_str(text)
}

/// How deep an answer may nest: `serde_json`'s own limit for what it reads.
const MAX_DEPTH: usize = 128;

/// The checks `serde_json` makes of the values it reads but skips in those
/// it ignores, made over the whole text: no string escapes a lone surrogate
/// (`\ud800`), and nothing nests deeper than [`MAX_DEPTH`].
fn check_unread(text: &[u8]) -> Result<(), &'static str> {
    let hex = |at: usize| -> Option<u16> {
        let digits = text.get(at..at + 4)?;
        u16::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
    };
    let (mut depth, mut i) = (0usize, 0usize);
    while i < text.len() {
        match text[i] {
            b'"' => {
                // A string: from escape to escape, on to its closing quote
                // (one that never comes is serde_json's to refuse).
                i += 1;
                loop {
                    let Some(at) = text
                        .get(i..)
                        .and_then(|rest| memchr::memchr2(b'"', b'\\', rest))
                    else {
                        return Ok(());
                    };
                    i += at;
                    if text[i] == b'"' {
                        break;
                    }
                    if text.get(i + 1) != Some(&b'u') {
                        i += 2;
                        continue;
                    }
                    let unit = hex(i + 2).ok_or("a malformed \\u escape")?;
                    if (0xdc00..0xe000).contains(&unit) {
                        return Err("a lone surrogate");
                    }
                    if (0xd800..0xdc00).contains(&unit) {
                        let low = (text.get(i + 6..i + 8) == Some(b"\\u"))
                            .then(|| hex(i + 8))
                            .flatten();
                        if !low.is_some_and(|l| (0xdc00..0xe000).contains(&l)) {
                            return Err("a lone surrogate");
                        }
                        i += 6;
                    }
                    i += 6;
                }
            }
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err("nesting deeper than 128 levels");
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// Consumes whatever value comes, for the types below that read only one
/// kind of value and leave every other absent.
fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

/// A field that is a string, or absent for any other value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Text<'a>(Option<Cow<'a, str>>);

impl<'a> Text<'a> {
    /// The string, if the field was one.
    pub fn get(&self) -> Option<&str> {
        self.0.as_deref()
    }

    /// The string as an owned `String`, if the field was one.
    pub fn to_owned_string(&self) -> Option<String> {
        self.0.as_deref().map(str::to_owned)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'a>, E> {
                Ok(Text(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'a>, E> {
                Ok(Text(Some(Cow::Owned(v.to_owned()))))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text<'a>, E> {
                Ok(Text(Some(Cow::Owned(v))))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Text<'a>, E> {
                Ok(Text(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Text<'a>, E> {
                Ok(Text(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Text<'a>, E> {
                Ok(Text(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Text<'a>, E> {
                Ok(Text(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Text<'a>, E> {
                Ok(Text(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Text<'a>, E> {
                Ok(Text(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Text<'a>, A::Error> {
                // Also a number, which `arbitrary_precision` hands over as a map.
                drain_map(map).map(|()| Text(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Text<'a>, A::Error> {
                drain_seq(seq).map(|()| Text(None))
            }
        }
        deserializer.deserialize_any(V(std::marker::PhantomData))
    }
}

/// A field that is a number written as a plain integer, or absent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Int(Option<i64>);

impl Int {
    /// The integer, if the field was a plain integer literal.
    pub fn get(self) -> Option<i64> {
        self.0
    }
}

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let number = Number::deserialize(deserializer)?;
        Ok(Int(number.0.as_deref().and_then(|text| {
            // Only a number: a string is no status code.
            if number.1 { None } else { plain_integer(text) }
        })))
    }
}

/// `text` as an integer if it is written as a plain one (`0`, `404`, `-3`).
pub(crate) fn plain_integer(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && text != "-0";
    if canonical { text.parse().ok() } else { None }
}

/// A field that is a number or a string: its exact text (`59805.02` stays
/// `"59805.02"`), or absent for any other value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Number<'a>(Option<Cow<'a, str>>, bool);

impl Number<'_> {
    /// The number's or the string's exact text.
    pub fn text(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

/// The private key under which `serde_json` (with `arbitrary_precision`)
/// hands a number over as a one-entry map.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

impl<'de: 'a, 'a> Deserialize<'de> for Number<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Number<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Number<'a>, E> {
                Ok(Number(Some(Cow::Borrowed(v)), true))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Number<'a>, E> {
                Ok(Number(Some(Cow::Owned(v.to_owned())), true))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Number<'a>, E> {
                Ok(Number(Some(Cow::Owned(v.to_string())), false))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Number<'a>, E> {
                Ok(Number(Some(Cow::Owned(v.to_string())), false))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Number<'a>, E> {
                // Never through a float: without `arbitrary_precision` a
                // fraction has no exact text here.
                Ok(Number(None, false))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Number<'a>, E> {
                Ok(Number(None, false))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Number<'a>, E> {
                Ok(Number(None, false))
            }
            fn visit_none<E: de::Error>(self) -> Result<Number<'a>, E> {
                Ok(Number(None, false))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Number<'a>, A::Error> {
                let Some(key) = map.next_key::<Cow<'de, str>>()? else {
                    return Ok(Number(None, false));
                };
                if key == NUMBER_TOKEN {
                    let text: String = map.next_value()?;
                    drain_map(map)?;
                    return Ok(Number(Some(Cow::Owned(text)), false));
                }
                map.next_value::<IgnoredAny>()?;
                drain_map(map).map(|()| Number(None, false))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Number<'a>, A::Error> {
                drain_seq(seq).map(|()| Number(None, false))
            }
        }
        deserializer.deserialize_any(V(std::marker::PhantomData))
    }
}

/// A field that is an object read as `T`, or absent for any other value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object<T>(Option<T>);

impl<T> Default for Object<T> {
    fn default() -> Self {
        Object(None)
    }
}

impl<T> Object<T> {
    /// The object, if the field was one.
    pub fn get(&self) -> Option<&T> {
        self.0.as_ref()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Object<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Object<T>, A::Error> {
                // A number under `arbitrary_precision` is a map too, whose
                // one key is serde_json's: absent, like any other number.
                let Some(first) = map.next_key::<Cow<'de, str>>()? else {
                    return T::deserialize(MapAccessDeserializer::new(map))
                        .map(|t| Object(Some(t)));
                };
                if first == NUMBER_TOKEN {
                    map.next_value::<IgnoredAny>()?;
                    return drain_map(map).map(|()| Object(None));
                }
                T::deserialize(MapAccessDeserializer::new(Replay {
                    first: Some(first),
                    map,
                }))
                .map(|t| Object(Some(t)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Object<T>, A::Error> {
                drain_seq(seq).map(|()| Object(None))
            }
            fn visit_borrowed_str<E: de::Error>(self, _: &'de str) -> Result<Object<T>, E> {
                Ok(Object(None))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Object<T>, E> {
                Ok(Object(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Object<T>, E> {
                Ok(Object(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Object<T>, E> {
                Ok(Object(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Object<T>, E> {
                Ok(Object(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Object<T>, E> {
                Ok(Object(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Object<T>, E> {
                Ok(Object(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Object<T>, E> {
                Ok(Object(None))
            }
        }
        deserializer.deserialize_any(V(std::marker::PhantomData))
    }
}

/// A map whose first key was read already: it is handed over again first.
struct Replay<'de, A> {
    first: Option<Cow<'de, str>>,
    map: A,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Replay<'de, A> {
    type Error = A::Error;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        match self.first.take() {
            Some(Cow::Borrowed(key)) => seed
                .deserialize(de::value::BorrowedStrDeserializer::new(key))
                .map(Some),
            Some(Cow::Owned(key)) => seed
                .deserialize(de::value::StringDeserializer::new(key))
                .map(Some),
            None => self.map.next_key_seed(seed),
        }
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug)]
    struct Inner<'a> {
        #[serde(default, borrow)]
        pnr: Text<'a>,
    }

    #[derive(Deserialize, Debug)]
    struct Answer<'a> {
        #[serde(default)]
        status: Int,
        #[serde(default, borrow)]
        msg: Text<'a>,
        #[serde(default, borrow)]
        amount: Number<'a>,
        #[serde(default, borrow)]
        data: Object<Inner<'a>>,
    }

    /// `status`, `msg`, `amount` and `data.pnr`, as read.
    type Read = (Option<i64>, Option<String>, Option<String>, Option<String>);

    fn read(body: &str) -> Option<Read> {
        let a: Answer = object(body.as_bytes()).ok()?;
        Some((
            a.status.get(),
            a.msg.to_owned_string(),
            a.amount.text().map(str::to_owned),
            a.data.get().and_then(|d| d.pnr.to_owned_string()),
        ))
    }

    #[test]
    fn the_fields_read_as_a_value_read_them() {
        let s = |v: &str| Some(v.to_owned());
        assert_eq!(
            read(r#"{"status":0,"msg":"ok","amount":59805.02,"data":{"pnr":"P1"},"x":[{"y":1}]}"#),
            Some((Some(0), s("ok"), s("59805.02"), s("P1")))
        );
        assert_eq!(
            read(r#"{"status":404,"msg":"a \"quoted\" \u00e9","amount":"12.50"}"#),
            Some((Some(404), s("a \"quoted\" é"), s("12.50"), None))
        );
        // Another type where a field is expected: absent, not unreadable.
        assert_eq!(
            read(r#"{"status":"0","msg":5,"amount":true,"data":7}"#),
            Some((None, None, None, None))
        );
        assert_eq!(
            read(r#"{"status":{"a":1},"msg":["x"],"amount":null,"data":"P1"}"#),
            Some((None, None, None, None))
        );
        assert_eq!(
            read(r#"{"data":{"pnr":5}}"#),
            Some((None, None, None, None))
        );
        // Only a plain integer is a status.
        for status in [
            "0.0",
            "-0",
            "1e0",
            "00",
            "99999999999999999999",
            "1E2",
            "0.5",
        ] {
            // (`00` is no JSON at all: the answer is unreadable.)
            let body = format!(r#"{{"status":{status}}}"#);
            assert_eq!(read(&body).and_then(|r| r.0), None, "{status}");
        }
        assert_eq!(read(r#"{"status":-3}"#).unwrap().0, Some(-3));
    }

    #[test]
    fn an_answer_that_is_no_object_or_says_a_field_twice_is_unreadable() {
        for body in [
            r#"[0,"ok"]"#,
            r#""ok""#,
            "0",
            "",
            r#"{"status":0,"status":1}"#,
            r#"{"status":0,"msg":"a","msg":"b"}"#,
            r#"{"status":0"#,
        ] {
            assert_eq!(read(body), None, "{body}");
        }
        // Bytes that are not UTF-8, even in a field nobody reads.
        let bad = b"{\"status\":0,\"x\xff\":1}";
        assert!(object::<Answer>(bad).is_err());
        // A field nobody reads may appear twice.
        assert!(read(r#" {"status":0,"x":1,"x":2}"#).is_some());
        // What a field nobody reads may not hold: a lone surrogate, or
        // nesting deeper than 128.
        for body in [
            r#"{"status":0,"x":"\ud800"}"#,
            r#"{"status":0,"x":"\udc00"}"#,
            r#"{"status":0,"x":"\ud800\u0041"}"#,
        ] {
            assert_eq!(read(body), None, "{body}");
        }
        assert!(read(r#"{"status":0,"x":"\ud83d\ude00 \\ud800"}"#).is_some());
        // Brackets inside strings are not nesting; a string cut short ends
        // the check without a panic (serde_json refuses it).
        let in_strings = format!(
            r#"{{"status":0,"x":"{}\"{}"}}"#,
            "[".repeat(200),
            "{".repeat(200)
        );
        assert!(read(&in_strings).is_some());
        for cut in [
            r#"{"status":0,"x":"\"#,
            r#"{"status":0,"x":"\u12"#,
            r#"{"status":0,"x":"ab"#,
        ] {
            assert_eq!(read(cut), None, "{cut}");
        }
        let deep = format!(
            r#"{{"status":0,"x":{}{}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        assert_eq!(read(&deep), None);
    }
}
