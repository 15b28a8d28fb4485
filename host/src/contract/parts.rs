//! The pieces of a URL, a header, a body or a crypto input, as the host
//! sees them whichever contract version the connector speaks: literal
//! bytes, a secret by name, or a sealed value, each with the encoding the
//! host writes it in.

use super::hidden::Hidden;
use super::sealed::SealedValue;
use std::collections::BTreeSet;

/// How a secret's or a sealed value's bytes are written: the one
/// implementation the SDK's test double uses too.
pub(crate) use payhost_rules::encoding::Encoding;

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
