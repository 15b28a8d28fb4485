//! Reading a supplier's XML answer into a typed structure that borrows from
//! the body: only the elements a connector reads, no tree.
//!
//! ```
//! use payhost_sdk::xml::answer::{self, Text};
//!
//! #[derive(serde::Deserialize)]
//! struct Envelope<'a> {
//!     #[serde(rename = "Body", borrow)]
//!     body: Body<'a>,
//! }
//! #[derive(serde::Deserialize)]
//! struct Body<'a> {
//!     #[serde(rename = "Status", default, borrow)]
//!     status: Text<'a>,
//!     #[serde(rename = "@id", default, borrow)]
//!     id: Text<'a>,
//! }
//!
//! let body = br#"<s:Envelope xmlns:s="urn:s"><s:Body id="7"><Status> paid </Status><Other/></s:Body></s:Envelope>"#;
//! let answer: Envelope = answer::document(body, "Envelope", Some("urn:s")).unwrap();
//! assert_eq!(answer.body.status.get(), Some("paid"));
//! assert_eq!(answer.body.id.get(), Some("7"));
//! ```
//!
//! Elements are matched by their local name (`Body` for `s:Body`);
//! attributes are named `@name`, an element's own text beside its
//! attributes `$text` (quick-xml's serde conventions).
//!
//! How a hostile answer reads, decided against [`super::parse`] (which
//! builds the whole tree, and refuses a document for anything wrong
//! anywhere in it):
//!
//! - The document is read once, as it is deserialized. It must be UTF-8
//!   throughout, have no DTD, a root element with the name and namespace
//!   expected, its tags balanced everywhere (skipped elements included),
//!   and nothing but white space, comments and processing instructions
//!   after its root: a second root, a truncated document or a stray end
//!   tag is refused, as the tree refused them.
//! - What the structure reads must be well-formed: its text's entities and
//!   character references, its attributes; so must text beside it (a
//!   skipped element that holds only text). Inside a skipped element's
//!   children, only the tags are looked at (the tree refused an unknown
//!   entity or a bad attribute anywhere), and neither depth nor element
//!   count is limited, as nothing of them is kept: an answer is at most
//!   the connector's `max-response-size`.
//! - [`Text`]: an element's text or an attribute's value, trimmed; absent
//!   when empty or `xsi:nil`.
//! - An element the structure reads that appears twice where one is
//!   expected makes the answer unreadable (the tree's `child` took the
//!   first): a supplier that says two things has said nothing a connector
//!   may act on. Elements the structure does not name are skipped.
//! - An element the structure reads as text that holds elements instead
//!   makes the answer unreadable.

use super::tree::{Attribute, ParseError, Scopes, attributes};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::borrow::Cow;
use std::fmt;

/// Reads `body` into `T`, borrowing its text where it has no entity or
/// character reference; its root element must be `root` in `namespace`
/// (`None`: in none). See the module for what it refuses.
pub fn document<'a, T: Deserialize<'a>>(
    body: &'a [u8],
    root: &str,
    namespace: Option<&str>,
) -> Result<T, ParseError> {
    let text = std::str::from_utf8(body).map_err(ParseError::NotUtf8)?;
    let found = prologue(body)?;
    if (found.0.as_slice(), found.1.as_deref()) != (root.as_bytes(), namespace) {
        return Err(ParseError::Root {
            expected: match namespace {
                Some(ns) => format!("{root} in {ns}"),
                None => root.to_owned(),
            },
        });
    }
    let mut de = quick_xml::de::Deserializer::from_str(text);
    let value = T::deserialize(&mut de).map_err(ParseError::Shape)?;
    if !de.is_empty() {
        // The reader has read one event past the root (its look-ahead):
        // white space, followed by nothing but white space, comments and
        // processing instructions, is all that may come after it.
        let read = usize::try_from(de.get_ref().get_ref().buffer_position())
            .unwrap_or(body.len())
            .min(body.len());
        let look_ahead = &body[..read][body[..read]
            .iter()
            .rposition(|&b| b == b'>')
            .map_or(0, |i| i + 1)..];
        if look_ahead.is_empty() || !look_ahead.iter().all(u8::is_ascii_whitespace) {
            return Err(ParseError::MoreThanOneRoot);
        }
        epilogue(&body[read..])?;
    }
    Ok(value)
}

/// What comes before the root element (no DTD), and the root's local name
/// and namespace: the bindings in scope are its own.
fn prologue(body: &[u8]) -> Result<(Vec<u8>, Option<String>), ParseError> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(body);
    loop {
        let event = reader.read_event().map_err(|error| ParseError::Syntax {
            position: reader.buffer_position(),
            error,
        })?;
        match event {
            Event::Start(e) | Event::Empty(e) => {
                let mut scopes = Scopes::default();
                let mut bindings = Vec::new();
                for attribute in attributes(&e) {
                    if let Attribute::Binding(prefix, namespace) = attribute? {
                        bindings.push((prefix.to_vec(), namespace.into_owned()));
                    }
                }
                scopes.enter(bindings);
                let (local, namespace) = scopes.resolve(e.name());
                return Ok((local.to_vec(), namespace.map(str::to_owned)));
            }
            Event::DocType(_) => return Err(ParseError::Dtd),
            Event::Eof => return Err(ParseError::NoElement),
            Event::End(_) => return Err(ParseError::EndWithoutStart),
            _ => {}
        }
    }
}

/// What comes after the root element: only white space, comments and
/// processing instructions.
fn epilogue(rest: &[u8]) -> Result<(), ParseError> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(rest);
    loop {
        let event = reader.read_event().map_err(|error| ParseError::Syntax {
            position: reader.buffer_position(),
            error,
        })?;
        match event {
            Event::Eof => return Ok(()),
            Event::Comment(_) | Event::PI(_) => {}
            Event::Text(t) if t.iter().all(u8::is_ascii_whitespace) => {}
            Event::End(_) => return Err(ParseError::EndWithoutStart),
            _ => return Err(ParseError::MoreThanOneRoot),
        }
    }
}

/// An element's text or an attribute's value, trimmed: absent when empty,
/// when the element carries `xsi:nil="true"`, or when it is not there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Text<'a>(Option<Cow<'a, str>>);

impl<'a> Text<'a> {
    /// The text, trimmed, if there is any.
    pub fn get(&self) -> Option<&str> {
        self.0.as_deref().map(str::trim).filter(|t| !t.is_empty())
    }
}

/// The text itself, for [`Text`]'s `Option`.
struct Inner<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Inner<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Inner<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("text")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Inner<'a>, E> {
                Ok(Inner(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Inner<'a>, E> {
                Ok(Inner(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Inner<'a>, E> {
                Ok(Inner(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(V(std::marker::PhantomData))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Through `Option`, so that quick-xml reads `xsi:nil` as absent.
        Ok(Text(
            Option::<Inner<'a>>::deserialize(deserializer)?.map(|i| i.0),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Root<'a> {
        #[serde(rename = "A", default, borrow)]
        a: Text<'a>,
        #[serde(rename = "B", default, borrow)]
        b: Option<Leaf<'a>>,
    }

    #[derive(Debug, Deserialize)]
    struct Leaf<'a> {
        #[serde(rename = "@at", default, borrow)]
        at: Text<'a>,
        #[serde(rename = "$text", default, borrow)]
        text: Text<'a>,
    }

    fn read(xml: &str) -> Result<Root<'_>, ParseError> {
        document(xml.as_bytes(), "Root", None)
    }

    #[test]
    fn reads_text_attributes_and_references() {
        let root =
            read(r#"<Root><A> x &amp; y&#33; </A><B at="1&lt;2">t</B><C><A>deep</A></C></Root>"#)
                .unwrap();
        assert_eq!(root.a.get(), Some("x & y!"));
        let b = root.b.unwrap();
        assert_eq!((b.at.get(), b.text.get()), (Some("1<2"), Some("t")));
    }

    #[test]
    fn empty_nil_and_missing_are_absent() {
        for xml in [
            "<Root><A/></Root>",
            "<Root><A>  </A></Root>",
            r#"<Root xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><A xsi:nil="true">x</A></Root>"#,
            "<Root/>",
        ] {
            assert_eq!(read(xml).unwrap().a.get(), None, "{xml}");
        }
    }

    #[test]
    fn refuses_what_the_tree_refuses_and_more() {
        for xml in ["<Root><A>1</A><A>2</A></Root>", "<Root><A><X/></A></Root>"] {
            assert!(matches!(read(xml), Err(ParseError::Shape(_))), "{xml}");
        }
        for (xml, why) in [
            ("<Root><A>1</A></Root><Root/>", "a second root"),
            ("<Root><A>1</Root>", "mismatched end"),
            ("<Root><A>1</A>", "truncated"),
            ("<!DOCTYPE Root><Root/>", "a DTD"),
            ("<Root><A>&x;</A></Root>", "an unknown entity"),
            (
                "<Root><C></D></C></Root>",
                "mismatched tags in a skipped element",
            ),
            ("<Root/></Root>", "a stray end tag"),
            ("<Root/>text", "text after the root"),
            ("<Other/>", "another root"),
            ("<r:Root xmlns:r=\"urn:x\"/>", "a root in a namespace"),
        ] {
            assert!(read(xml).is_err(), "{why}: {xml}");
        }
        // Skipped, not kept: no limit on depth, and nothing of it looked at
        // but its tags.
        let deep = format!(
            "<Root><C a=\"&x;\">{}{}</C><A>ok</A></Root> <!-- done -->\n",
            "<D>&y;".repeat(10_000),
            "</D>".repeat(10_000)
        );
        assert_eq!(read(&deep).unwrap().a.get(), Some("ok"));
        assert!(matches!(
            document::<Root>(b"<Root><A>\xff</A></Root>", "Root", None),
            Err(ParseError::NotUtf8(_))
        ));
    }
}
