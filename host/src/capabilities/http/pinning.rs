//! Where the hidden parts of a request land, checked against the
//! connector's placements before anything is assembled or sent.
//!
//! The host writes the request with a placeholder where each hidden part
//! goes (a token with a nonce the connector never sees), parses it as the
//! server would read it (the URL's query, each header, the body by its
//! content type) and finds each placeholder. Each must stand as the *whole*
//! value of one location (after a header's fixed prefix), exactly once;
//! then a placement must allow that value there, written that way. Nothing
//! here depends on a hidden value's content or length: only on where the
//! connector put it.

use crate::contract::hidden::Hidden;
use crate::contract::parts::{Encoding, Piece};
use crate::policy::placement::{Location, Misplaced, Pins};
use std::borrow::Cow;
use url::Url;

/// Why a request is refused before it is sent: a secret or sealed value
/// stands where the host cannot read it whole, or where no placement
/// allows it. The text names places and values, never a value's content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PinRefusal {
    /// A placeholder shares its location with characters of the
    /// connector's.
    #[error(
        "a secret or sealed value at {location} stands beside characters of the connector's: it must be the whole value there"
    )]
    BesideCharacters {
        /// Where it stands.
        location: Location,
    },
    /// An XML element holds a placeholder and other content too.
    #[error(
        "a secret or sealed value at {location} stands beside other content: it must be the element's whole text"
    )]
    BesideOtherContent {
        /// The element, as an XML location.
        location: Location,
    },
    /// One value stands in two places of the request.
    #[error("{value} stands in more than one place of the request")]
    MoreThanOnce {
        /// The value.
        value: Hidden,
    },
    /// A placeholder stands where no value may (a key, a name, an
    /// attribute, a comment).
    #[error(
        "a secret or sealed value may not stand in {place}: only as a whole header, query parameter, JSON member, XML element or form field"
    )]
    NoValueThere {
        /// The place, described (`a URL's path`).
        place: &'static str,
    },
    /// The URL does not parse with the placeholders written in it.
    #[error("the URL is not valid with its secret or sealed parts in it")]
    InvalidUrl,
    /// The body holds a hidden value and has more than one content type.
    #[error(
        "a body that holds a secret or sealed value must have one content-type header, not several"
    )]
    SeveralContentTypes,
    /// The body holds a hidden value but is not of a kind the host reads.
    #[error(
        "a secret or sealed value may stand in a body only if it is JSON, XML or a form (say which with content-type)"
    )]
    UnreadableBody,
    /// The body holds a hidden value but does not parse as JSON.
    #[error("the body holds a secret or sealed value but is not JSON ({reason})")]
    NotJson {
        /// What the parser said.
        reason: String,
    },
    /// The body holds a hidden value but does not parse as XML.
    #[error("the body holds a secret or sealed value but is not XML ({reason})")]
    NotXml {
        /// What the reader said.
        reason: String,
    },
    /// A value was written but found at no location read whole.
    #[error(
        "{value} stands where the host cannot read it as a whole value (inside a key, a name, a comment, or a body that does not parse as its content type)"
    )]
    NotFound {
        /// The value.
        value: Hidden,
    },
    /// No placement allows the value where it stands.
    #[error(transparent)]
    NotPlaced(#[from] Box<Misplaced>),
}

/// A hidden part of the request: what it is and how it is written.
struct Part<'a> {
    name: Cow<'a, Hidden>,
    encoding: Encoding,
    /// Where it was found, once found.
    found: Option<Location>,
}

/// The placeholders of one request.
struct Tokens<'a> {
    /// `phx` and the nonce in hex: what every placeholder starts with.
    stem: String,
    parts: Vec<Part<'a>>,
}

impl<'a> Tokens<'a> {
    /// Writes `pieces` with a placeholder for each hidden piece (a JSON
    /// string's quotes kept around it), numbering them on.
    fn write(&mut self, pieces: &'a [Piece<'a>]) -> Vec<u8> {
        let size: usize = pieces
            .iter()
            .map(|p| match p {
                Piece::Literal(bytes) => bytes.len(),
                _ => self.stem.len() + 8,
            })
            .sum();
        let mut out = Vec::with_capacity(size);
        for piece in pieces {
            match piece {
                Piece::Literal(bytes) => out.extend_from_slice(bytes),
                hidden => {
                    let name = match hidden {
                        Piece::Sealed { value, .. } => Cow::Borrowed(value.name()),
                        Piece::Secret { name, .. } => {
                            Cow::Owned(Hidden::Secret((*name).to_owned()))
                        }
                        Piece::Literal(_) => continue,
                    };
                    let Some(encoding) = hidden.encoding() else {
                        continue;
                    };
                    // The placeholder: the stem, `i`, its number, `z`.
                    let mut token = [0u8; 48];
                    let n = {
                        let mut number = itoa::Buffer::new();
                        let parts: [&[u8]; 4] = [
                            self.stem.as_bytes(),
                            b"i",
                            number.format(self.parts.len()).as_bytes(),
                            b"z",
                        ];
                        let mut n = 0;
                        for p in parts {
                            token[n..n + p.len()].copy_from_slice(p);
                            n += p.len();
                        }
                        n
                    };
                    let token = &token[..n];
                    if encoding == Encoding::JsonString {
                        out.push(b'"');
                        out.extend_from_slice(token);
                        out.push(b'"');
                    } else {
                        out.extend_from_slice(token);
                    }
                    self.parts.push(Part {
                        name,
                        encoding,
                        found: None,
                    });
                }
            }
        }
        out
    }

    /// Records that `text`, found at `location`, is a placeholder, or
    /// refuses it if it holds one and is anything more.
    fn found(&mut self, text: &str, location: impl FnOnce() -> Location) -> Result<(), PinRefusal> {
        if !self.holds(text.as_bytes()) {
            return Ok(());
        }
        let index = text
            .strip_prefix(&self.stem)
            .and_then(|t| t.strip_prefix('i'))
            .and_then(|t| t.strip_suffix('z'))
            .and_then(|n| n.parse::<usize>().ok())
            // The number as it was written: no sign, no leading zero.
            .filter(|&i| {
                i < self.parts.len()
                    && text.len() == self.stem.len() + 2 + itoa::Buffer::new().format(i).len()
            });
        let location = location();
        let Some(index) = index else {
            return Err(PinRefusal::BesideCharacters { location });
        };
        let part = &mut self.parts[index];
        if part.found.is_some() {
            return Err(PinRefusal::MoreThanOnce {
                value: part.name.clone().into_owned(),
            });
        }
        part.found = Some(location);
        Ok(())
    }

    /// Whether `text` holds a placeholder.
    fn holds(&self, text: &[u8]) -> bool {
        find_stem(&self.stem, text).is_some()
    }

    /// Refuses a placeholder where no value may stand (a key, a name, an
    /// attribute, a comment).
    fn nowhere(&self, text: &[u8], place: &'static str) -> Result<(), PinRefusal> {
        if self.holds(text) {
            return Err(PinRefusal::NoValueThere { place });
        }
        Ok(())
    }
}

/// Where the stem of the placeholders first stands in `text`: each `p` is
/// found with memchr and compared there (the texts are a request's short
/// values, where building a substring searcher would cost more).
fn find_stem(stem: &str, text: &[u8]) -> Option<usize> {
    if text.len() < stem.len() {
        return None;
    }
    let stem = stem.as_bytes();
    memchr::memchr_iter(stem[0], &text[..=text.len() - stem.len()])
        .find(|&at| text[at..].starts_with(stem))
}

/// `phx` and `nonce` in 16 lower-case hex digits: what every placeholder
/// of one request starts with.
fn stem(nonce: u64) -> String {
    let mut text = *b"phx0000000000000000";
    // Sixteen digits for eight bytes: it always fits.
    let _ = hex::encode_to_slice(nonce.to_be_bytes(), &mut text[3..]);
    String::from_utf8_lossy(&text).into_owned()
}

/// A request's parts, as the HTTP capability hands them over.
pub(crate) struct Parts<'r, 'a> {
    pub(crate) method: &'r str,
    /// The URL the grant was checked on: the request's own when its URL is
    /// literal throughout, so that it is not parsed again here.
    pub(crate) checked: &'r Url,
    pub(crate) url: &'r [Piece<'a>],
    pub(crate) headers: &'r [(&'a str, Vec<Piece<'a>>)],
    pub(crate) body: &'r [Piece<'a>],
}

/// Checks that every hidden part stands where a placement allows it; the
/// error says what stands where, and where it may go.
pub(crate) fn check<'a>(
    pins: &Pins,
    request: &Parts<'a, 'a>,
    nonce: u64,
) -> Result<(), PinRefusal> {
    if pins.unpinned() {
        return Ok(());
    }
    let any_hidden = |pieces: &[Piece<'_>]| pieces.iter().any(Piece::is_hidden);
    if !any_hidden(request.url)
        && !any_hidden(request.body)
        && !request.headers.iter().any(|(_, v)| any_hidden(v))
    {
        return Ok(());
    }
    let stem = stem(nonce);
    let mut tokens = Tokens {
        stem,
        parts: Vec::new(),
    };

    // The URL: placeholders only as whole query values.
    let written;
    let url = if any_hidden(request.url) {
        let url_text = tokens.write(request.url);
        written =
            Url::parse(&String::from_utf8_lossy(&url_text)).map_err(|_| PinRefusal::InvalidUrl)?;
        tokens.nowhere(written.path().as_bytes(), "a URL's path")?;
        tokens.nowhere(
            written.fragment().unwrap_or_default().as_bytes(),
            "a URL's fragment",
        )?;
        for (key, value) in written.query_pairs() {
            tokens.nowhere(key.as_bytes(), "a query parameter's name")?;
            tokens.found(&value, || Location::Query(key.clone().into_owned()))?;
        }
        &written
    } else {
        request.checked
    };

    // Headers: the whole value, after a prefix of the connector's.
    let mut content_type = None;
    for (name, value) in request.headers {
        let is_content_type = name.eq_ignore_ascii_case("content-type");
        if !is_content_type && !any_hidden(value) {
            // Literal alone: nothing of the host's stands in it.
            continue;
        }
        let text = tokens.write(value);
        if is_content_type {
            tokens.nowhere(&text, "the content-type header")?;
            // The body is read by one content type: with two, the server
            // might read it by the other.
            if content_type.is_some() && any_hidden(request.body) {
                return Err(PinRefusal::SeveralContentTypes);
            }
            content_type = Some(String::from_utf8_lossy(&text).into_owned());
        }
        let text = String::from_utf8_lossy(&text);
        if let Some(at) = find_stem(&tokens.stem, text.as_bytes()) {
            // Whatever follows the first placeholder must be that
            // placeholder alone (`found` refuses anything more).
            let (prefix, rest) = text.split_at(at);
            tokens.found(rest, || Location::Header {
                name: name.to_ascii_lowercase(),
                prefix: prefix.to_owned(),
            })?;
        }
    }

    // The body, parsed by its content type.
    if any_hidden(request.body) {
        let body = tokens.write(request.body);
        match body_kind(content_type.as_deref(), &body) {
            Some(BodyKind::Json) => json(&mut tokens, &body)?,
            Some(BodyKind::Xml) => xml(&mut tokens, &body)?,
            Some(BodyKind::Form) => form(&mut tokens, &body)?,
            None => {
                return Err(PinRefusal::UnreadableBody);
            }
        }
    }

    let segments: Vec<&str> = url.path().trim_start_matches('/').split('/').collect();
    for part in &tokens.parts {
        let Some(found) = &part.found else {
            return Err(PinRefusal::NotFound {
                value: part.name.clone().into_owned(),
            });
        };
        pins.check(
            &part.name,
            request.method,
            url,
            &segments,
            found,
            part.encoding,
        )?;
    }
    Ok(())
}

enum BodyKind {
    Json,
    Xml,
    Form,
}

/// What the body is, by its content type, or by its first character when
/// it has none.
fn body_kind(content_type: Option<&str>, body: &[u8]) -> Option<BodyKind> {
    match content_type {
        Some(ct) => {
            let essence = ct.split(';').next().unwrap_or_default().trim();
            let is = |name: &str| essence.eq_ignore_ascii_case(name);
            let ends = |suffix: &str| {
                essence.len() >= suffix.len()
                    && essence.is_char_boundary(essence.len() - suffix.len())
                    && essence[essence.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
            };
            if is("application/json") || ends("+json") {
                Some(BodyKind::Json)
            } else if is("text/xml") || is("application/xml") || ends("+xml") {
                Some(BodyKind::Xml)
            } else if is("application/x-www-form-urlencoded") {
                Some(BodyKind::Form)
            } else {
                None
            }
        }
        None => match body.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{' | b'[') => Some(BodyKind::Json),
            Some(b'<') => Some(BodyKind::Xml),
            _ => None,
        },
    }
}

/// Walks a JSON body as it is read (no tree is built), finding each
/// placeholder by the pointer of the member or item it is the value of.
fn json(tokens: &mut Tokens, body: &[u8]) -> Result<(), PinRefusal> {
    let mut refusal = None;
    let mut path: Vec<Cow<'_, str>> = Vec::new();
    // Checked as UTF-8 once, the body's strings are not checked again one
    // by one; a body that is not UTF-8 is read as bytes, for the parser
    // to say where.
    let walked = match std::str::from_utf8(body) {
        Ok(text) => walk(
            tokens,
            &mut path,
            &mut refusal,
            serde_json::Deserializer::from_str(text),
        ),
        Err(_) => walk(
            tokens,
            &mut path,
            &mut refusal,
            serde_json::Deserializer::from_slice(body),
        ),
    };
    match (refusal, walked) {
        (Some(refusal), _) => Err(refusal),
        (None, Ok(())) => Ok(()),
        (None, Err(e)) => Err(PinRefusal::NotJson {
            reason: e.to_string(),
        }),
    }
}

/// The whole of `reader`'s text walked as one JSON value.
fn walk<'de, R: serde_json::de::Read<'de>>(
    tokens: &mut Tokens<'_>,
    path: &mut Vec<Cow<'de, str>>,
    refusal: &mut Option<PinRefusal>,
    mut reader: serde_json::Deserializer<R>,
) -> serde_json::Result<()> {
    serde::de::DeserializeSeed::deserialize(
        Walk {
            tokens,
            path,
            refusal,
        },
        &mut reader,
    )
    .and_then(|()| reader.end())
}

/// One JSON value being read, at `path` (member names borrowed from the
/// body where they need no unescaping). A refusal is kept aside, so that
/// the parser's position does not dress it up as a syntax error.
struct Walk<'a, 'de, 't> {
    tokens: &'a mut Tokens<'t>,
    path: &'a mut Vec<Cow<'de, str>>,
    refusal: &'a mut Option<PinRefusal>,
}

impl<'de, 't> Walk<'_, 'de, 't> {
    fn again(&mut self) -> Walk<'_, 'de, 't> {
        Walk {
            tokens: self.tokens,
            path: self.path,
            refusal: self.refusal,
        }
    }

    fn refuse<E: serde::de::Error>(&mut self, result: Result<(), PinRefusal>) -> Result<(), E> {
        result.map_err(|refusal| {
            *self.refusal = Some(refusal);
            E::custom("refused")
        })
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for Walk<'_, 'de, '_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Walk<'_, 'de, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E: serde::de::Error>(mut self, text: &str) -> Result<(), E> {
        let path = &*self.path;
        let found = self.tokens.found(text, || {
            Location::Json(path.iter().map(|s| s.clone().into_owned()).collect())
        });
        self.refuse(found)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(mut self, mut items: A) -> Result<(), A::Error> {
        for i in 0.. {
            self.path.push(Cow::Owned(i.to_string()));
            let item = items.next_element_seed(self.again())?;
            self.path.pop();
            if item.is_none() {
                break;
            }
        }
        Ok(())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(mut self, mut members: A) -> Result<(), A::Error> {
        while let Some(key) = members.next_key_seed(Key)? {
            let named = self.tokens.nowhere(key.as_bytes(), "a JSON member's name");
            self.refuse(named)?;
            self.path.push(key);
            members.next_value_seed(self.again())?;
            self.path.pop();
        }
        Ok(())
    }
}

/// A JSON member's name, borrowed from the body when it has no escapes.
struct Key;

impl<'de> serde::de::DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Key {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a member name")
    }

    fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(text))
    }

    fn visit_str<E>(self, text: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(text.to_owned()))
    }

    fn visit_string<E>(self, text: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(text))
    }
}

/// An element open while reading XML: its local name (borrowed from the
/// body), how many pieces of content it has, and the placeholder among
/// them.
struct Open<'b> {
    name: Cow<'b, [u8]>,
    content: usize,
    token: Option<String>,
}

/// `part` as a slice of `body` when it is one (as a reader over the body
/// hands out names), else a copy.
fn within<'b>(body: &'b [u8], part: &[u8]) -> Cow<'b, [u8]> {
    let offset = (part.as_ptr() as usize).wrapping_sub(body.as_ptr() as usize);
    match body.get(offset..offset.wrapping_add(part.len())) {
        Some(slice) if slice.as_ptr() == part.as_ptr() => Cow::Borrowed(slice),
        _ => Cow::Owned(part.to_vec()),
    }
}

/// Reads an XML body as it stands (events borrow from it: no copy, no
/// name allocated), finding each placeholder by its element's path. A
/// placeholder is written as it is (its characters need no escaping), so
/// it is found in the raw text; the text is decoded only to be checked.
fn xml(tokens: &mut Tokens, body: &[u8]) -> Result<(), PinRefusal> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut stack: Vec<Open<'_>> = Vec::new();
    let bad = |e: &dyn std::fmt::Display| PinRefusal::NotXml {
        reason: e.to_string(),
    };
    let stem = tokens.stem.clone();
    let holds = |raw: &[u8]| find_stem(&stem, raw).is_some();
    loop {
        let event = reader.read_event().map_err(|e| bad(&e))?;
        match &event {
            Event::Start(e) | Event::Empty(e) => {
                tokens.nowhere(e.as_ref(), "an XML name or attribute")?;
                if let Some(parent) = stack.last_mut() {
                    parent.content += 1;
                }
                if matches!(event, Event::Start(_)) {
                    let name = e.name();
                    let local = name.as_ref();
                    let local = match local.iter().rposition(|&b| b == b':') {
                        Some(colon) => &local[colon + 1..],
                        None => local,
                    };
                    stack.push(Open {
                        name: within(body, local),
                        content: 0,
                        token: None,
                    });
                }
            }
            Event::End(_) => {
                let open = stack
                    .pop()
                    .ok_or_else(|| bad(&"an end tag with no start"))?;
                if let Some(token) = &open.token {
                    let name = |o: &Open<'_>| String::from_utf8_lossy(&o.name).into_owned();
                    let mut path: Vec<String> = stack.iter().map(name).collect();
                    path.push(name(&open));
                    if open.content != 1 {
                        return Err(PinRefusal::BesideOtherContent {
                            location: Location::Xml(path),
                        });
                    }
                    tokens.found(token, || Location::Xml(path))?;
                }
            }
            Event::Text(t) => {
                let Some(open) = stack.last_mut() else {
                    tokens.nowhere(t.as_ref(), "text outside the root element")?;
                    continue;
                };
                // Checked as a reader would take it.
                let text = t.decode().map_err(|e| bad(&e))?;
                let text = quick_xml::escape::unescape(&text).map_err(|e| bad(&e))?;
                if !text.is_empty() {
                    open.content += 1;
                }
                // The host writes a placeholder as it is: the connector,
                // who never learns the nonce, cannot spell one escaped.
                if holds(t.as_ref()) {
                    open.token = Some(text.into_owned());
                }
            }
            Event::CData(t) => {
                let Some(open) = stack.last_mut() else {
                    tokens.nowhere(t.as_ref(), "text outside the root element")?;
                    continue;
                };
                open.content += 1;
                if holds(t.as_ref()) {
                    open.token = Some(String::from_utf8_lossy(t.as_ref()).into_owned());
                }
            }
            Event::Eof => break,
            Event::GeneralRef(_) => {
                if let Some(open) = stack.last_mut() {
                    open.content += 1;
                }
            }
            other => {
                tokens.nowhere(other.as_ref(), "an XML comment, declaration or instruction")?
            }
        }
    }
    Ok(())
}

fn form(tokens: &mut Tokens, body: &[u8]) -> Result<(), PinRefusal> {
    for (key, value) in url::form_urlencoded::parse(body) {
        tokens.nowhere(key.as_bytes(), "a form field's name")?;
        tokens.found(&value, || Location::Form(key.clone().into_owned()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::placement::PlacementSpec;
    use crate::contract::sealed::SealedValue;
    use crate::policy::placement::Placement;

    fn pins(specs: &[(&str, &str, &str, &str)]) -> Pins {
        Pins::new(
            specs
                .iter()
                .map(|(value, request, at, encoding)| {
                    Placement::from_spec(&PlacementSpec {
                        value: (*value).into(),
                        request: (*request).into(),
                        at: (*at).into(),
                        encoding: (*encoding).into(),
                        prefix: None,
                        origin: None,
                    })
                    .unwrap()
                })
                .collect(),
            false,
        )
    }

    fn secret(name: &str, encoding: Encoding) -> Piece<'_> {
        Piece::Secret { name, encoding }
    }

    /// The URL the grant check parses: its literal parts.
    fn literal_url(url: &[Piece<'_>]) -> Url {
        let literal: Vec<u8> = url
            .iter()
            .filter_map(|p| match p {
                Piece::Literal(bytes) => Some(*bytes),
                _ => None,
            })
            .flatten()
            .copied()
            .collect();
        Url::parse(&String::from_utf8_lossy(&literal))
            .unwrap_or_else(|_| Url::parse("http://a.test/").unwrap())
    }

    fn run(
        pins: &Pins,
        url: &[Piece<'_>],
        headers: &[(&str, Vec<Piece<'_>>)],
        body: &[Piece<'_>],
    ) -> Result<(), PinRefusal> {
        let checked = literal_url(url);
        check(
            pins,
            &Parts {
                method: "POST",
                checked: &checked,
                url,
                headers,
                body,
            },
            0x1234,
        )
    }

    /// A JSON body is read as text when it is UTF-8 and as bytes when it
    /// is not: names written with escapes are found at their place, and a
    /// body with a byte that is not UTF-8 is refused as not JSON, saying
    /// where.
    #[test]
    fn json_bodies_are_read_whether_or_not_they_are_utf8() {
        let cvv = SealedValue::card_data("123", 4, Hidden::Cvv);
        let pins = pins(&[(
            "card:cvv",
            "POST **/pay.do",
            "json:/card/cvv",
            "json-string",
        )]);
        let url = [Piece::Literal(b"http://a.test/pay.do")];
        let ct = [("content-type", vec![Piece::Literal(b"application/json")])];
        let cvv_piece = Piece::Sealed {
            value: &cvv,
            encoding: Encoding::JsonString,
        };
        let body =
            |before: &'static [u8]| [Piece::Literal(before), cvv_piece, Piece::Literal(b"}}")];
        // "\u0063ard" is "card"; "H\u00e9l\u00e8ne" and "é" are text.
        for before in [
            &b"{\"name\":\"H\\u00e9l\\u00e8ne\",\"\\u0063ard\":{\"cvv\":"[..],
            "{\"name\":\"Hélène\",\"card\":{\"cvv\":".as_bytes(),
        ] {
            assert_eq!(run(&pins, &url, &ct, &body(before)), Ok(()));
        }
        // The same with a byte that is not UTF-8 in a string before it.
        let e = run(
            &pins,
            &url,
            &ct,
            &body(b"{\"name\":\"H\xe9l\",\"card\":{\"cvv\":"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("is not JSON") && e.contains("column"), "{e}");
        // And one escaped where it may not stand: still found there.
        let e = run(
            &pins,
            &url,
            &ct,
            &body(b"{\"\\u0063ard\":{},\"x\":{\"cvv\":"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("json:/x/cvv"), "{e}");
    }

    #[test]
    fn a_whole_value_at_its_place_passes_and_anything_else_is_refused() {
        let cvv = SealedValue::card_data("123", 4, Hidden::Cvv);
        let pins = pins(&[
            ("secret:id", "POST **/pay.do", "header:x-id", "raw"),
            (
                "card:cvv",
                "POST **/pay.do",
                "json:/card/cvv",
                "json-string",
            ),
        ]);
        let url = [Piece::Literal(b"http://a.test/x/pay.do")];
        let ct = ("content-type", vec![Piece::Literal(b"application/json")]);
        let cvv_piece = Piece::Sealed {
            value: &cvv,
            encoding: Encoding::JsonString,
        };
        let good_body = [
            Piece::Literal(b"{\"order\":\"O-1\",\"card\":{\"cvv\":"),
            cvv_piece,
            Piece::Literal(b"}}"),
        ];
        let headers = [("x-id", vec![secret("id", Encoding::Raw)]), ct.clone()];
        assert_eq!(run(&pins, &url, &headers, &good_body), Ok(()));

        // The CVV in the echoed order number.
        let echoed = [
            Piece::Literal(b"{\"order\":"),
            cvv_piece,
            Piece::Literal(b",\"card\":{}}"),
        ];
        let e = run(&pins, &url, std::slice::from_ref(&ct), &echoed)
            .unwrap_err()
            .to_string();
        assert!(e.contains("card:cvv may not stand at json:/order"), "{e}");
        // Zeros, the value, a digit: beside characters of the connector's.
        let beside = [
            Piece::Literal(b"{\"card\":{\"cvv\":\"00"),
            Piece::Sealed {
                value: &cvv,
                encoding: Encoding::Raw,
            },
            Piece::Literal(b"7\"}}"),
        ];
        let e = run(&pins, &url, std::slice::from_ref(&ct), &beside)
            .unwrap_err()
            .to_string();
        assert!(e.contains("beside characters"), "{e}");
        // A secret in a header with a prefix it was not granted.
        let prefixed = [(
            "x-id",
            vec![Piece::Literal(b"a"), secret("id", Encoding::Raw)],
        )];
        assert!(run(&pins, &url, &prefixed, &[]).is_err());
        // In a JSON key, in the query, in a body with no content type it reads.
        let key = [
            Piece::Literal(b"{"),
            secret("id", Encoding::JsonString),
            Piece::Literal(b":1}"),
        ];
        assert!(run(&pins, &url, std::slice::from_ref(&ct), &key).is_err());
        let query = [
            Piece::Literal(b"http://a.test/pay.do?x="),
            secret("id", Encoding::Hex),
        ];
        assert!(run(&pins, &query, &[], &[]).is_err());
        let text = [("content-type", vec![Piece::Literal(b"text/plain")])];
        assert!(run(&pins, &url, &text, &good_body).is_err());
        // Two content types: the server might read the body by the other.
        let two = [
            ct.clone(),
            ("content-type", vec![Piece::Literal(b"application/json")]),
        ];
        let e = run(&pins, &url, &two, &good_body).unwrap_err().to_string();
        assert!(e.contains("one content-type"), "{e}");
        // Twice: once at its place and once more.
        let twice = [
            Piece::Literal(b"{\"o\":"),
            cvv_piece,
            Piece::Literal(b",\"card\":{\"cvv\":"),
            cvv_piece,
            Piece::Literal(b"}}"),
        ];
        assert!(run(&pins, &url, &[ct], &twice).is_err());
    }

    #[test]
    fn xml_elements_query_parameters_and_form_fields_are_found_whole() {
        let pins = pins(&[
            (
                "secret:k",
                "POST /s",
                "xml:/Envelope/Body/*/Source/APIKey",
                "xml-text",
            ),
            ("secret:k", "GET /bill", "query:sig", "hex"),
            ("secret:k", "POST /f", "form:key", "url-component"),
        ]);
        let xml_ct = (
            "content-type",
            vec![Piece::Literal(b"text/xml; charset=utf-8")],
        );
        let body = [
            Piece::Literal(b"<s:Envelope xmlns:s=\"x\"><s:Body><v:Op><Source><APIKey>"),
            secret("k", Encoding::XmlText),
            Piece::Literal(b"</APIKey></Source></v:Op></s:Body></s:Envelope>"),
        ];
        let url = [Piece::Literal(b"http://a.test/s")];
        assert_eq!(
            run(&pins, &url, std::slice::from_ref(&xml_ct), &body),
            Ok(())
        );
        let other = [
            Piece::Literal(b"<Envelope><Body><Op><PaymentGateway>"),
            secret("k", Encoding::XmlText),
            Piece::Literal(b"</PaymentGateway></Op></Body></Envelope>"),
        ];
        assert!(run(&pins, &url, std::slice::from_ref(&xml_ct), &other).is_err());
        let attr = [
            Piece::Literal(b"<Envelope a=\""),
            secret("k", Encoding::XmlText),
            Piece::Literal(b"\"/>"),
        ];
        assert!(run(&pins, &url, &[xml_ct], &attr).is_err());

        let get = |url: &[Piece<'_>]| {
            check(
                &pins,
                &Parts {
                    method: "GET",
                    checked: &literal_url(url),
                    url,
                    headers: &[],
                    body: &[],
                },
                7,
            )
        };
        let sig = [
            Piece::Literal(b"http://a.test/bill?go=1&sig="),
            secret("k", Encoding::Hex),
        ];
        assert_eq!(get(&sig), Ok(()));
        let wrong = [
            Piece::Literal(b"http://a.test/bill?go="),
            secret("k", Encoding::Hex),
        ];
        assert!(get(&wrong).is_err());

        let form_ct = (
            "content-type",
            vec![Piece::Literal(b"application/x-www-form-urlencoded")],
        );
        let f = [
            Piece::Literal(b"a=1&key="),
            secret("k", Encoding::UrlComponent),
        ];
        assert_eq!(
            run(&pins, &[Piece::Literal(b"http://a.test/f")], &[form_ct], &f),
            Ok(())
        );
    }
}
