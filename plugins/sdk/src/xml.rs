//! XML (SOAP) bodies with secrets and sealed values in them.
//!
//! ```
//! # use payhost_sdk::{Sealed, xml::Element};
//! # struct Card { number: Sealed }
//! # let card = Card { number: Sealed::native(b"4111111111111111".to_vec()) };
//! let body = Element::new("soapenv:Envelope")
//!     .attr("xmlns:soapenv", "http://schemas.xmlsoap.org/soap/envelope/")
//!     .child(Element::new("APIKey").secret_text("api_key"))
//!     .child(Element::new("CardNumber").sealed_text(&card.number))
//!     .to_document();
//! ```
//!
//! Text and attribute values are escaped here; a secret or a sealed value is
//! a typed child, never a string, and the host escapes it as it writes it.
//! To read an answer, [`parse`] it; what it refuses is a [`ParseError`].

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

/// An element of a parsed document: local names, namespaces resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Node {
    /// The local name (`Envelope` for `SOAP-ENV:Envelope`).
    pub name: String,
    /// The namespace URI, if the element has one.
    pub namespace: Option<String>,
    /// Attributes by local name, values unescaped.
    pub attributes: Vec<(String, String)>,
    /// The element's own text, entities resolved, trimmed.
    pub text: String,
    /// Whether it carries `xsi:nil="true"`.
    pub nil: bool,
    /// Child elements in order.
    pub children: Vec<Node>,
}

impl Node {
    /// The first child with this local name.
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child with this local name.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The first element with this local name at any depth, this one included.
    pub fn find(&self, name: &str) -> Option<&Node> {
        if self.name == name {
            return Some(self);
        }
        self.children.iter().find_map(|c| c.find(name))
    }

    /// An attribute by local name.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The text, or `None` when empty or `xsi:nil`.
    pub fn value(&self) -> Option<&str> {
        (!self.nil && !self.text.is_empty()).then_some(self.text.as_str())
    }
}

/// Why [`parse`] refused a document. Its text (`Display`) says what is
/// wrong in plain words, e.g. to put in
/// `response.unreadable(&format!("not XML ({e})"))`.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The document is not well-formed XML.
    #[error("not well-formed XML at byte {position}: {error}")]
    Syntax {
        /// Where in the document the reader was, in bytes from its start.
        position: u64,
        /// What the XML reader found wrong.
        error: quick_xml::Error,
    },
    /// An element's attribute is not well-formed.
    #[error("bad attribute: {0}")]
    Attribute(quick_xml::events::attributes::AttrError),
    /// An attribute's value has a bad entity or character reference.
    #[error("bad attribute value: {0}")]
    AttributeValue(quick_xml::Error),
    /// A text's bytes are not in the document's encoding.
    #[error("bad text: {0}")]
    Text(quick_xml::encoding::EncodingError),
    /// A CDATA section's bytes are not in the document's encoding.
    #[error("bad CDATA: {0}")]
    CData(quick_xml::encoding::EncodingError),
    /// A character reference (`&#...;`) is not a valid character.
    #[error("bad character reference: {0}")]
    CharacterReference(quick_xml::Error),
    /// An entity reference's name is not in the document's encoding.
    #[error("bad entity: {0}")]
    Entity(quick_xml::encoding::EncodingError),
    /// An entity that is not one of XML's five predefined ones (`&amp;`,
    /// `&lt;`, `&gt;`, `&apos;`, `&quot;`).
    #[error("unknown entity &{name};")]
    UnknownEntity {
        /// The entity's name, without `&` and `;`.
        name: String,
    },
    /// The document declares a DTD (its own entities are refused).
    #[error("a DTD is not allowed")]
    Dtd,
    /// An element opens deeper than 64 levels, or past the 20,000th element.
    #[error("the document is too deep or too large")]
    TooDeepOrLarge,
    /// An empty element (`<a/>`) past the 20,000th element.
    #[error("the document is too large")]
    TooLarge,
    /// A second root element.
    #[error("more than one root element")]
    MoreThanOneRoot,
    /// An end tag with no element open.
    #[error("an end tag without a start")]
    EndWithoutStart,
    /// The document ends with an element still open.
    #[error("the document ends inside an element (truncated)")]
    Truncated,
    /// The document has no element at all.
    #[error("the document has no element")]
    NoElement,
}

/// The deepest nesting [`parse`] accepts.
const MAX_DEPTH: usize = 64;
/// The most elements [`parse`] accepts.
const MAX_ELEMENTS: usize = 20_000;

/// Parses a document as XML (namespaces, entities, `xsi:nil`) into its root
/// element. Refuses what is not well-formed, a DTD's own entities, and
/// documents deeper than 64 levels or larger than 20,000 elements.
pub fn parse(bytes: &[u8]) -> Result<Node, ParseError> {
    use quick_xml::events::Event;
    use quick_xml::name::ResolveResult;

    let mut reader = quick_xml::NsReader::from_reader(bytes);
    reader.config_mut().trim_text(false);
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    let mut count = 0usize;
    let open = |reader: &quick_xml::NsReader<&[u8]>,
                e: &quick_xml::events::BytesStart|
     -> Result<Node, ParseError> {
        let (ns, local) = reader.resolve_element(e.name());
        let mut node = Node {
            name: String::from_utf8_lossy(local.as_ref()).into_owned(),
            namespace: match ns {
                ResolveResult::Bound(ns) => Some(String::from_utf8_lossy(ns.as_ref()).into_owned()),
                _ => None,
            },
            ..Node::default()
        };
        for attr in e.attributes() {
            let attr = attr.map_err(ParseError::Attribute)?;
            let name = String::from_utf8_lossy(attr.key.local_name().as_ref()).into_owned();
            let value = attr
                .unescape_value()
                .map_err(ParseError::AttributeValue)?
                .into_owned();
            if name == "nil" && value == "true" {
                node.nil = true;
            }
            if attr.key.as_namespace_binding().is_none() {
                node.attributes.push((name, value));
            }
        }
        Ok(node)
    };
    loop {
        let event = reader.read_event().map_err(|error| ParseError::Syntax {
            position: reader.buffer_position(),
            error,
        })?;
        match event {
            Event::Start(e) => {
                count += 1;
                if stack.len() >= MAX_DEPTH || count > MAX_ELEMENTS {
                    return Err(ParseError::TooDeepOrLarge);
                }
                stack.push(open(&reader, &e)?);
            }
            Event::Empty(e) => {
                count += 1;
                if count > MAX_ELEMENTS {
                    return Err(ParseError::TooLarge);
                }
                let node = open(&reader, &e)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None if root.is_none() => root = Some(node),
                    None => return Err(ParseError::MoreThanOneRoot),
                }
            }
            Event::End(_) => {
                let mut node = stack.pop().ok_or(ParseError::EndWithoutStart)?;
                let trimmed = node.text.trim();
                if trimmed.len() != node.text.len() {
                    node.text = trimmed.to_owned();
                }
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None if root.is_none() => root = Some(node),
                    None => return Err(ParseError::MoreThanOneRoot),
                }
            }
            Event::Text(t) => {
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(&t.decode().map_err(ParseError::Text)?);
                }
            }
            Event::CData(t) => {
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(&t.decode().map_err(ParseError::CData)?);
                }
            }
            Event::GeneralRef(r) => {
                let resolved = match r
                    .resolve_char_ref()
                    .map_err(ParseError::CharacterReference)?
                {
                    Some(c) => c.to_string(),
                    None => {
                        let name = r.decode().map_err(ParseError::Entity)?;
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| ParseError::UnknownEntity {
                                name: name.to_string(),
                            })?
                            .to_owned()
                    }
                };
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(&resolved);
                }
            }
            Event::DocType(_) => return Err(ParseError::Dtd),
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(ParseError::Truncated);
    }
    root.ok_or(ParseError::NoElement)
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
