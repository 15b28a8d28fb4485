//! A parsed document as a tree of [`Node`]s: for a connector that walks
//! an answer it does not know the shape of. A connector that knows its
//! supplier's answers reads them typed, with [`super::answer`].

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
    /// An element carries more than 64 attributes.
    #[error("an element has more than 64 attributes")]
    TooManyAttributes,
    /// The document's bytes are not UTF-8 ([`super::answer::document`]).
    #[error("not UTF-8: {0}")]
    NotUtf8(std::str::Utf8Error),
    /// The root element is not the one expected
    /// ([`super::answer::document`]).
    #[error("the root element is not {expected}")]
    Root {
        /// The name expected, and its namespace.
        expected: String,
    },
    /// The document does not have the shape read into
    /// ([`super::answer::document`]): an element said twice, elements
    /// where text is read, text that is not the type read.
    #[error("unexpected shape: {0}")]
    Shape(String),
}

/// The deepest nesting [`parse`] accepts.
const MAX_DEPTH: usize = 64;
/// The most elements [`parse`] accepts.
const MAX_ELEMENTS: usize = 20_000;

/// Parses a document as XML (namespaces, entities, `xsi:nil`) into its root
/// element. Refuses what is not well-formed, a DTD's own entities, and
/// documents deeper than 64 levels or larger than 20,000 elements.
pub fn parse(bytes: &[u8]) -> Result<Node, ParseError> {
    let mut tree = Tree::default();
    walk(bytes, &mut tree)?;
    tree.root.ok_or(ParseError::NoElement)
}

/// What [`walk`] tells as it reads a document, in order.
trait Sink {
    /// An element opens (an empty one is closed right after).
    fn open(&mut self, element: &quick_xml::events::BytesStart) -> Result<(), ParseError>;
    /// The element opened last closes.
    fn close(&mut self);
    /// Text or CDATA inside the element open last, as it stands in the
    /// document.
    fn raw_text(&mut self, text: &[u8], cdata: bool) -> Result<(), ParseError>;
    /// A resolved entity or character reference inside the element open
    /// last.
    fn text(&mut self, text: &str);
}

/// Reads a whole document, checking what [`parse`] promises (well-formed,
/// no DTD, known entities, one root, at most 64 deep and 20,000 elements),
/// and tells `sink` what it finds.
fn walk(bytes: &[u8], sink: &mut impl Sink) -> Result<(), ParseError> {
    use quick_xml::events::Event;

    let mut reader = quick_xml::Reader::from_reader(bytes);
    reader.config_mut().trim_text(false);
    let mut depth = 0usize;
    let mut roots = 0usize;
    let mut count = 0usize;
    loop {
        let event = reader.read_event().map_err(|error| ParseError::Syntax {
            position: reader.buffer_position(),
            error,
        })?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                count += 1;
                if !empty && depth >= MAX_DEPTH || count > MAX_ELEMENTS {
                    return Err(if empty {
                        ParseError::TooLarge
                    } else {
                        ParseError::TooDeepOrLarge
                    });
                }
                if depth == 0 {
                    roots += 1;
                    if roots > 1 {
                        return Err(ParseError::MoreThanOneRoot);
                    }
                }
                sink.open(e)?;
                if empty {
                    sink.close();
                } else {
                    depth += 1;
                }
            }
            Event::End(_) => {
                depth = depth.checked_sub(1).ok_or(ParseError::EndWithoutStart)?;
                sink.close();
            }
            Event::Text(t) => sink.raw_text(&t, false)?,
            Event::CData(t) => sink.raw_text(&t, true)?,
            Event::GeneralRef(r) => {
                let mut resolved = String::new();
                push_reference(&r, &mut resolved)?;
                sink.text(&resolved);
            }
            Event::DocType(_) => return Err(ParseError::Dtd),
            Event::Eof => break,
            _ => {}
        }
    }
    if depth != 0 {
        return Err(ParseError::Truncated);
    }
    if roots == 0 {
        return Err(ParseError::NoElement);
    }
    Ok(())
}

/// An entity or character reference resolved onto `out`: XML's five
/// predefined entities and character references only.
pub(super) fn push_reference(
    reference: &quick_xml::events::BytesRef,
    out: &mut String,
) -> Result<(), ParseError> {
    match reference
        .resolve_char_ref()
        .map_err(ParseError::CharacterReference)?
    {
        Some(c) => out.push(c),
        None => {
            let name = reference.decode().map_err(ParseError::Entity)?;
            out.push_str(
                quick_xml::escape::resolve_predefined_entity(&name).ok_or_else(|| {
                    ParseError::UnknownEntity {
                        name: name.to_string(),
                    }
                })?,
            );
        }
    }
    Ok(())
}

/// One of an element's attributes, checked and unescaped.
pub(super) enum Attribute<'e> {
    /// An attribute: its local name and value.
    Plain(&'e [u8], std::borrow::Cow<'e, str>),
    /// A namespace binding: the prefix (empty for the default namespace)
    /// and the namespace.
    Binding(&'e [u8], std::borrow::Cow<'e, str>),
}

/// An element's attributes, each checked and unescaped: at most 64, no
/// name said twice.
pub(super) fn attributes<'e>(
    element: &'e quick_xml::events::BytesStart,
) -> Result<Vec<Attribute<'e>>, ParseError> {
    use quick_xml::name::PrefixDeclaration;
    let mut out: Vec<Attribute<'e>> = Vec::new();
    let mut keys: Vec<&'e [u8]> = Vec::new();
    for attr in element.attributes().with_checks(false) {
        let attr = attr.map_err(ParseError::Attribute)?;
        // At most MAX_ATTRIBUTES, none said twice: checked here, not by
        // quick-xml, whose check takes time quadratic in their number.
        if keys.len() == MAX_ATTRIBUTES {
            return Err(ParseError::TooManyAttributes);
        }
        let key = attr.key.into_inner();
        if let Some(at) = keys.iter().position(|k| *k == key) {
            return Err(ParseError::Attribute(
                quick_xml::events::attributes::AttrError::Duplicated(keys.len(), at),
            ));
        }
        keys.push(key);
        let value = attr.unescape_value().map_err(ParseError::AttributeValue)?;
        out.push(match attr.key.as_namespace_binding() {
            Some(PrefixDeclaration::Default) => Attribute::Binding(b"", value),
            Some(PrefixDeclaration::Named(prefix)) => Attribute::Binding(prefix, value),
            None => Attribute::Plain(attr.key.local_name().into_inner(), value),
        });
    }
    Ok(out)
}

/// The most attributes an element may carry.
const MAX_ATTRIBUTES: usize = 64;

/// The namespace bindings in scope, innermost last: prefix (empty for the
/// default namespace), namespace, and the depth of the element that made
/// each.
#[derive(Default)]
pub(super) struct Scopes {
    bindings: Vec<(Vec<u8>, String, usize)>,
    depth: usize,
}

impl Scopes {
    /// An element opens with these bindings.
    pub(super) fn enter(&mut self, bindings: impl IntoIterator<Item = (Vec<u8>, String)>) {
        self.depth += 1;
        let depth = self.depth;
        self.bindings
            .extend(bindings.into_iter().map(|(p, ns)| (p, ns, depth)));
    }

    /// The element opened last closes.
    pub(super) fn leave(&mut self) {
        while self.bindings.last().is_some_and(|b| b.2 == self.depth) {
            self.bindings.pop();
        }
        self.depth = self.depth.saturating_sub(1);
    }

    /// `name`'s local name and namespace (`None` when unbound or bound to
    /// nothing).
    pub(super) fn resolve<'n>(&self, name: quick_xml::name::QName<'n>) -> (&'n [u8], Option<&str>) {
        let prefix = name.prefix().map(|p| p.into_inner()).unwrap_or(b"");
        let namespace = match prefix {
            b"xml" => Some("http://www.w3.org/XML/1998/namespace"),
            _ => self
                .bindings
                .iter()
                .rev()
                .find(|(p, _, _)| p == prefix)
                .map(|(_, ns, _)| ns.as_str())
                .filter(|ns| !ns.is_empty()),
        };
        (name.local_name().into_inner(), namespace)
    }
}

/// Builds the tree [`parse`] returns.
#[derive(Default)]
struct Tree {
    stack: Vec<Node>,
    scopes: Scopes,
    root: Option<Node>,
}

impl Sink for Tree {
    fn open(&mut self, element: &quick_xml::events::BytesStart) -> Result<(), ParseError> {
        let mut node = Node::default();
        let mut bindings = Vec::new();
        for attribute in attributes(element)? {
            match attribute {
                Attribute::Binding(prefix, namespace) => {
                    bindings.push((prefix.to_vec(), namespace.into_owned()));
                }
                Attribute::Plain(name, value) => {
                    if name == b"nil" && value == "true" {
                        node.nil = true;
                    }
                    node.attributes.push((
                        String::from_utf8_lossy(name).into_owned(),
                        value.into_owned(),
                    ));
                }
            }
        }
        self.scopes.enter(bindings);
        let (local, namespace) = self.scopes.resolve(element.name());
        node.name = String::from_utf8_lossy(local).into_owned();
        node.namespace = namespace.map(str::to_owned);
        self.stack.push(node);
        Ok(())
    }

    fn close(&mut self) {
        self.scopes.leave();
        let Some(mut node) = self.stack.pop() else {
            return;
        };
        let trimmed = node.text.trim();
        if trimmed.len() != node.text.len() {
            node.text = trimmed.to_owned();
        }
        match self.stack.last_mut() {
            Some(parent) => parent.children.push(node),
            None => self.root = Some(node),
        }
    }

    fn raw_text(&mut self, text: &[u8], cdata: bool) -> Result<(), ParseError> {
        let text = std::str::from_utf8(text).map_err(|e| {
            let e = quick_xml::encoding::EncodingError::Utf8(e);
            if cdata {
                ParseError::CData(e)
            } else {
                ParseError::Text(e)
            }
        })?;
        self.text(text);
        Ok(())
    }

    fn text(&mut self, text: &str) {
        if let Some(node) = self.stack.last_mut() {
            node.text.push_str(text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_resolve_by_scope_and_what_is_wrong_is_refused() {
        let root = parse(
            br#"<s:E xmlns:s="urn:s" xmlns="urn:d"><s:B a="1 &amp; 2"><C xmlns="urn:c"><D/></C><F x:nil="true" xmlns:x="urn:x"> t </F><G/></s:B></s:E>"#,
        )
        .unwrap();
        assert_eq!(
            (root.name.as_str(), root.namespace.as_deref()),
            ("E", Some("urn:s"))
        );
        let b = root.child("B").unwrap();
        assert_eq!(b.namespace.as_deref(), Some("urn:s"));
        assert_eq!(b.attr("a"), Some("1 & 2"));
        let c = b.child("C").unwrap();
        assert_eq!(c.namespace.as_deref(), Some("urn:c"));
        assert_eq!(c.child("D").unwrap().namespace.as_deref(), Some("urn:c"));
        let f = b.child("F").unwrap();
        assert!(f.nil && f.value().is_none() && f.text == "t");
        // The default namespace is back once C's scope is closed.
        assert_eq!(b.child("G").unwrap().namespace.as_deref(), Some("urn:d"));
        for bad in [
            &b"<a><b></a>"[..],
            b"<a/><b/>",
            b"<!DOCTYPE a><a/>",
            b"<a>&x;</a>",
            b"<a>",
            b"</a>",
            b"",
        ] {
            assert!(parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
