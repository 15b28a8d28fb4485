//! `payhost:connector/http`: outbound HTTP to the origins the operator allowed.
//!
//! Every request is checked in this order, and any refusal is a `denied` or
//! `invalid` error to the connector, never a trap:
//! 1. the per-call request count;
//! 2. the URL: http or https, no user info, scheme/host/port matching a
//!    granted origin exactly; a secret or sealed value only in the query,
//!    with a URL-safe encoding;
//! 3. headers and body, with secrets and sealed values substituted only
//!    now (a sealed value computed by crypto only with a header-safe
//!    encoding in a header, so that no refusal depends on its content);
//! 4. DNS: a name that resolves to a loopback, private, link-local or
//!    metadata address is refused (only an IP literal in `allowed_hosts`
//!    reaches those), and the shared client's resolver refuses it again at
//!    connect time, so a second lookup cannot rebind it.
//!
//! Before anything is assembled, every secret and sealed value must stand
//! where a placement of the connector's allows it (`pinning`); before the
//! connector reads an answer, every hidden value the call sent is
//! scrubbed from it (`scrub`).
//!
//! Redirects are never followed; answers are capped in time and size. The
//! host decodes gzip and nothing else: a connector may ask for no other
//! content encoding, and an answer in one is not passed on.

pub(crate) mod cost;
mod pinning;
pub(crate) mod scrub;

use crate::contract::convert;
use crate::contract::hidden::Hidden;
use crate::contract::parts::{self, Piece};
use crate::contract::sealed::SealedKind;
use crate::contract::{http as wit, legacy};
use crate::policy::allowlist::{OriginPattern, restricted};
use crate::policy::placement::Pins;
use crate::policy::secrets::{HiddenBudget, SecretStore};
use scrub::{Echoes, Scrubber};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use url::{Host, Url};
use wasmtime::component::{HasData, Linker, ResourceTable};

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
/// The most a URL may be once assembled (see [`SecretStore::assemble`]),
/// by its bound: below every limit further down (the `http` crate refuses
/// a URI over 65,534 bytes), so that no failure there can depend on a
/// hidden value's real length.
const MAX_URL: usize = 60 * 1024;
/// The most a header value may be once assembled, by its bound.
const MAX_HEADER: usize = 16 * 1024;
/// The most headers one request may have.
const MAX_HEADERS: usize = 64;
/// The most all of a request's header values may be, by their bounds.
const MAX_HEADERS_TOTAL: usize = 64 * 1024;
/// The most a body may be once assembled.
const MAX_BODY: usize = 16 * 1024 * 1024;
/// The most headers kept from one answer.
const MAX_RESPONSE_HEADERS: usize = 100;

/// Builds the one HTTP client the host shares between all connectors.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(GuardedResolver))
        .connect_timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(30))
        .user_agent(concat!("payhost/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the HTTP client's fixed configuration is valid")
}

/// Resolves names and refuses any that reaches a restricted address.
struct GuardedResolver;

/// The error [`GuardedResolver`] gives for a restricted address.
#[derive(Debug, thiserror::Error)]
#[error("{name} resolves to {ip}, {why}; name the IP address in allowed_hosts to allow it")]
struct RestrictedAddress {
    name: String,
    ip: std::net::IpAddr,
    why: &'static str,
}

async fn resolve_checked(
    name: &str,
    port: u16,
) -> Result<Vec<SocketAddr>, Box<dyn std::error::Error + Send + Sync>> {
    // `example.com.` is `example.com`, as the allowlist matched it.
    let name = name.trim_end_matches('.');
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((name, port)).await?.collect();
    for addr in &addrs {
        if let Some(why) = restricted(addr.ip()) {
            return Err(Box::new(RestrictedAddress {
                name: name.to_owned(),
                ip: addr.ip(),
                why,
            }));
        }
    }
    if addrs.is_empty() {
        return Err(format!("{name} has no address").into());
    }
    Ok(addrs)
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let name = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = resolve_checked(&name, 0).await?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// One call's HTTP state.
pub(crate) struct HttpCtx {
    pub(crate) client: reqwest::Client,
    pub(crate) grant: Arc<[OriginPattern]>,
    pub(crate) secrets: Arc<SecretStore>,
    /// What the call may still assemble from secrets and sealed values.
    pub(crate) hidden: HiddenBudget,
    pub(crate) connector: Arc<str>,
    pub(crate) max_requests: u32,
    pub(crate) max_response_size: u64,
    pub(crate) deadline: Instant,
    /// Requests that may have reached a server.
    pub(crate) sent: u32,
    /// Requests the connector asked for, refused ones included.
    pub(crate) attempted: u32,
    /// Requests that went to the network (a lookup or a connection was
    /// tried), failed ones included: what `max_requests` counts.
    pub(crate) tried: u32,
    /// Where each hidden value may stand.
    pub(crate) pins: Arc<Pins>,
    /// The connector's secrets, ready to be scrubbed from any answer.
    pub(crate) secret_scrub: Arc<Scrubber>,
    /// Other hidden values this call holds or sent (card data, derived
    /// values), to be scrubbed from its answers.
    pub(crate) hidden_values: Vec<(Hidden, Vec<u8>)>,
    /// A scrubber for `hidden_values`: how many of them it covers, whether
    /// it was built for a small answer, and the scrubber.
    pub(crate) scrubber: Option<(usize, bool, Scrubber)>,
    /// Hidden values the call's answers echoed (names and places only).
    pub(crate) echoes: Echoes,
    /// Where the placeholders of the next request's check start.
    pub(crate) nonce: u64,
}

impl HttpCtx {
    /// A random start for a call's placeholder nonces.
    pub(crate) fn fresh_nonce() -> u64 {
        let mut bytes = [0u8; 8];
        // Without randomness, the placeholders are still unique per call;
        // a connector cannot read them either way.
        let _ = getrandom::fill(&mut bytes);
        u64::from_le_bytes(bytes)
    }

    /// Notes the hidden values `pieces` hold, to scrub them from answers.
    fn remember(&mut self, pieces: &[Piece<'_>]) {
        for piece in pieces {
            let (name, bytes) = match *piece {
                Piece::Literal(_) => continue,
                // Every granted secret is scrubbed already.
                Piece::Secret { .. } => continue,
                Piece::Sealed { value, .. } => (value.name(), value.expose()),
            };
            if !self.hidden_values.iter().any(|(_, b)| b == bytes) {
                self.hidden_values.push((name.clone(), bytes.to_vec()));
            }
        }
    }

    /// Replaces in `answer` every hidden value this call holds, and notes
    /// where it found one.
    fn scrub(&mut self, answer: RawIncoming) -> Incoming {
        // Built for this answer's size: one for a small answer builds faster.
        let size = answer.body.len()
            + answer
                .headers
                .iter()
                .map(|(n, v)| n.len() + v.len())
                .sum::<usize>();
        let small = size <= scrub::SMALL_SCAN;
        let stale = self.scrubber.as_ref().is_none_or(|(n, for_small, _)| {
            *n != self.hidden_values.len() || (*for_small && !small)
        });
        // The call's scrubber is built only for an answer that may hold one
        // of its values (one that holds none of their forms' first bytes,
        // plain or in an encoded run, holds none of them).
        let may_hold = || {
            let pre = scrub::Prefilter::new(&self.hidden_values);
            pre.may_hold(&answer.body)
                || answer
                    .headers
                    .iter()
                    .any(|(n, v)| pre.may_hold(n.as_bytes()) || pre.may_hold(v))
        };
        if stale && !self.hidden_values.is_empty() && may_hold() {
            self.scrubber = Some((
                self.hidden_values.len(),
                small,
                Scrubber::sized(&self.hidden_values, size),
            ));
        }
        // A scrubber for fewer values than the call now holds is not used
        // (the prefilter found none of the newer ones' forms).
        let current = self
            .scrubber
            .as_ref()
            .filter(|(n, _, _)| *n == self.hidden_values.len())
            .map(|(_, _, s)| s);
        let scrubbers: Vec<&Scrubber> = [Some(&*self.secret_scrub), current]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect();
        let mut echoes = Echoes::default();
        let pass = |bytes: Vec<u8>, place: &str, whole: bool, echoes: &mut Echoes| {
            Scrubber::scrub_all(&scrubbers, &bytes, place, whole, echoes).unwrap_or(bytes)
        };
        let mut headers = Vec::with_capacity(answer.headers.len());
        for (name, value) in answer.headers {
            if name == "content-length" {
                // The length of what was read, not of what was scrubbed.
                continue;
            }
            // A name that holds a hidden value is dropped with its value.
            let checked = pass(
                name.clone().into_bytes(),
                "a header's name",
                true,
                &mut echoes,
            );
            if checked != name.as_bytes() {
                continue;
            }
            let value = pass(value, &format!("header {name}"), true, &mut echoes);
            headers.push((name, String::from_utf8_lossy(&value).into_owned()));
        }
        let body = pass(answer.body, "the body", true, &mut echoes);
        if !echoes.is_empty() {
            tracing::warn!(
                connector = %self.connector,
                echoed = %echoes,
                "an answer echoed hidden values; they were replaced before the connector read it"
            );
            self.echoes.extend(echoes);
        }
        Incoming {
            status: answer.status,
            headers,
            body,
        }
    }
}

/// The view of [`HttpCtx`] that implements the generated traits, with the
/// call's resource table for the sealed values a request names.
pub(crate) struct Http<'a> {
    ctx: &'a mut HttpCtx,
    table: &'a mut ResourceTable,
}

struct HttpCapability;

impl HasData for HttpCapability {
    type Data<'a> = Http<'a>;
}

/// Adds `http` to a linker whose store is `T`; `get` finds this
/// capability's context in the store.
pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> Http<'_>,
) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, HttpCapability>(linker, get)?;
    legacy::http::add_to_linker::<T, HttpCapability>(linker, get)
}

impl<'a> Http<'a> {
    /// The view of one call's context.
    pub(crate) fn new(ctx: &'a mut HttpCtx, table: &'a mut ResourceTable) -> Self {
        Http { ctx, table }
    }
}

/// Why a request was not answered; each contract version has its own type.
#[derive(Debug)]
pub(crate) enum SendError {
    /// Refused by the host.
    Denied(String),
    /// No complete answer in time.
    Timeout(String),
    /// No connection: nothing was sent.
    Connect(String),
    /// The connection broke after sending.
    Broken(String),
    /// The answer is over the size limit.
    TooLarge(String),
    /// The request is malformed.
    Invalid(String),
}

/// A request, whichever contract version built it.
pub(crate) struct Outgoing<'a> {
    method: reqwest::Method,
    url: Vec<Piece<'a>>,
    headers: Vec<(&'a str, Vec<Piece<'a>>)>,
    body: Vec<Piece<'a>>,
    timeout_ms: Option<u32>,
}

/// An answer, as the connector reads it.
pub(crate) struct Incoming {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// An answer as it came, before it is scrubbed.
struct RawIncoming {
    status: u16,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

/// Where a piece stands in a request, for the placement rules.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Header,
    Body,
}

/// The URL with every secret and sealed value shown as a placeholder (for
/// checks and logs), and the pieces it is sent as. A secret or sealed value
/// may stand only in the query, with a URL-safe encoding.
fn url_pieces(pieces: &[Piece<'_>]) -> Result<String, SendError> {
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
fn check_place(place: Place, pieces: &[Piece<'_>]) -> Result<(), SendError> {
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

fn denied(ctx: &HttpCtx, url: &str, reason: String) -> SendError {
    tracing::warn!(connector = %ctx.connector, url, "request denied: {reason}");
    SendError::Denied(reason)
}

/// A URL as checked against the grant: the origin it matched.
fn check_url(ctx: &HttpCtx, raw: &str) -> Result<Url, SendError> {
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

fn header_map(
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

fn method(m: wit::Method) -> reqwest::Method {
    match m {
        wit::Method::Get => reqwest::Method::GET,
        wit::Method::Post => reqwest::Method::POST,
        wit::Method::Put => reqwest::Method::PUT,
        wit::Method::Delete => reqwest::Method::DELETE,
        wit::Method::Patch => reqwest::Method::PATCH,
    }
}

fn legacy_method(m: legacy::http::Method) -> reqwest::Method {
    match m {
        legacy::http::Method::Get => reqwest::Method::GET,
        legacy::http::Method::Post => reqwest::Method::POST,
        legacy::http::Method::Put => reqwest::Method::PUT,
        legacy::http::Method::Delete => reqwest::Method::DELETE,
        legacy::http::Method::Patch => reqwest::Method::PATCH,
    }
}

/// Classifies a transport error: whether the request may have been sent.
fn transport_error(e: reqwest::Error, timeout: Duration) -> SendError {
    // reqwest's text ends with the URL, which may hold a secret or a sealed
    // value in its query: it must not reach the connector.
    let e = e.without_url();
    let e = &e;
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<RestrictedAddress>() {
            return SendError::Denied(r.to_string());
        }
        source = s.source();
    }
    let detail = error_chain(e);
    if e.is_builder() {
        return SendError::Invalid(format!(
            "the request could not be built; nothing was sent: {detail}"
        ));
    }
    if e.is_connect() {
        SendError::Connect(format!("could not connect; nothing was sent: {detail}"))
    } else if e.is_timeout() {
        SendError::Timeout(format!(
            "no complete answer within {timeout:?}; the request may have been received"
        ))
    } else {
        SendError::Broken(format!(
            "the connection broke after the request was sent: {detail}"
        ))
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

impl HttpCtx {
    async fn perform(&mut self, request: Outgoing<'_>) -> Result<Incoming, SendError> {
        let ctx = self;
        ctx.attempted += 1;
        let shown = url_pieces(&request.url)?;
        let checked = check_url(ctx, &shown)?;
        ctx.nonce = ctx.nonce.wrapping_add(1);
        pinning::check(
            &ctx.pins,
            &pinning::Parts {
                method: request.method.as_str(),
                checked: &checked,
                url: &request.url,
                headers: &request.headers,
                body: &request.body,
            },
            ctx.nonce,
        )
        .map_err(|refusal| denied(ctx, &shown, refusal.to_string()))?;
        ctx.remember(&request.url);
        for (_, value) in &request.headers {
            ctx.remember(value);
        }
        ctx.remember(&request.body);
        let url = ctx
            .secrets
            .assemble(&request.url, MAX_URL, &ctx.hidden)
            .map_err(|e| SendError::Denied(e.to_string()))?;
        // Only the query differs from the URL checked: same origin.
        let url = Url::parse(&String::from_utf8_lossy(&url)).map_err(|_| {
            SendError::Invalid(format!("`{shown}` is not a valid URL once assembled"))
        })?;
        let headers = header_map(ctx, &request.headers)?;
        check_place(Place::Body, &request.body)?;
        let body = ctx
            .secrets
            .assemble(&request.body, MAX_BODY, &ctx.hidden)
            .map_err(|e| SendError::Denied(e.to_string()))?;

        let remaining = ctx.deadline.saturating_duration_since(Instant::now());
        let timeout = request
            .timeout_ms
            .map(|ms| Duration::from_millis(u64::from(ms)))
            .map_or(remaining, |t| t.min(remaining));
        if timeout.is_zero() {
            return Err(SendError::Denied(
                "the call's time is used up; nothing was sent".to_owned(),
            ));
        }

        // Counted once the request is sound and is about to go out: a
        // lookup or a connection that fails counts too.
        if ctx.tried >= ctx.max_requests {
            let limit = ctx.max_requests;
            return Err(denied(
                ctx,
                &shown,
                format!("the limit of {limit} requests per call is reached"),
            ));
        }
        ctx.tried += 1;
        if let Some(Host::Domain(name)) = url.host() {
            let port = url.port_or_known_default().unwrap_or(443);
            match tokio::time::timeout(timeout, resolve_checked(name, port)).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    return match e.downcast::<RestrictedAddress>() {
                        Ok(r) => Err(denied(ctx, &shown, r.to_string())),
                        Err(e) => Err(SendError::Connect(format!(
                            "could not connect; nothing was sent: cannot resolve {name}: {e}"
                        ))),
                    };
                }
                Err(_) => {
                    return Err(SendError::Connect(format!(
                        "could not connect; nothing was sent: resolving {name} took longer than {timeout:?}"
                    )));
                }
            }
        }

        ctx.sent += 1;
        let send = ctx
            .client
            .request(request.method, url)
            .headers(headers)
            .body(body)
            .timeout(timeout)
            .send();
        // An answer is read up to twice the limit and held to the limit
        // once scrubbed: an echo of a hidden value then counts as the
        // marker that replaces it, so whether an echoing answer is too
        // large does not depend on the hidden value's length.
        let max = ctx.max_response_size;
        let result = read_response(send, max.saturating_mul(2), timeout).await;
        if let Err(SendError::Connect(_) | SendError::Denied(_) | SendError::Invalid(_)) = &result {
            // The connection was never made: nothing reached a server.
            ctx.sent -= 1;
        }
        let answer = ctx.scrub(result?);
        if answer.body.len() as u64 > max {
            return Err(SendError::TooLarge(format!(
                "the answer is larger than the limit of {max} bytes"
            )));
        }
        Ok(answer)
    }
}

async fn read_response(
    send: impl Future<Output = reqwest::Result<reqwest::Response>>,
    max: u64,
    timeout: Duration,
) -> Result<RawIncoming, SendError> {
    let mut response = send.await.map_err(|e| transport_error(e, timeout))?;
    let status = response.status().as_u16();
    // gzip was decoded (and its header removed); any other coding would
    // reach the connector undecoded, past the scrubber.
    if let Some(coding) = response
        .headers()
        .get(reqwest::header::CONTENT_ENCODING)
        .map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|c| !c.is_empty() && c != "identity")
    {
        return Err(SendError::Broken(format!(
            "the answer came in content-encoding `{}`, which the host does not decode; it was not read (the request was sent)",
            coding.escape_debug()
        )));
    }
    let headers = response
        .headers()
        .iter()
        .take(MAX_RESPONSE_HEADERS)
        .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec()))
        .collect();
    if response.content_length().is_some_and(|len| len > max) {
        return Err(SendError::TooLarge(format!(
            "the answer announces {} bytes; the limit is {max}",
            response.content_length().unwrap_or_default()
        )));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| transport_error(e, timeout))?
    {
        if (body.len() + chunk.len()) as u64 > max {
            return Err(SendError::TooLarge(format!(
                "the answer is larger than the limit of {max} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(RawIncoming {
        status,
        headers,
        body,
    })
}

impl wit::Host for Http<'_> {
    async fn send(
        &mut self,
        request: wit::Request,
    ) -> wasmtime::Result<Result<wit::Response, wit::HttpError>> {
        // The table is not `Sync`: only the pieces, which borrow sealed
        // values, live across the send.
        let outgoing = {
            let table: &ResourceTable = self.table;
            Outgoing {
                method: method(request.method),
                url: convert::pieces(table, &request.url)?,
                headers: request
                    .headers
                    .iter()
                    .map(|h| Ok((h.name.as_str(), convert::pieces(table, &h.value)?)))
                    .collect::<wasmtime::Result<_>>()?,
                body: convert::pieces(table, &request.body)?,
                timeout_ms: request.timeout_ms,
            }
        };
        let result = self.ctx.perform(outgoing).await;
        Ok(result
            .map(|r| wit::Response {
                status: r.status,
                headers: r.headers,
                body: r.body,
            })
            .map_err(|e| match e {
                SendError::Denied(m) => wit::HttpError::Denied(m),
                SendError::Timeout(m) => wit::HttpError::Timeout(m),
                SendError::Connect(m) => wit::HttpError::Connect(m),
                SendError::Broken(m) => wit::HttpError::Broken(m),
                SendError::TooLarge(m) => wit::HttpError::TooLarge(m),
                SendError::Invalid(m) => wit::HttpError::Invalid(m),
            }))
    }
}

impl legacy::http::Host for Http<'_> {
    async fn send(
        &mut self,
        request: legacy::http::Request,
    ) -> wasmtime::Result<Result<legacy::http::Response, legacy::http::HttpError>> {
        let outgoing = Outgoing {
            method: legacy_method(request.method),
            url: vec![Piece::Literal(request.url.as_bytes())],
            headers: request
                .headers
                .iter()
                .map(|h| (h.name.as_str(), legacy::convert::pieces(&h.value)))
                .collect(),
            body: legacy::convert::pieces(&request.body),
            timeout_ms: request.timeout_ms,
        };
        let result = self.ctx.perform(outgoing).await;
        Ok(result
            .map(|r| legacy::http::Response {
                status: r.status,
                headers: r.headers,
                body: r.body,
            })
            .map_err(|e| match e {
                SendError::Denied(m) => legacy::http::HttpError::Denied(m),
                SendError::Timeout(m) => legacy::http::HttpError::Timeout(m),
                SendError::Connect(m) => legacy::http::HttpError::Connect(m),
                SendError::Broken(m) => legacy::http::HttpError::Broken(m),
                SendError::TooLarge(m) => legacy::http::HttpError::TooLarge(m),
                SendError::Invalid(m) => legacy::http::HttpError::Invalid(m),
            }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::dns::Resolve as _;
    use std::str::FromStr as _;

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

    #[tokio::test]
    async fn the_clients_own_resolver_refuses_restricted_addresses() {
        // The check at connect time, apart from the one before sending: a
        // name that resolved to a public address a moment ago cannot be
        // rebound to a private one in between.
        for name in ["localhost", "127.0.0.1"] {
            let resolved = GuardedResolver
                .resolve(reqwest::dns::Name::from_str(name).unwrap())
                .await;
            let error = resolved.err().map(|e| e.to_string()).unwrap_or_default();
            assert!(error.contains("a loopback address"), "{name}: {error}");
        }
    }
}
