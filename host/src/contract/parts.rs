//! The pieces of a URL, a header, a body or a crypto input, as the host
//! sees them whichever contract version the connector speaks: literal
//! bytes, a secret by name, or a sealed value, each with the encoding the
//! host writes it in.

use super::hidden::Hidden;
use super::sealed::SealedValue;
use std::collections::BTreeSet;

/// How a secret's or a sealed value's bytes are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// The bytes as they are.
    Raw,
    /// Lower-case hexadecimal.
    Hex,
    /// Upper-case hexadecimal.
    HexUpper,
    /// Standard Base64 with padding.
    Base64,
    /// URL-safe Base64 without padding.
    Base64Url,
    /// A JSON string literal, quotes included.
    JsonString,
    /// XML character data.
    XmlText,
    /// `application/x-www-form-urlencoded` (space as `+`).
    UrlComponent,
}

/// Every encoding with the name the contract and `payhost.toml` give it.
const ENCODING_NAMES: [(Encoding, &str); 8] = [
    (Encoding::Raw, "raw"),
    (Encoding::Hex, "hex"),
    (Encoding::HexUpper, "hex-upper"),
    (Encoding::Base64, "base64"),
    (Encoding::Base64Url, "base64url"),
    (Encoding::JsonString, "json-string"),
    (Encoding::XmlText, "xml-text"),
    (Encoding::UrlComponent, "url-component"),
];

impl Encoding {
    /// The encoding named `name` (`hex-upper`), as the contract spells it.
    pub(crate) fn parse(name: &str) -> Option<Encoding> {
        ENCODING_NAMES
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(e, _)| *e)
    }

    /// Its name, as the contract spells it.
    pub(crate) fn name(self) -> &'static str {
        ENCODING_NAMES
            .iter()
            .find(|(e, _)| *e == self)
            .map_or("raw", |(_, n)| n)
    }

    /// Whether every byte this encoding writes is safe in a URL's query.
    pub(crate) fn url_safe(self) -> bool {
        matches!(
            self,
            Encoding::Hex | Encoding::HexUpper | Encoding::Base64Url | Encoding::UrlComponent
        )
    }

    /// Whether every byte this encoding writes is a visible ASCII
    /// character, safe in a header value whatever the input.
    pub(crate) fn header_safe(self) -> bool {
        self.url_safe() || self == Encoding::Base64
    }

    /// Whether the length this encoding writes depends only on the input's
    /// length, not on its content: the only encodings a value computed by
    /// crypto may be written in, or its content would show in a length
    /// (and lengths show, in limits and in time).
    pub(crate) fn fixed_size(self) -> bool {
        matches!(
            self,
            Encoding::Raw
                | Encoding::Hex
                | Encoding::HexUpper
                | Encoding::Base64
                | Encoding::Base64Url
        )
    }

    /// The most bytes this encoding writes for `n` bytes of input.
    pub(crate) fn bound(self, n: usize) -> usize {
        match self {
            Encoding::Raw => n,
            Encoding::Hex | Encoding::HexUpper => 2 * n,
            Encoding::Base64 | Encoding::Base64Url => n.div_ceil(3) * 4,
            // `\u00XX` for a control byte, or U+FFFD (3 bytes) for one that
            // is not UTF-8; and the quotes.
            Encoding::JsonString => 6 * n + 2,
            Encoding::XmlText => 6 * n,
            Encoding::UrlComponent => 3 * n,
        }
    }

    /// Writes `value` in this encoding. A JSON string of bytes that are not
    /// UTF-8 is written lossily (U+FFFD) when `lossy`, and refused otherwise
    /// (`Err(())`); every other encoding takes any bytes.
    pub(crate) fn write(self, out: &mut Vec<u8>, value: &[u8], lossy: bool) -> Result<(), ()> {
        use base64::Engine as _;
        match self {
            Encoding::Raw => out.extend_from_slice(value),
            Encoding::Hex => out.extend_from_slice(hex::encode(value).as_bytes()),
            Encoding::HexUpper => out.extend_from_slice(hex::encode_upper(value).as_bytes()),
            Encoding::Base64 => out.extend_from_slice(
                base64::engine::general_purpose::STANDARD
                    .encode(value)
                    .as_bytes(),
            ),
            Encoding::Base64Url => out.extend_from_slice(
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(value)
                    .as_bytes(),
            ),
            Encoding::JsonString => {
                let text = match std::str::from_utf8(value) {
                    Ok(text) => std::borrow::Cow::Borrowed(text),
                    Err(_) if lossy => String::from_utf8_lossy(value),
                    Err(_) => return Err(()),
                };
                // Serializing a &str cannot fail.
                out.extend_from_slice(serde_json::to_string(&*text).unwrap_or_default().as_bytes());
            }
            Encoding::XmlText => {
                for &byte in value {
                    match byte {
                        b'&' => out.extend_from_slice(b"&amp;"),
                        b'<' => out.extend_from_slice(b"&lt;"),
                        b'>' => out.extend_from_slice(b"&gt;"),
                        b'"' => out.extend_from_slice(b"&quot;"),
                        b'\'' => out.extend_from_slice(b"&apos;"),
                        other => out.push(other),
                    }
                }
            }
            Encoding::UrlComponent => {
                for piece in url::form_urlencoded::byte_serialize(value) {
                    out.extend_from_slice(piece.as_bytes());
                }
            }
        }
        Ok(())
    }
}

/// One piece of assembled bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Piece<'a> {
    /// Bytes the connector provided.
    Literal(&'a [u8]),
    /// One of the operator's secrets, by name.
    Secret {
        /// The secret's name.
        name: &'a str,
        /// How to write it.
        encoding: Encoding,
    },
    /// A sealed value.
    Sealed {
        /// The value.
        value: &'a SealedValue,
        /// How to write it.
        encoding: Encoding,
    },
}

/// The most bytes a secret may have (`payhost.toml` refuses a longer one):
/// the bound a secret's part is counted with.
pub(crate) const SECRET_BOUND: usize = 8 * 1024;

impl Piece<'_> {
    /// Whether this piece is not the connector's own bytes: what is computed
    /// from it is sealed.
    pub(crate) fn is_hidden(&self) -> bool {
        !matches!(self, Piece::Literal(_))
    }

    /// What a hidden piece is, by name; `None` for a literal.
    pub(crate) fn hidden_name(&self) -> Option<Hidden> {
        match *self {
            Piece::Literal(_) => None,
            Piece::Secret { name, .. } => Some(Hidden::Secret(name.to_owned())),
            Piece::Sealed { value, .. } => Some(value.name().clone()),
        }
    }

    /// The encoding a hidden piece is written in.
    pub(crate) fn encoding(&self) -> Option<Encoding> {
        match *self {
            Piece::Literal(_) => None,
            Piece::Secret { encoding, .. } | Piece::Sealed { encoding, .. } => Some(encoding),
        }
    }

    /// The most bytes this piece can write, from what the connector knows:
    /// a literal's length, a secret's and a sealed value's bound.
    pub(crate) fn bound(&self) -> usize {
        match *self {
            Piece::Literal(bytes) => bytes.len(),
            Piece::Secret { encoding, .. } => encoding.bound(SECRET_BOUND),
            Piece::Sealed { value, encoding } => encoding.bound(value.bound()),
        }
    }
}

/// The bytes of `pieces` when every one is literal.
pub(crate) fn literal(pieces: &[Piece<'_>]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for piece in pieces {
        match piece {
            Piece::Literal(bytes) => out.extend_from_slice(bytes),
            _ => return None,
        }
    }
    Some(out)
}

/// What a value computed from `pieces` derives from: the sources of every
/// hidden piece among them.
pub(crate) fn sources(pieces: &[Piece<'_>]) -> BTreeSet<String> {
    pieces
        .iter()
        .filter_map(Piece::hidden_name)
        .flat_map(|name| name.sources())
        .collect()
}

/// The most bytes `pieces` can write (see [`Piece::bound`]).
pub(crate) fn bound(pieces: &[Piece<'_>]) -> usize {
    pieces
        .iter()
        .map(Piece::bound)
        .fold(0, usize::saturating_add)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(encoding: Encoding, value: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encoding.write(&mut out, value, true).unwrap();
        out
    }

    #[test]
    fn encodings_escape_for_their_context() {
        let v = b"a\"b<&> c'";
        assert_eq!(written(Encoding::Raw, v), v);
        assert_eq!(written(Encoding::JsonString, v), b"\"a\\\"b<&> c'\"");
        assert_eq!(
            written(Encoding::XmlText, v),
            b"a&quot;b&lt;&amp;&gt; c&apos;"
        );
        assert_eq!(written(Encoding::UrlComponent, v), b"a%22b%3C%26%3E+c%27");
        assert_eq!(written(Encoding::Hex, &[0xab, 0x01]), b"ab01");
        assert_eq!(written(Encoding::HexUpper, &[0xab, 0x01]), b"AB01");
        assert_eq!(written(Encoding::Base64, &[0xfb, 0xff]), b"+/8=");
        assert_eq!(written(Encoding::Base64Url, &[0xfb, 0xff]), b"-_8");
        // Not UTF-8: lossy when asked, refused otherwise.
        assert_eq!(
            written(Encoding::JsonString, &[0xff]),
            "\"\u{fffd}\"".as_bytes()
        );
        assert!(
            Encoding::JsonString
                .write(&mut Vec::new(), &[0xff], false)
                .is_err()
        );
    }
}
