//! A serde deserializer over quick-xml's plain reader, for
//! [`super::answer::document`]: one pass over the document, elements by
//! local name, nothing built but what the structure reads.
//!
//! An element reads as a structure (its attributes as `@name`, its child
//! elements by local name, its text as `$text`), as text (its content,
//! which must hold no element), as `None` when it carries `xsi:nil="true"`,
//! or as a sequence of itself and the siblings of the same name that follow
//! it. An element the structure does not name is skipped: its tags are
//! checked (the reader matches every end tag to its start), nothing else.

use super::tree::{Attribute, ParseError, attributes, push_reference};
use quick_xml::events::{BytesStart, Event};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

/// Why a document did not read: the reader's refusal, or the shape.
#[derive(Debug)]
pub(super) enum Error {
    /// What the document's syntax, references or structure break.
    Parse(ParseError),
    /// What the structure read expected and did not find.
    Shape(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Parse(e) => e.fmt(f),
            Error::Shape(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error::Shape(msg.to_string())
    }
}

impl From<ParseError> for Error {
    fn from(e: ParseError) -> Self {
        Error::Parse(e)
    }
}

impl From<Error> for ParseError {
    fn from(e: Error) -> Self {
        match e {
            Error::Parse(e) => e,
            Error::Shape(e) => ParseError::Shape(e),
        }
    }
}

/// The document's events, comments, processing instructions and the XML
/// declaration left out, with one event of look-ahead.
pub(super) struct Reader<'a> {
    inner: quick_xml::Reader<&'a [u8]>,
    /// The whole document, found UTF-8 once: what the reader lends is a
    /// slice of it, read as text by its place instead of checked again.
    document: &'a str,
    peeked: Option<Event<'a>>,
    /// Elements open, read or skipped alike: at most [`MAX_DEPTH`], as the
    /// tree allows, so that no structure (a recursive one, one that keeps
    /// what it does not know) recurses deeper.
    depth: usize,
}

/// The deepest nesting a document may have.
const MAX_DEPTH: usize = 64;

impl<'a> Reader<'a> {
    /// A reader at the start of `document`.
    pub(super) fn new(document: &'a str) -> Reader<'a> {
        Reader {
            inner: quick_xml::Reader::from_reader(document.as_bytes()),
            document,
            peeked: None,
            depth: 0,
        }
    }

    /// `piece`, lent by the reader, as text of the document's lifetime:
    /// the document's own characters where the piece is a slice of it (as
    /// every piece a reader of a slice lends is), otherwise checked.
    fn text_of<'p>(&self, piece: Cow<'p, [u8]>) -> Result<Cow<'a, str>, Error> {
        let whole = self.document.as_bytes().as_ptr_range();
        let range = piece.as_ptr_range();
        if whole.start <= range.start && range.end <= whole.end {
            let start = range.start.addr() - whole.start.addr();
            if let Some(text) = self.document.get(start..start + piece.len()) {
                return Ok(Cow::Borrowed(text));
            }
        }
        let text = String::from_utf8(piece.into_owned())
            .map_err(|e| Error::Shape(format!("not UTF-8: {}", e.utf8_error())))?;
        Ok(Cow::Owned(text))
    }

    /// The local name of an element (`Body` for `s:Body`), which must be
    /// a name: not empty, not one that could pose as an attribute's or
    /// the text's member (`@ID`, `$text`), no empty prefix.
    fn local_name(&self, start: &BytesStart<'_>) -> Result<Cow<'a, str>, Error> {
        let raw = start.name().into_inner();
        let local = self.text_of(Cow::Borrowed(start.local_name().into_inner()))?;
        // `@…` and `$…` name members; `:…` has an empty prefix.
        let posing = |b: &u8| matches!(b, b'@' | b'$' | b':');
        if local.is_empty()
            || raw.first().is_some_and(posing)
            || local.as_bytes().first().is_some_and(posing)
        {
            return Err(Error::Shape(format!(
                "<{}> is not an element name",
                String::from_utf8_lossy(raw)
            )));
        }
        Ok(local)
    }

    /// The next event; a DTD is refused.
    pub(super) fn next(&mut self) -> Result<Event<'a>, Error> {
        if let Some(event) = self.peeked.take() {
            return Ok(event);
        }
        loop {
            let event = self
                .inner
                .read_event()
                .map_err(|error| ParseError::Syntax {
                    position: self.inner.buffer_position(),
                    error,
                })?;
            match event {
                Event::Comment(_) | Event::PI(_) | Event::Decl(_) => {}
                Event::DocType(_) => return Err(ParseError::Dtd.into()),
                Event::Start(_) => {
                    self.depth += 1;
                    if self.depth > MAX_DEPTH {
                        return Err(ParseError::TooDeepOrLarge.into());
                    }
                    return Ok(event);
                }
                Event::End(_) => {
                    self.depth = self.depth.saturating_sub(1);
                    return Ok(event);
                }
                event => return Ok(event),
            }
        }
    }

    fn peek(&mut self) -> Result<&Event<'a>, Error> {
        if self.peeked.is_none() {
            self.peeked = Some(self.next()?);
        }
        Ok(self.peeked.get_or_insert(Event::Eof))
    }

    /// Reads past the end of the element whose start was just read.
    fn skip(&mut self) -> Result<(), Error> {
        let mut depth = 0usize;
        loop {
            match self.next()? {
                Event::Start(_) => depth += 1,
                Event::End(_) if depth == 0 => return Ok(()),
                Event::End(_) => depth -= 1,
                Event::Eof => return Err(ParseError::Truncated.into()),
                _ => {}
            }
        }
    }

    /// The text up to the next element's start or end (the text of the
    /// element open), references resolved; `first` is its first piece,
    /// already read. Borrowed when it is one piece with no reference.
    fn text(&mut self, first: Option<Event<'a>>) -> Result<Cow<'a, str>, Error> {
        let mut text: Option<Cow<'a, str>> = None;
        let mut event = first;
        loop {
            let piece = match event.take() {
                Some(e) => e,
                None => match self.peek()? {
                    Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => self.next()?,
                    _ => break,
                },
            };
            let add: Cow<'a, str> = match piece {
                Event::Text(t) => self.text_of(t.into_inner())?,
                Event::CData(t) => self.text_of(t.into_inner())?,
                Event::GeneralRef(r) => {
                    let mut resolved = String::new();
                    push_reference(&r, &mut resolved)?;
                    Cow::Owned(resolved)
                }
                _ => break,
            };
            text = Some(match text {
                None => add,
                Some(before) => Cow::Owned(before.into_owned() + &add),
            });
        }
        Ok(text.unwrap_or(Cow::Borrowed("")))
    }
}

/// Whether text is only white space (between elements: not content).
fn blank(text: &[u8]) -> bool {
    text.iter().all(u8::is_ascii_whitespace)
}

/// Whether an element's tag holds nothing but its name (most do): no
/// attribute to check, unescape or read. White space here is XML's (and
/// quick-xml's) four characters: anything else, a form feed too, is an
/// attribute for the reader to refuse.
fn bare(start: &BytesStart<'_>) -> bool {
    start
        .attributes_raw()
        .iter()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

/// One element, its start read: it reads as a structure, text, an option
/// or a sequence, and is read through its end.
pub(super) struct Element<'r, 'a> {
    pub(super) reader: &'r mut Reader<'a>,
    pub(super) start: BytesStart<'a>,
    pub(super) empty: bool,
    /// Whether it is the root, which has no siblings to be a sequence of.
    pub(super) root: bool,
}

impl<'a> Element<'_, 'a> {
    /// The element's content as text; an element inside it is refused.
    fn content(self) -> Result<Cow<'a, str>, Error> {
        if self.empty {
            return Ok(Cow::Borrowed(""));
        }
        let text = self.reader.text(None)?;
        match self.reader.next()? {
            Event::End(_) => Ok(text),
            Event::Eof => Err(ParseError::Truncated.into()),
            _ => Err(Error::Shape(format!(
                "an element inside <{}>, where text is read",
                self.reader.local_name(&self.start)?
            ))),
        }
    }

    /// Whether it carries `xsi:nil` true (`true` or `1`; any prefix, not
    /// a namespace binding). A nil element must be empty: one with content
    /// is refused, not read as absent.
    fn nil(&mut self) -> Result<bool, Error> {
        if bare(&self.start) {
            return Ok(false);
        }
        let mut nil = false;
        for attribute in attributes(&self.start)? {
            if let Attribute::Plain(name, value) = attribute {
                nil |= name == b"nil" && matches!(value.trim(), "true" | "1");
            }
        }
        if nil && !self.empty {
            match self.reader.peek()? {
                Event::End(_) => {}
                Event::Text(t) if blank(t) => {}
                _ => {
                    return Err(Error::Shape(format!(
                        "<{}> is nil and has content",
                        self.reader.local_name(&self.start)?
                    )));
                }
            }
        }
        Ok(nil)
    }

    fn skip(self) -> Result<(), Error> {
        if self.empty {
            Ok(())
        } else {
            self.reader.skip()
        }
    }
}

/// Text (an attribute's value, an element's `$text`) read as a value.
struct TextValue<'a>(Cow<'a, str>);

macro_rules! parsed {
    ($($method:ident $visit:ident $ty:ty),*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            let text = self.text()?;
            let value: $ty = text
                .trim()
                .parse()
                .map_err(|_| Error::Shape(format!("{:?} is not a {}", text, stringify!($ty))))?;
            visitor.$visit(value)
        }
    )*};
}

/// What both [`TextValue`] and [`Element`] read alike.
trait AsText<'a> {
    fn text(self) -> Result<Cow<'a, str>, Error>;
}

impl<'a> AsText<'a> for TextValue<'a> {
    fn text(self) -> Result<Cow<'a, str>, Error> {
        Ok(self.0)
    }
}

impl<'a> AsText<'a> for Element<'_, 'a> {
    fn text(self) -> Result<Cow<'a, str>, Error> {
        self.content()
    }
}

fn visit_text<'de, V: Visitor<'de>>(text: Cow<'de, str>, visitor: V) -> Result<V::Value, Error> {
    match text {
        Cow::Borrowed(s) => visitor.visit_borrowed_str(s),
        Cow::Owned(s) => visitor.visit_string(s),
    }
}

impl<'de> de::Deserializer<'de> for TextValue<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visit_text(self.0, visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    parsed!(deserialize_bool visit_bool bool, deserialize_i8 visit_i8 i8, deserialize_i16 visit_i16 i16,
        deserialize_i32 visit_i32 i32, deserialize_i64 visit_i64 i64, deserialize_u8 visit_u8 u8,
        deserialize_u16 visit_u16 u16, deserialize_u32 visit_u32 u32, deserialize_u64 visit_u64 u64);

    serde::forward_to_deserialize_any! {
        f32 f64 char str string bytes byte_buf unit unit_struct seq tuple
        tuple_struct map struct enum identifier ignored_any i128 u128
    }
}

impl<'de> de::Deserializer<'de> for Element<'_, 'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_map(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visit_text(self.content()?, visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, Error> {
        if self.nil()? {
            self.skip()?;
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let attributes = self.reader.member_attributes(&self.start)?;
        visitor.visit_map(Members {
            reader: self.reader,
            attributes: attributes.into_iter(),
            empty: self.empty,
            value: None,
        })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_map(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.root {
            return Err(Error::Shape("the root element read as a sequence".into()));
        }
        let name = self
            .reader
            .text_of(Cow::Borrowed(self.start.local_name().into_inner()))?;
        visitor.visit_seq(Siblings {
            reader: self.reader,
            next: Some((self.start, self.empty)),
            name,
        })
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.skip()?;
        visitor.visit_unit()
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_ignored_any(visitor)
    }

    parsed!(deserialize_bool visit_bool bool, deserialize_i8 visit_i8 i8, deserialize_i16 visit_i16 i16,
        deserialize_i32 visit_i32 i32, deserialize_i64 visit_i64 i64, deserialize_u8 visit_u8 u8,
        deserialize_u16 visit_u16 u16, deserialize_u32 visit_u32 u32, deserialize_u64 visit_u64 u64);

    serde::forward_to_deserialize_any! {
        f32 f64 char bytes byte_buf unit_struct tuple tuple_struct enum identifier i128 u128
    }
}

/// An attribute, not a namespace binding: its local name and its value.
type Plain<'a> = (Cow<'a, str>, Cow<'a, str>);

impl<'a> Reader<'a> {
    /// An element's attributes, checked and unescaped, namespace bindings
    /// left out: the local name and the value, each the document's own
    /// text where it has no reference.
    fn member_attributes(&self, start: &BytesStart<'_>) -> Result<Vec<Plain<'a>>, Error> {
        let mut out = Vec::new();
        if bare(start) {
            return Ok(out);
        }
        for attribute in attributes(start)? {
            if let Attribute::Plain(name, value) = attribute {
                let value = match value {
                    Cow::Borrowed(v) => self.text_of(Cow::Borrowed(v.as_bytes()))?,
                    Cow::Owned(v) => Cow::Owned(v),
                };
                out.push((self.text_of(Cow::Borrowed(name))?, value));
            }
        }
        Ok(out)
    }
}

/// What the key just given stands for.
enum Pending<'a> {
    Text(Cow<'a, str>),
    Child(BytesStart<'a>, bool),
}

/// An element's members: its attributes, then its content in order.
struct Members<'r, 'a> {
    reader: &'r mut Reader<'a>,
    attributes: std::vec::IntoIter<Plain<'a>>,
    empty: bool,
    value: Option<Pending<'a>>,
}

impl<'de> MapAccess<'de> for Members<'_, 'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        if let Some((name, value)) = self.attributes.next() {
            self.value = Some(Pending::Text(value));
            let mut key = String::with_capacity(1 + name.len());
            key.push('@');
            key.push_str(&name);
            return seed.deserialize(TextValue(Cow::Owned(key))).map(Some);
        }
        if self.empty {
            return Ok(None);
        }
        loop {
            match self.reader.next()? {
                Event::Text(t) if blank(&t) => {}
                event @ (Event::Text(_) | Event::CData(_) | Event::GeneralRef(_)) => {
                    let text = self.reader.text(Some(event))?;
                    self.value = Some(Pending::Text(text));
                    return seed
                        .deserialize(TextValue(Cow::Borrowed("$text")))
                        .map(Some);
                }
                Event::Start(e) => {
                    let key = self.reader.local_name(&e)?;
                    self.value = Some(Pending::Child(e, false));
                    return seed.deserialize(TextValue(key)).map(Some);
                }
                Event::Empty(e) => {
                    let key = self.reader.local_name(&e)?;
                    self.value = Some(Pending::Child(e, true));
                    return seed.deserialize(TextValue(key)).map(Some);
                }
                Event::End(_) => return Ok(None),
                Event::Eof => return Err(ParseError::Truncated.into()),
                _ => {}
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        match self.value.take() {
            Some(Pending::Text(text)) => seed.deserialize(TextValue(text)),
            Some(Pending::Child(start, empty)) => seed.deserialize(Element {
                reader: self.reader,
                start,
                empty,
                root: false,
            }),
            None => Err(Error::Shape("a value without its key".into())),
        }
    }
}

/// An element and the siblings of the same name right after it, as a
/// sequence.
struct Siblings<'r, 'a> {
    reader: &'r mut Reader<'a>,
    next: Option<(BytesStart<'a>, bool)>,
    name: Cow<'a, str>,
}

impl<'de> SeqAccess<'de> for Siblings<'_, 'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        if self.next.is_none() {
            // White space between siblings is no content.
            while matches!(self.reader.peek()?, Event::Text(t) if blank(t)) {
                self.reader.next()?;
            }
            let same = |e: &BytesStart<'_>| e.local_name().into_inner() == self.name.as_bytes();
            match self.reader.peek()? {
                Event::Start(e) if same(e) => {
                    if let Event::Start(e) = self.reader.next()? {
                        self.next = Some((e, false));
                    }
                }
                Event::Empty(e) if same(e) => {
                    if let Event::Empty(e) = self.reader.next()? {
                        self.next = Some((e, true));
                    }
                }
                _ => return Ok(None),
            }
        }
        let Some((start, empty)) = self.next.take() else {
            return Ok(None);
        };
        seed.deserialize(Element {
            reader: &mut *self.reader,
            start,
            empty,
            root: false,
        })
        .map(Some)
    }
}
