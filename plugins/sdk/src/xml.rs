//! XML (SOAP) bodies with secrets in them.
//!
//! ```ignore
//! let body = Element::new("soapenv:Envelope")
//!     .attr("xmlns:soapenv", "http://schemas.xmlsoap.org/soap/envelope/")
//!     .child(Element::new("APIKey").secret_text("api_key"))
//!     .to_document();
//! ```
//!
//! Text and attribute values are escaped; a secret is escaped by the host.
//! To read an answer, parse it with `quick-xml` as XML.

use crate::{Parts, SecretEncoding};
use quick_xml::escape::escape;

/// An XML element with attributes and children.
#[derive(Debug, Clone)]
pub struct Element {
    name: String,
    attributes: Vec<(String, String)>,
    children: Vec<Node>,
}

#[derive(Debug, Clone)]
enum Node {
    Element(Element),
    Text(String),
    Secret(String),
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
        self.children.push(Node::Element(child));
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
        self.children.push(Node::Text(text.into()));
        self
    }

    /// Adds the secret `name` as text.
    pub fn secret_text(mut self, name: impl Into<String>) -> Self {
        self.children.push(Node::Secret(name.into()));
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
                Node::Element(element) => element.write(parts),
                Node::Text(text) => parts.text(escape(text.as_str())),
                Node::Secret(name) => parts.secret(name.as_str(), SecretEncoding::XmlText),
            };
        }
        parts.text(format!("</{}>", self.name))
    }
}
