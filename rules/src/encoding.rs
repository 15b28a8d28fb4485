//! How a secret's or a sealed value's bytes are written into a request or a
//! crypto input: the one implementation the host and the SDK's test double
//! both use, so that a connector behaves in its unit tests as in the host.

/// How a secret's or a sealed value's bytes are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
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
    pub fn parse(name: &str) -> Option<Encoding> {
        ENCODING_NAMES
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(e, _)| *e)
    }

    /// Its name, as the contract spells it.
    pub fn name(self) -> &'static str {
        ENCODING_NAMES
            .iter()
            .find(|(e, _)| *e == self)
            .map_or("raw", |(_, n)| n)
    }

    /// Whether every byte this encoding writes is safe in a URL's query.
    pub fn url_safe(self) -> bool {
        matches!(
            self,
            Encoding::Hex | Encoding::HexUpper | Encoding::Base64Url | Encoding::UrlComponent
        )
    }

    /// Whether every byte this encoding writes is a visible ASCII
    /// character, safe in a header value whatever the input.
    pub fn header_safe(self) -> bool {
        self.url_safe() || self == Encoding::Base64
    }

    /// Whether the length this encoding writes depends only on the input's
    /// length, not on its content: the only encodings a value computed by
    /// crypto may be written in, or its content would show in a length
    /// (and lengths show, in limits and in time).
    pub fn fixed_size(self) -> bool {
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
    pub fn bound(self, n: usize) -> usize {
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
    #[allow(clippy::result_unit_err)]
    pub fn write(self, out: &mut Vec<u8>, value: &[u8], lossy: bool) -> Result<(), ()> {
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
