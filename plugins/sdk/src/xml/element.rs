//! An XML element built as a tree, then written into parts.

use crate::{Encoding, Parts, Sealed};
use quick_xml::escape::escape;

/// An XML element with attributes and children.
#[derive(Debug, Clone)]
pub struct Element {
    name: String,
    attributes: Vec<(String, String)>,
    children: Vec<Content>,
}

#[derive(Debug, Clone)]
enum Content {
    Element(Element),
    Text(String),
    Secret(String),
    Sealed(Sealed),
}

impl Element {
    /// An element named `name` (with its prefix, if any: `soapenv:Body`).
    pub fn new(name: impl Into<String>) -> Self {
        Element {
            name: name.into(),
            attributes: Vec::new(),
            children: Vec::new(),
        }
    }

    /// Adds an attribute.
    pub fn attr(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.attributes.push((name.into(), value.into()));
        self
    }

    /// Adds a child element.
    pub fn child(mut self, child: Element) -> Self {
        self.children.push(Content::Element(child));
        self
    }

    /// Adds a child element only when `child` is `Some`.
    pub fn child_opt(self, child: Option<Element>) -> Self {
        match child {
            Some(child) => self.child(child),
            None => self,
        }
    }

    /// Adds text.
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.children.push(Content::Text(text.into()));
        self
    }

    /// Adds the secret `name` as text (escaped by the host).
    pub fn secret_text(mut self, name: impl Into<String>) -> Self {
        self.children.push(Content::Secret(name.into()));
        self
    }

    /// Adds a sealed value as text (escaped by the host): a card number, a
    /// CVV.
    pub fn sealed_text(mut self, value: &Sealed) -> Self {
        self.children.push(Content::Sealed(value.clone()));
        self
    }

    /// The element as a document, with an XML declaration.
    pub fn to_document(&self) -> Parts {
        let parts = Parts::new().text("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
        self.write(parts)
    }

    /// The element alone.
    pub fn to_parts(&self) -> Parts {
        self.write(Parts::new())
    }

    fn write(&self, mut parts: Parts) -> Parts {
        let mut open = format!("<{}", self.name);
        for (name, value) in &self.attributes {
            open.push_str(&format!(" {name}=\"{}\"", escape(value.as_str())));
        }
        if self.children.is_empty() {
            open.push_str("/>");
            return parts.text(open);
        }
        open.push('>');
        parts = parts.text(open);
        for child in &self.children {
            parts = match child {
                Content::Element(element) => element.write(parts),
                Content::Text(text) => parts.text(escape(text.as_str())),
                Content::Secret(name) => parts.secret(name.as_str(), Encoding::XmlText),
                Content::Sealed(value) => parts.sealed(value, Encoding::XmlText),
            };
        }
        parts.text(format!("</{}>", self.name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parts::Part;

    #[test]
    fn secrets_and_sealed_values_are_parts_and_text_is_escaped() {
        let number = Sealed::native(b"4111111111111111".to_vec());
        let parts = Element::new("a:Root")
            .attr("x", "1 \"&\" <2>")
            .child(Element::new("Key").secret_text("api_key"))
            .child(Element::new("Card").sealed_text(&number))
            .child(Element::new("Note").text("\u{1}payhost-secret\u{1}api_key\u{1} & <"))
            .child(Element::new("Empty"))
            .to_document()
            .0;
        assert_eq!(parts.len(), 5, "{parts:?}");
        assert!(matches!(&parts[0], Part::Literal(b)
            if b == b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><a:Root x=\"1 &quot;&amp;&quot; &lt;2&gt;\"><Key>"));
        assert!(matches!(&parts[1], Part::Secret(s)
            if s.name == "api_key" && s.encoding == Encoding::XmlText));
        assert!(matches!(&parts[2], Part::Literal(b) if b == b"</Key><Card>"));
        assert!(matches!(&parts[3], Part::Sealed(s)
            if s.encoding == Encoding::XmlText && s.value.native_bytes() == b"4111111111111111"));
        assert!(matches!(&parts[4], Part::Literal(b)
            if b == "</Card><Note>\u{1}payhost-secret\u{1}api_key\u{1} &amp; &lt;</Note><Empty/></a:Root>".as_bytes()));
    }
}
