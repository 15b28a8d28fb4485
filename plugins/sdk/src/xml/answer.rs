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
//! attributes `$text` (quick-xml's serde conventions). An element reads as
//! a structure, as text (which must hold no element), as `None` when it
//! carries `xsi:nil="true"`, or, for a `Vec`, with the siblings of the
//! same name right after it (the same name further on is the same element
//! said twice). The reader is quick-xml's, without its serde layer: one
//! pass, no namespace resolution past the root, nothing built but what the
//! structure reads.
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
//!   character references, its attributes (at most 64 to an element, none
//!   said twice). In an element it skips, only the tags are looked at (the
//!   tree refused an unknown entity or a bad attribute anywhere). Nothing
//!   nests deeper than 64, read or skipped, as the tree allows; nothing
//!   but white space comes before the root; an element's name cannot pose
//!   as an attribute's or the text's member (`<@ID>`, `<$text>`).
//! - `xsi:nil` (`true` or `1`, not a namespace binding named `nil`) reads
//!   as absent only on an empty element: a nil element with content is
//!   refused. A structure for which an element's presence matters
//!   whatever it carries (a supplier's `<Error>`) reads it as a `Vec`,
//!   which no `xsi:nil` empties.
//! - [`Text`]: an element's text or an attribute's value, trimmed; absent
//!   when empty or `xsi:nil`.
//! - An element the structure reads that appears twice where one is
//!   expected makes the answer unreadable (the tree's `child` took the
//!   first): a supplier that says two things has said nothing a connector
//!   may act on. Elements the structure does not name are skipped.
//! - An element the structure reads as text that holds elements instead
//!   makes the answer unreadable.

use super::de::{Element, Reader};
use super::tree::{Attribute, ParseError, Scopes, attributes};
use quick_xml::events::Event;
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
    let mut reader = Reader::new(text);
    // The prologue: anything but a DTD, up to the root element.
    let (start, empty) = loop {
        match reader.next()? {
            Event::Start(e) => break (e, false),
            Event::Empty(e) => break (e, true),
            Event::End(_) => return Err(ParseError::EndWithoutStart),
            Event::Eof => return Err(ParseError::NoElement),
            Event::Text(t) if t.iter().all(u8::is_ascii_whitespace) => {}
            _ => {
                return Err(ParseError::Shape("text before the root element".into()));
            }
        }
    };
    // The root's own bindings are the only ones in scope.
    let mut bindings = Vec::new();
    for attribute in attributes(&start)? {
        if let Attribute::Binding(prefix, namespace) = attribute {
            bindings.push((prefix.to_vec(), namespace.into_owned()));
        }
    }
    let mut scopes = Scopes::default();
    scopes.enter(bindings);
    let (local, found) = scopes.resolve(start.name());
    if (local, found) != (root.as_bytes(), namespace) {
        return Err(ParseError::Root {
            expected: match namespace {
                Some(ns) => format!("{root} in {ns}"),
                None => root.to_owned(),
            },
        });
    }
    let value = T::deserialize(Element {
        reader: &mut reader,
        start,
        empty,
        root: true,
    })?;
    // The epilogue: white space, comments and processing instructions.
    loop {
        match reader.next()? {
            Event::Eof => return Ok(value),
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
        // Through `Option`, so that `xsi:nil` reads as absent.
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

    #[derive(Debug, Deserialize)]
    struct List<'a> {
        #[serde(rename = "G", default, borrow)]
        g: Vec<Leaf<'a>>,
        #[serde(rename = "N", default)]
        n: Option<u32>,
    }

    #[test]
    fn siblings_of_one_name_are_a_list_and_numbers_are_parsed() {
        let list: List = document(
            br#"<Root><G at="1"/>
                <G at="2">x</G><N> 42 </N></Root>"#,
            "Root",
            None,
        )
        .unwrap();
        let read: Vec<_> = list.g.iter().map(|g| (g.at.get(), g.text.get())).collect();
        assert_eq!(read, [(Some("1"), None), (Some("2"), Some("x"))]);
        assert_eq!(list.n, Some(42));
        // The same name further on is the same element said twice.
        assert!(matches!(
            document::<List>(b"<Root><G/><N>1</N><G/></Root>", "Root", None),
            Err(ParseError::Shape(_))
        ));
        assert!(matches!(
            document::<List>(b"<Root><N>4x</N></Root>", "Root", None),
            Err(ParseError::Shape(_))
        ));
    }

    #[test]
    fn empty_nil_and_missing_are_absent() {
        for xml in [
            "<Root><A/></Root>",
            "<Root><A>  </A></Root>",
            r#"<Root xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><A xsi:nil="true"/></Root>"#,
            r#"<Root xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><A xsi:nil="1"> </A></Root>"#,
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
        // Skipped, only its tags looked at; nothing deeper than 64, read
        // or skipped.
        let deep = |n: usize| {
            format!(
                "<Root><C a=\"&x;\">{}{}</C><A>ok</A></Root> <!-- done -->\n",
                "<D>&y;".repeat(n),
                "</D>".repeat(n)
            )
        };
        assert_eq!(read(&deep(60)).unwrap().a.get(), Some("ok"));
        assert!(matches!(read(&deep(100)), Err(ParseError::TooDeepOrLarge)));
        // A nil element with content is refused, not read as absent; a
        // namespace binding named `nil` is no nil.
        for xml in [
            r#"<Root xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><A xsi:nil="true">x</A></Root>"#,
            r#"<Root><B q:nil="true"><C/></B></Root>"#,
        ] {
            assert!(matches!(read(xml), Err(ParseError::Shape(_))), "{xml}");
        }
        assert_eq!(
            read(r#"<Root><A xmlns:nil="true">x</A></Root>"#)
                .unwrap()
                .a
                .get(),
            Some("x")
        );
        // A form feed is no white space in a tag: it is an attribute
        // without a value, refused where the element is read.
        for xml in ["<Root><A \x0c>x</A></Root>", "<Root><B \x0c>t</B></Root>"] {
            assert!(read(xml).is_err(), "{xml:?}");
        }
        // Names that pose as members, text before the root, a list at the
        // root, too many attributes.
        for xml in [
            "<Root><$text>x</$text></Root>",
            "<Root><B><@at>1</@at></B></Root>",
            "<Root><:A>x</:A></Root>",
            "junk<Root/>",
            "&amp;<Root/>",
        ] {
            assert!(read(xml).is_err(), "{xml}");
        }
        assert!(document::<Vec<Text>>(b"<Root>1</Root><Root>2</Root>", "Root", None).is_err());
        let many: String = (0..65).map(|i| format!(" a{i}=\"\"")).collect();
        assert!(matches!(
            read(&format!("<Root><B{many}/></Root>")),
            Err(ParseError::TooManyAttributes)
        ));
        assert!(matches!(
            document::<Root>(b"<Root><A>\xff</A></Root>", "Root", None),
            Err(ParseError::NotUtf8(_))
        ));
    }

    #[derive(Debug, Deserialize)]
    struct Lent<'a> {
        #[serde(rename = "@at", borrow)]
        at: &'a str,
        #[serde(rename = "M", borrow)]
        m: std::collections::BTreeMap<&'a str, &'a str>,
    }

    #[test]
    fn names_and_values_without_references_are_lent_from_the_document() {
        // An attribute's value and a child's name borrow the document;
        // one with a reference is read too, owned.
        let lent: Lent = document(
            br#"<Root at="1"><M><A>x</A><B>y</B></M></Root>"#,
            "Root",
            None,
        )
        .unwrap();
        assert_eq!(lent.at, "1");
        assert_eq!(
            lent.m.into_iter().collect::<Vec<_>>(),
            [("A", "x"), ("B", "y")]
        );
        let root = read(r#"<Root><B at="&lt;1">t</B></Root>"#).unwrap();
        assert_eq!(root.b.unwrap().at.get(), Some("<1"));
    }
}
