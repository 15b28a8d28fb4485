//! The outgoing request: what a connector asked for, whichever contract
//! version built it, and its checks before anything is assembled (the URL
//! against the grant, where secrets and sealed values may stand, the
//! headers and their limits), and the methods of each contract version.

use super::{HttpCtx, SendError};
use crate::contract::parts::{self, Piece};
use crate::contract::sealed::SealedKind;
use crate::contract::{http as wit, legacy};
use url::Url;

/// The content codings a connector may ask for: the ones the host decodes
/// (and scrubs) before the connector reads an answer.
const DECODED_CODINGS: [&str; 3] = ["gzip", "x-gzip", "identity"];
/// Headers the host sets itself.
const RESERVED_HEADERS: [&str; 5] = [
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "upgrade",
];
/// The most a URL may be once assembled (see
/// [`SecretStore::assemble`](crate::policy::secrets::SecretStore::assemble)),
/// by its bound: below every limit further down (the `http` crate refuses
/// a URI over 65,534 bytes), so that no failure there can depend on a
/// hidden value's real length.
pub(super) const MAX_URL: usize = 60 * 1024;
/// The most a header value may be once assembled, by its bound.
const MAX_HEADER: usize = 16 * 1024;
/// The most headers one request may have.
const MAX_HEADERS: usize = 64;
/// The most all of a request's header values may be, by their bounds.
const MAX_HEADERS_TOTAL: usize = 64 * 1024;

/// A request, whichever contract version built it.
pub(crate) struct Outgoing<'a> {
    pub(super) method: reqwest::Method,
    pub(super) url: Vec<Piece<'a>>,
    pub(super) headers: Vec<(&'a str, Vec<Piece<'a>>)>,
    pub(super) body: Vec<Piece<'a>>,
    pub(super) timeout_ms: Option<u32>,
}

/// Where a piece stands in a request, for the placement rules.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    Header,
    Body,
}

/// The URL with every secret and sealed value shown as a placeholder (for
/// checks and logs), and the pieces it is sent as. A secret or sealed value
/// may stand only in the query, with a URL-safe encoding.
pub(super) fn url_pieces(pieces: &[Piece<'_>]) -> Result<String, SendError> {
    // Every limit is checked on public bounds: a literal byte may grow to
    // `%XX` when the URL is parsed, a hidden part counts at its bound.
    let bound = pieces
        .iter()
        .map(|p| match p {
            Piece::Literal(bytes) => bytes.len().saturating_mul(3),
            hidden => hidden.bound(),
        })
        .fold(0, usize::saturating_add);
    if bound > MAX_URL {
        return Err(SendError::Denied(format!(
            "the URL could be up to {bound} bytes once assembled and encoded (each literal byte counted as 3, each secret as 8 KiB, each sealed value at its most), over the limit of {MAX_URL}"
        )));
    }
    let mut shown = String::new();
    let mut in_query = false;
    for piece in pieces {
        match *piece {
            Piece::Literal(bytes) => {
                let text = std::str::from_utf8(bytes)
                    .map_err(|_| SendError::Invalid("the URL is not valid UTF-8".to_owned()))?;
                in_query |= text.contains('?');
                shown.push_str(text);
            }
            Piece::Secret { encoding, .. } | Piece::Sealed { encoding, .. } => {
                if !in_query {
                    return Err(SendError::Denied(
                        "a secret or sealed value may stand in a URL only in its query, after `?`"
                            .to_owned(),
                    ));
                }
                if !encoding.url_safe() {
                    return Err(SendError::Denied(
                        "a secret or sealed value in a URL must be written with url-component, hex, hex-upper or base64url"
                            .to_owned(),
                    ));
                }
                shown.push_str(match piece {
                    Piece::Secret { .. } => "{secret}",
                    _ => "{sealed}",
                });
            }
        }
    }
    Ok(shown)
}

/// Refuses a piece whose encoding could fail for some content where it
/// stands: a sealed value computed by crypto is any bytes, so in a header
/// it must be written with an encoding whose output is always valid there.
pub(super) fn check_place(place: Place, pieces: &[Piece<'_>]) -> Result<(), SendError> {
    for piece in pieces {
        if let Piece::Sealed { value, encoding } = piece
            && place == Place::Header
            && value.kind() == SealedKind::Derived
            && !encoding.header_safe()
        {
            return Err(SendError::Denied(
                "a sealed value computed by crypto must be written in a header with hex, hex-upper, base64 or base64url"
                    .to_owned(),
            ));
        }
    }
    Ok(())
}

pub(super) fn denied(ctx: &HttpCtx, url: &str, reason: String) -> SendError {
    tracing::warn!(connector = %ctx.connector, url, "request denied: {reason}");
    SendError::Denied(reason)
}

/// A URL as checked against the grant: the origin it matched.
pub(super) fn check_url(ctx: &HttpCtx, raw: &str) -> Result<Url, SendError> {
    let url = Url::parse(raw)
        .map_err(|e| SendError::Invalid(format!("`{raw}` is not an absolute URL: {e}")))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(denied(
            ctx,
            raw,
            format!(
                "scheme `{}` is not allowed; use http or https",
                url.scheme()
            ),
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(denied(
            ctx,
            raw,
            "a URL with user information (`user@host`) is not allowed".to_owned(),
        ));
    }
    if url.host().is_none() {
        return Err(SendError::Invalid(format!("`{raw}` has no host")));
    }
    if !ctx.grant.iter().any(|p| p.matches(&url)) {
        let origin = url.origin().ascii_serialization();
        let reason = if ctx.grant.is_empty() {
            format!(
                "{origin} is not allowed: this connector may call no host (its allowed_hosts is empty)"
            )
        } else {
            let granted: Vec<String> = ctx.grant.iter().map(ToString::to_string).collect();
            format!(
                "{origin} is not allowed: this connector may call only {}",
                granted.join(", ")
            )
        };
        return Err(denied(ctx, raw, reason));
    }
    Ok(url)
}

pub(super) fn header_map(
    ctx: &HttpCtx,
    headers: &[(&str, Vec<Piece<'_>>)],
) -> Result<reqwest::header::HeaderMap, SendError> {
    if headers.len() > MAX_HEADERS {
        return Err(SendError::Invalid(format!(
            "a request may have at most {MAX_HEADERS} headers, not {}",
            headers.len()
        )));
    }
    let total = headers
        .iter()
        .map(|(_, v)| parts::bound(v))
        .fold(0, usize::saturating_add);
    if total > MAX_HEADERS_TOTAL {
        return Err(SendError::Denied(format!(
            "the headers could be up to {total} bytes once assembled (each secret counted as 8 KiB, each sealed value at its most), over the limit of {MAX_HEADERS_TOTAL}"
        )));
    }
    let mut map = reqwest::header::HeaderMap::new();
    for (name, value) in headers {
        let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| SendError::Invalid(format!("`{name}` is not a valid header name")))?;
        if RESERVED_HEADERS.contains(&name.as_str()) {
            return Err(SendError::Invalid(format!(
                "header `{name}` is set by the host"
            )));
        }
        if name == reqwest::header::ACCEPT_ENCODING {
            let asked = String::from_utf8_lossy(&parts::literal(value).unwrap_or_default())
                .to_ascii_lowercase();
            let codings = asked
                .split(',')
                .map(|c| c.split(';').next().unwrap_or_default().trim());
            if codings
                .clone()
                .any(|c| !c.is_empty() && !DECODED_CODINGS.contains(&c))
            {
                return Err(SendError::Invalid(format!(
                    "accept-encoding may name only gzip or identity, the codings the host decodes before the connector reads an answer (not `{}`)",
                    asked.escape_debug()
                )));
            }
        }
        check_place(Place::Header, value)?;
        let bytes = ctx
            .secrets
            .assemble(value, MAX_HEADER, &ctx.hidden)
            .map_err(|e| SendError::Denied(e.to_string()))?;
        // The value may hold a secret: the error must not quote it.
        let value = reqwest::header::HeaderValue::from_bytes(&bytes).map_err(|_| {
            SendError::Invalid(format!(
                "the value of header `{name}` holds characters not allowed in a header"
            ))
        })?;
        map.append(name, value);
    }
    Ok(map)
}

pub(super) fn method(m: wit::Method) -> reqwest::Method {
    match m {
        wit::Method::Get => reqwest::Method::GET,
        wit::Method::Post => reqwest::Method::POST,
        wit::Method::Put => reqwest::Method::PUT,
        wit::Method::Delete => reqwest::Method::DELETE,
        wit::Method::Patch => reqwest::Method::PATCH,
    }
}

pub(super) fn legacy_method(m: legacy::http::Method) -> reqwest::Method {
    match m {
        legacy::http::Method::Get => reqwest::Method::GET,
        legacy::http::Method::Post => reqwest::Method::POST,
        legacy::http::Method::Put => reqwest::Method::PUT,
        legacy::http::Method::Delete => reqwest::Method::DELETE,
        legacy::http::Method::Patch => reqwest::Method::PATCH,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_is_bounded_with_each_literal_byte_at_its_encoded_worst() {
        // Spaces become `%20` when the URL is parsed: 21,000 of them could be
        // 63,000 bytes, past what the HTTP client takes, so they are
        // refused before anything is assembled, whatever a hidden part is.
        let spaces = format!("https://a.test/p?x={}", " ".repeat(21_000));
        let refused = url_pieces(&[Piece::Literal(spaces.as_bytes())]);
        assert!(matches!(refused, Err(SendError::Denied(ref m)) if m.contains("counted as 3")));
        let fits = format!("https://a.test/p?x={}", " ".repeat(15_000));
        assert!(url_pieces(&[Piece::Literal(fits.as_bytes())]).is_ok());
    }
}
