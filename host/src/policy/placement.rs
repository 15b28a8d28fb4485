//! Placements: where each hidden value (a secret, a value crypto derived
//! from secrets, a card field) may stand in a request. A placement names
//! the value, the request (method and path pattern, at any granted origin
//! or one named), one location where the value is the *whole* value (a
//! header, after an optional fixed prefix; a query parameter; a JSON member
//! by JSON Pointer; an XML element by its path; a form field) and the one
//! encoding it is written in there. Anywhere else is refused before a byte
//! is sent (`capabilities::http::pinning`).
//!
//! The operator writes them in the connector's section:
//!
//! ```toml
//! placements = [
//!   { value = "secret:client_id", request = "POST **/pay.do", at = "header:x-atlas-client-id", encoding = "raw" },
//!   { value = "card:number", request = "POST **/pay.do", at = "json:/creditCard/cardNumber", encoding = "json-string" },
//! ]
//! ```

use crate::contract::hidden::{CARD_NUMBER_SOURCE, CVV_SOURCE, Hidden, NotAHiddenValue};
use crate::contract::parts::Encoding;
use crate::contract::placement::PlacementSpec;
use crate::policy::allowlist::{OriginError, OriginPattern};
use std::fmt;
use url::Url;

/// Why a placement, as the operator or the connector wrote it, cannot be
/// read: each says how to write it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PlacementError {
    /// `value` names no hidden value.
    #[error(transparent)]
    Value(#[from] NotAHiddenValue),
    /// `request` is no method and path pattern.
    #[error(
        "`request = \"{}\"` is not a request pattern: write a method and a path, like \"POST /pay.do\" or \"POST **/pay.do\" (`*` is one path segment, `**` any number; `*` as the method is any method)",
        .0.escape_debug()
    )]
    Request(String),
    /// `at = "header:…"` with a name no header may have.
    #[error("`{0}` is not a header name")]
    HeaderName(String),
    /// `at` names no location.
    #[error(
        "`at = \"{}\"` is not a location: write header:NAME, query:NAME, json:/POINTER, xml:/ELEMENT/PATH or form:NAME",
        .0.escape_debug()
    )]
    Location(String),
    /// A `prefix` for anything but a header.
    #[error("`prefix` is for a header only")]
    PrefixOutsideHeader,
    /// A `prefix` with control bytes, or too long.
    #[error("`prefix` must be printable and at most 64 bytes")]
    Prefix,
    /// `encoding` names no encoding.
    #[error(
        "`encoding = \"{}\"` is not an encoding: write raw, hex, hex-upper, base64, base64url, json-string, xml-text or url-component",
        .0.escape_debug()
    )]
    Encoding(String),
    /// A derived value (any bytes) in an encoding whose length or shape
    /// would depend on its content.
    #[error(
        "{value} is any bytes: write it hex, hex-upper, base64 or base64url (`encoding = \"{encoding}\"` would make its length or the request's shape depend on its content)"
    )]
    DerivedEncoding {
        /// The value as written.
        value: String,
        /// The encoding as written.
        encoding: String,
    },
    /// `origin` is no origin.
    #[error("`origin`: {0}")]
    Origin(OriginError),
}

/// Where in a request a value stands, as placements name it and as the
/// host finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Location {
    /// A header (lower-case name), after a fixed prefix.
    Header { name: String, prefix: String },
    /// A query parameter.
    Query(String),
    /// A JSON member, by its pointer's segments.
    Json(Vec<String>),
    /// An XML element, by the local names on its path.
    Xml(Vec<String>),
    /// A form field.
    Form(String),
}

impl Location {
    fn parse(text: &str, prefix: Option<&str>) -> Result<Location, PlacementError> {
        let (kind, rest) = text.split_once(':').unwrap_or((text, ""));
        let location = match kind {
            "header" => {
                let name = rest.to_ascii_lowercase();
                if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                    return Err(PlacementError::HeaderName(rest.to_owned()));
                }
                Location::Header {
                    name,
                    prefix: prefix.unwrap_or_default().to_owned(),
                }
            }
            "query" if !rest.is_empty() => Location::Query(rest.to_owned()),
            "form" if !rest.is_empty() => Location::Form(rest.to_owned()),
            "json" if rest.starts_with('/') && rest.len() > 1 => Location::Json(
                rest[1..]
                    .split('/')
                    .map(|s| s.replace("~1", "/").replace("~0", "~"))
                    .collect(),
            ),
            "xml" if rest.starts_with('/') && rest.len() > 1 => Location::Xml(
                rest[1..]
                    .split('/')
                    .map(|s| local_name(s).to_owned())
                    .collect(),
            ),
            _ => return Err(PlacementError::Location(text.to_owned())),
        };
        if prefix.is_some() && !matches!(location, Location::Header { .. }) {
            return Err(PlacementError::PrefixOutsideHeader);
        }
        if let Some(p) = prefix
            && (p.bytes().any(|b| b.is_ascii_control()) || p.len() > 64)
        {
            return Err(PlacementError::Prefix);
        }
        Ok(location)
    }

    /// Whether `found` (a concrete location) is within this pattern.
    fn matches(&self, found: &Location) -> bool {
        match (self, found) {
            (Location::Header { name, prefix }, Location::Header { name: n, prefix: p }) => {
                name == n && prefix == p
            }
            (Location::Query(a), Location::Query(b)) | (Location::Form(a), Location::Form(b)) => {
                a == b
            }
            (Location::Json(a), Location::Json(b)) | (Location::Xml(a), Location::Xml(b)) => {
                glob(a, &b.iter().map(String::as_str).collect::<Vec<_>>())
            }
            _ => false,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Header { name, prefix } if prefix.is_empty() => write!(f, "header:{name}"),
            Location::Header { name, prefix } => write!(f, "header:{name} after {prefix:?}"),
            Location::Query(name) => write!(f, "query:{name}"),
            Location::Form(name) => write!(f, "form:{name}"),
            Location::Json(segments) => {
                f.write_str("json:")?;
                for s in segments {
                    write!(f, "/{}", s.replace('~', "~0").replace('/', "~1"))?;
                }
                Ok(())
            }
            Location::Xml(segments) => write!(f, "xml:/{}", segments.join("/")),
        }
    }
}

/// An XML name without its namespace prefix.
pub(crate) fn local_name(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// Whether `segments` match `pattern`: `*` is any one segment, `**` any
/// number of them (none included).
fn glob(pattern: &[String], segments: &[&str]) -> bool {
    match pattern.split_first() {
        None => segments.is_empty(),
        Some((p, rest)) if p == "**" => {
            (0..=segments.len()).any(|skip| glob(rest, &segments[skip..]))
        }
        Some((p, rest)) => match segments.split_first() {
            Some((s, more)) => (p == "*" || p == s) && glob(rest, more),
            None => false,
        },
    }
}

/// One place a hidden value may go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Placement {
    value: Hidden,
    /// Upper-case; `None` for any method.
    method: Option<String>,
    /// The path pattern's segments.
    path: Vec<String>,
    at: Location,
    encoding: Encoding,
    origin: Option<OriginPattern>,
    /// As the operator wrote it.
    spec: PlacementSpec,
}

impl Placement {
    /// Reads a placement, saying what is wrong and how to write it.
    pub(crate) fn from_spec(spec: &PlacementSpec) -> Result<Placement, PlacementError> {
        let value = Hidden::parse(&spec.value)?;
        let (method, path) = match spec.request.trim().split_once(' ') {
            Some((m, p)) => (Some(m.trim()), p.trim()),
            None => (None, spec.request.trim()),
        };
        let method = match method {
            None | Some("*") => None,
            Some(m) if m.bytes().all(|b| b.is_ascii_alphabetic()) => Some(m.to_ascii_uppercase()),
            Some(_) => return Err(PlacementError::Request(spec.request.clone())),
        };
        if !(path.starts_with('/') || path.starts_with("**")) || path.contains(['?', '#', ' ']) {
            return Err(PlacementError::Request(spec.request.clone()));
        }
        let path = path
            .trim_start_matches('/')
            .split('/')
            .map(str::to_owned)
            .collect();
        let at = Location::parse(&spec.at, spec.prefix.as_deref())?;
        let encoding = Encoding::parse(&spec.encoding)
            .ok_or_else(|| PlacementError::Encoding(spec.encoding.clone()))?;
        if matches!(value, Hidden::Derived(_))
            && (!encoding.header_safe() || encoding == Encoding::UrlComponent)
        {
            return Err(PlacementError::DerivedEncoding {
                value: spec.value.clone(),
                encoding: spec.encoding.clone(),
            });
        }
        let origin = spec
            .origin
            .as_deref()
            .map(OriginPattern::parse)
            .transpose()
            .map_err(PlacementError::Origin)?;
        Ok(Placement {
            value,
            method,
            path,
            at,
            encoding,
            origin,
            spec: spec.clone(),
        })
    }

    /// The hidden value this placement is for.
    pub(crate) fn value(&self) -> &Hidden {
        &self.value
    }

    /// Whether its value is one a connector declaring `secrets` can hold:
    /// card data, one of those secrets, or a value derived only from them
    /// and the card.
    pub(crate) fn fits(&self, secrets: &[String]) -> bool {
        let known = |source: &str| {
            secrets.iter().any(|s| s == source)
                || source == CARD_NUMBER_SOURCE
                || source == CVV_SOURCE
        };
        match &self.value {
            Hidden::Secret(name) => known(name),
            Hidden::Derived(sources) => sources.iter().all(|s| known(s)),
            Hidden::CardNumber | Hidden::Cvv => true,
            Hidden::Host(_) => false,
        }
    }

    /// Whether `other` is the same place, however each was written
    /// (spacing, case of a method or header name).
    pub(crate) fn same_place(&self, other: &Placement) -> bool {
        self.value == other.value
            && self.method == other.method
            && self.path == other.path
            && self.at == other.at
            && self.encoding == other.encoding
            && self.origin == other.origin
    }

    /// Whether `value`, written with `encoding`, may stand at `found` in a
    /// `method` request to `url`.
    fn allows(
        &self,
        value: &Hidden,
        method: &str,
        url: &Url,
        segments: &[&str],
        found: &Location,
        encoding: Encoding,
    ) -> bool {
        // The cheap comparisons first: the path is split only for the
        // placement of this value at this location.
        self.value == *value
            && self.encoding == encoding
            && self.method.as_deref().is_none_or(|m| m == method)
            && self.at.matches(found)
            && self.origin.as_ref().is_none_or(|o| o.matches(url))
            && glob(&self.path, segments)
    }
}

impl fmt::Display for Placement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at {} of {} ({})",
            self.value,
            self.at,
            self.spec.request.trim(),
            self.spec.encoding
        )?;
        if let Some(origin) = &self.spec.origin {
            write!(f, " to {origin}")?;
        }
        Ok(())
    }
}

/// A connector's placements: where each hidden value may go, or, for a
/// connector the operator let place them anywhere, `unpinned`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Pins {
    placements: Vec<Placement>,
    unpinned: bool,
}

impl Pins {
    /// Placements the operator granted.
    pub(crate) fn new(placements: Vec<Placement>, unpinned: bool) -> Self {
        Pins {
            placements,
            unpinned,
        }
    }

    /// Whether hidden values may go anywhere at the granted origins.
    pub(crate) fn unpinned(&self) -> bool {
        self.unpinned
    }

    /// Whether any placement is granted.
    pub(crate) fn is_empty(&self) -> bool {
        self.placements.is_empty()
    }

    /// The placements.
    pub(crate) fn placements(&self) -> &[Placement] {
        &self.placements
    }

    /// Refuses `value` at `found` unless a placement allows it, saying
    /// where it may go instead; `segments` are the segments of `url`'s
    /// path.
    pub(crate) fn check(
        &self,
        value: &Hidden,
        method: &str,
        url: &Url,
        segments: &[&str],
        found: &Location,
        encoding: Encoding,
    ) -> Result<(), Box<Misplaced>> {
        if self.unpinned
            || self
                .placements
                .iter()
                .any(|p| p.allows(value, method, url, segments, found, encoding))
        {
            return Ok(());
        }
        let places: Vec<String> = self
            .placements
            .iter()
            .filter(|p| p.value == *value)
            .map(|p| {
                format!(
                    "{} of {} ({})",
                    p.at,
                    p.spec.request.trim(),
                    p.spec.encoding
                )
            })
            .collect();
        Err(Box::new(Misplaced {
            value: value.clone(),
            found: found.clone(),
            request: format!("{method} {}", url.path()),
            encoding: encoding.name(),
            places,
        }))
    }
}

/// A hidden value where no placement allows it: where it stood, and where
/// it may go instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value} may not stand at {found} of {request} (written {encoding}): {}", self.instead())]
pub(crate) struct Misplaced {
    /// The value.
    pub value: Hidden,
    /// Where it stood.
    pub found: Location,
    /// The request's method and path.
    pub request: String,
    /// How it was written.
    pub encoding: &'static str,
    /// The places its placements allow, as the operator wrote them.
    pub places: Vec<String>,
}

impl Misplaced {
    fn instead(&self) -> String {
        if self.places.is_empty() {
            format!(
                "it has no placement in this connector's section of payhost.toml, so it may go nowhere (add one to `placements`: {})",
                source_hint(&self.value)
            )
        } else {
            format!("it may go only to {}", self.places.join("; "))
        }
    }
}

fn source_hint(value: &Hidden) -> &'static str {
    match value {
        Hidden::Derived(sources)
            if sources.contains(CARD_NUMBER_SOURCE) || sources.contains(CVV_SOURCE) =>
        {
            "a value computed from card data"
        }
        Hidden::Derived(_) => "a value computed from these secrets",
        Hidden::Secret(_) => "a secret",
        Hidden::CardNumber | Hidden::Cvv => "card data",
        Hidden::Host(_) => "a value the host adds",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(value: &str, request: &str, at: &str, encoding: &str) -> PlacementSpec {
        PlacementSpec {
            value: value.into(),
            request: request.into(),
            at: at.into(),
            encoding: encoding.into(),
            prefix: None,
            origin: None,
        }
    }

    fn segments(url: &Url) -> Vec<&str> {
        url.path().trim_start_matches('/').split('/').collect()
    }

    #[test]
    fn a_placement_allows_its_value_only_at_its_place() {
        let p = Placement::from_spec(&spec(
            "card:cvv",
            "POST **/pay.do",
            "json:/creditCard/cardCVV",
            "json-string",
        ))
        .unwrap();
        let pins = Pins::new(vec![p], false);
        let url = Url::parse("http://127.0.0.1:9/atlas/pay.do").unwrap();
        let at = Location::Json(vec!["creditCard".into(), "cardCVV".into()]);
        assert!(
            pins.check(
                &Hidden::Cvv,
                "POST",
                &url,
                &segments(&url),
                &at,
                Encoding::JsonString
            )
            .is_ok()
        );
        // Another member, another value, another method, path or encoding.
        let order = Location::Json(vec!["orderNo".into()]);
        let e = pins
            .check(
                &Hidden::Cvv,
                "POST",
                &url,
                &segments(&url),
                &order,
                Encoding::JsonString,
            )
            .unwrap_err()
            .to_string();
        assert!(e.contains("json:/creditCard/cardCVV"), "{e}");
        let other = Url::parse("http://127.0.0.1:9/atlas/echo").unwrap();
        for (value, method, url, encoding) in [
            (Hidden::CardNumber, "POST", &url, Encoding::JsonString),
            (Hidden::Cvv, "GET", &url, Encoding::JsonString),
            (Hidden::Cvv, "POST", &other, Encoding::JsonString),
            (Hidden::Cvv, "POST", &url, Encoding::Raw),
        ] {
            assert!(
                pins.check(&value, method, url, &segments(url), &at, encoding)
                    .is_err(),
                "{value} {method} {url} {encoding:?}"
            );
        }
    }

    #[test]
    fn globs_match_segments() {
        let p = |s: &str| s.split('/').map(str::to_owned).collect::<Vec<_>>();
        assert!(glob(&p("**/pay.do"), &["pay.do"]));
        assert!(glob(&p("**/pay.do"), &["a", "b", "pay.do"]));
        assert!(!glob(&p("**/pay.do"), &["pay.do", "x"]));
        assert!(glob(&p("a/*/c"), &["a", "b", "c"]));
        assert!(!glob(&p("a/*/c"), &["a", "c"]));
    }

    #[test]
    fn bad_placements_say_what_to_write() {
        for (s, needle) in [
            (
                spec("secret:k", "POST pay", "header:x", "raw"),
                "request pattern",
            ),
            (spec("secret:k", "POST /p", "body", "raw"), "not a location"),
            (
                spec("secret:k", "POST /p", "header:x", "rot13"),
                "not an encoding",
            ),
            (spec("derived:k", "POST /p", "json:/s", "raw"), "any bytes"),
            (
                spec("k", "POST /p", "header:x", "raw"),
                "not a hidden value",
            ),
        ] {
            let e = Placement::from_spec(&s).unwrap_err().to_string();
            assert!(e.contains(needle), "{e}");
        }
    }
}
