//! An XML document written as it is built, straight into the parts a
//! request sends: no tree of elements first.

use crate::{Encoding, Parts, Sealed};
use quick_xml::escape::escape;

/// An XML document (or a fragment) written as it is built: each call
/// appends, in order. Text and attribute values are escaped here; a secret
/// or a sealed value becomes a part the host fills in and escapes. An
/// element with nothing in it is written `<name/>`, as [`super::Element`]
/// writes it.
///
/// ```
/// # use payhost_sdk::xml::Writer;
/// let mut doc = Writer::fragment();
/// doc.element("a:Root", &[("x", "1 & 2")], |root| {
///     root.leaf("Id", "<7>");
///     root.element("Empty", &[], |_| {});
/// });
/// assert_eq!(doc.text_for_tests(), r#"<a:Root x="1 &amp; 2"><Id>&lt;7&gt;</Id><Empty/></a:Root>"#);
/// ```
#[derive(Debug, Default)]
pub struct Writer {
    parts: Parts,
    text: String,
    /// An element's start tag is written up to its `>`, which waits for
    /// its first content (or becomes `/>` if none comes).
    open: bool,
}

impl Writer {
    /// A document: the XML declaration, then what is written.
    pub fn document() -> Writer {
        Writer {
            text: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>".to_owned(),
            ..Writer::default()
        }
    }

    /// A fragment: what is written, with no declaration.
    pub fn fragment() -> Writer {
        Writer::default()
    }

    /// Ends a start tag left open for content.
    fn content(&mut self) {
        if self.open {
            self.text.push('>');
            self.open = false;
        }
    }

    fn flush(&mut self) {
        self.content();
        if !self.text.is_empty() {
            self.parts = std::mem::take(&mut self.parts).text(&self.text);
            self.text.clear();
        }
    }

    /// An element named `name` (with its prefix, if any: `soapenv:Body`)
    /// with `attributes`, whose content `children` writes.
    pub fn element(
        &mut self,
        name: &str,
        attributes: &[(&str, &str)],
        children: impl FnOnce(&mut Writer),
    ) -> &mut Writer {
        self.content();
        self.text.push('<');
        self.text.push_str(name);
        for (attribute, value) in attributes {
            self.text.push(' ');
            self.text.push_str(attribute);
            self.text.push_str("=\"");
            self.text.push_str(&escape(*value));
            self.text.push('"');
        }
        self.open = true;
        children(self);
        if self.open {
            self.text.push_str("/>");
            self.open = false;
        } else {
            self.text.push_str("</");
            self.text.push_str(name);
            self.text.push('>');
        }
        self
    }

    /// Text, escaped.
    pub fn text(&mut self, text: &str) -> &mut Writer {
        self.content();
        self.text.push_str(&escape(text));
        self
    }

    /// An element with only `text` in it: `<name>text</name>`.
    pub fn leaf(&mut self, name: &str, text: &str) -> &mut Writer {
        self.element(name, &[], |element| {
            element.text(text);
        })
    }

    /// The secret `name` as text (escaped by the host).
    pub fn secret_text(&mut self, name: &str) -> &mut Writer {
        self.flush();
        self.parts = std::mem::take(&mut self.parts).secret(name, Encoding::XmlText);
        self
    }

    /// A sealed value as text (escaped by the host): a card number, a CVV.
    pub fn sealed_text(&mut self, value: &Sealed) -> &mut Writer {
        self.flush();
        self.parts = std::mem::take(&mut self.parts).sealed(value, Encoding::XmlText);
        self
    }

    /// An element with only the secret `secret` in it.
    pub fn secret_leaf(&mut self, name: &str, secret: &str) -> &mut Writer {
        self.element(name, &[], |element| {
            element.secret_text(secret);
        })
    }

    /// An element with only a sealed value in it.
    pub fn sealed_leaf(&mut self, name: &str, value: &Sealed) -> &mut Writer {
        self.element(name, &[], |element| {
            element.sealed_text(value);
        })
    }

    /// The document's parts.
    pub fn finish(mut self) -> Parts {
        self.flush();
        self.parts
    }

    /// The document as text, each hidden value as `<hidden>`: for tests.
    #[doc(hidden)]
    pub fn text_for_tests(self) -> String {
        self.finish().text_for_tests()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::Element;

    #[test]
    fn writes_what_the_element_tree_writes() {
        let number = Sealed::native(b"4111111111111111".to_vec());
        let tree = Element::new("a:Root")
            .attr("x", "1 \"&\" <2>")
            .child(Element::new("Key").secret_text("api_key"))
            .child(Element::new("Card").sealed_text(&number))
            .child(Element::new("Note").text("\u{1}payhost-secret\u{1}api_key\u{1} & <"))
            .child(Element::new("Empty"))
            .to_document();
        let mut doc = Writer::document();
        doc.element("a:Root", &[("x", "1 \"&\" <2>")], |root| {
            root.secret_leaf("Key", "api_key")
                .sealed_leaf("Card", &number)
                .leaf("Note", "\u{1}payhost-secret\u{1}api_key\u{1} & <")
                .element("Empty", &[], |_| {});
        });
        assert_eq!(format!("{:?}", doc.finish()), format!("{tree:?}"));
    }
}
