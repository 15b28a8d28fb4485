//! `payhost:connector/http`: outbound HTTP to the origins the operator allowed.
//!
//! Every request is checked in this order, and any refusal is a `denied` or
//! `invalid` error to the connector, never a trap:
//! 1. the per-call request count;
//! 2. the URL: http or https, no user info, scheme/host/port matching a
//!    granted origin exactly;
//! 3. headers and body, with secrets substituted only now;
//! 4. DNS: a name that resolves to a loopback, private, link-local or
//!    metadata address is refused (only an IP literal in `allowed_hosts`
//!    reaches those), and the shared client's resolver refuses it again at
//!    connect time, so a second lookup cannot rebind it.
//!
//! Redirects are never followed; answers are capped in time and size.

use crate::contract::http::{self as wit, HttpError};
use crate::policy::allowlist::{OriginPattern, restricted};
use crate::policy::secrets::SecretStore;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use url::{Host, Url};
use wasmtime::component::{HasData, Linker};

/// Headers the host sets itself.
const RESERVED_HEADERS: [&str; 5] = [
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "upgrade",
];
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
    pub(crate) connector: Arc<str>,
    pub(crate) max_requests: u32,
    pub(crate) max_response_size: u64,
    pub(crate) deadline: Instant,
    /// Requests that may have reached a server.
    pub(crate) sent: u32,
    /// Requests the connector asked for, refused ones included.
    pub(crate) attempted: u32,
    /// Time spent waiting on the network.
    pub(crate) io_time: Duration,
}

/// The view of [`HttpCtx`] that implements the generated trait.
pub(crate) struct Http<'a>(&'a mut HttpCtx);

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
    wit::add_to_linker::<T, HttpCapability>(linker, get)
}

impl<'a> Http<'a> {
    /// The view of one call's context.
    pub(crate) fn new(ctx: &'a mut HttpCtx) -> Self {
        Http(ctx)
    }
}

fn denied(ctx: &HttpCtx, url: &str, reason: String) -> HttpError {
    tracing::warn!(connector = %ctx.connector, url, "request denied: {reason}");
    HttpError::Denied(reason)
}

/// A URL as checked against the grant: the origin it matched.
fn check_url(ctx: &HttpCtx, raw: &str) -> Result<Url, HttpError> {
    let url = Url::parse(raw)
        .map_err(|e| HttpError::Invalid(format!("`{raw}` is not an absolute URL: {e}")))?;
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
        return Err(HttpError::Invalid(format!("`{raw}` has no host")));
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
    headers: &[wit::Header],
) -> Result<reqwest::header::HeaderMap, HttpError> {
    let mut map = reqwest::header::HeaderMap::new();
    for header in headers {
        let name =
            reqwest::header::HeaderName::from_bytes(header.name.as_bytes()).map_err(|_| {
                HttpError::Invalid(format!("`{}` is not a valid header name", header.name))
            })?;
        if RESERVED_HEADERS.contains(&name.as_str()) {
            return Err(HttpError::Invalid(format!(
                "header `{name}` is set by the host"
            )));
        }
        let bytes = ctx
            .secrets
            .assemble(&header.value)
            .map_err(|e| HttpError::Denied(e.to_string()))?;
        // The value may hold a secret: the error must not quote it.
        let value = reqwest::header::HeaderValue::from_bytes(&bytes).map_err(|_| {
            HttpError::Invalid(format!(
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

/// Classifies a transport error: whether the request may have been sent.
fn transport_error(e: &reqwest::Error, timeout: Duration) -> HttpError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<RestrictedAddress>() {
            return HttpError::Denied(r.to_string());
        }
        source = s.source();
    }
    let detail = error_chain(e);
    if e.is_connect() {
        HttpError::Connect(format!("could not connect; nothing was sent: {detail}"))
    } else if e.is_timeout() {
        HttpError::Timeout(format!(
            "no complete answer within {timeout:?}; the request may have been received"
        ))
    } else {
        HttpError::Broken(format!(
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

impl Http<'_> {
    async fn perform(&mut self, request: wit::Request) -> Result<wit::Response, HttpError> {
        let ctx = &mut *self.0;
        ctx.attempted += 1;
        if ctx.sent >= ctx.max_requests {
            let limit = ctx.max_requests;
            return Err(denied(
                ctx,
                &request.url,
                format!("the limit of {limit} requests per call is reached"),
            ));
        }
        let url = check_url(ctx, &request.url)?;
        let headers = header_map(ctx, &request.headers)?;
        let body = ctx
            .secrets
            .assemble(&request.body)
            .map_err(|e| HttpError::Denied(e.to_string()))?;

        let remaining = ctx.deadline.saturating_duration_since(Instant::now());
        let timeout = request
            .timeout_ms
            .map(|ms| Duration::from_millis(u64::from(ms)))
            .map_or(remaining, |t| t.min(remaining));
        if timeout.is_zero() {
            return Err(HttpError::Denied(
                "the call's time is used up; nothing was sent".to_owned(),
            ));
        }

        let io_started = Instant::now();
        if let Some(Host::Domain(name)) = url.host() {
            let port = url.port_or_known_default().unwrap_or(443);
            match tokio::time::timeout(timeout, resolve_checked(name, port)).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    ctx.io_time += io_started.elapsed();
                    return match e.downcast::<RestrictedAddress>() {
                        Ok(r) => Err(denied(ctx, url.as_str(), r.to_string())),
                        Err(e) => Err(HttpError::Connect(format!(
                            "could not connect; nothing was sent: cannot resolve {name}: {e}"
                        ))),
                    };
                }
                Err(_) => {
                    ctx.io_time += io_started.elapsed();
                    return Err(HttpError::Connect(format!(
                        "could not connect; nothing was sent: resolving {name} took longer than {timeout:?}"
                    )));
                }
            }
        }

        ctx.sent += 1;
        let send = ctx
            .client
            .request(method(request.method), url)
            .headers(headers)
            .body(body)
            .timeout(timeout)
            .send();
        let result = read_response(send, ctx.max_response_size, timeout).await;
        ctx.io_time += io_started.elapsed();
        if let Err(HttpError::Connect(_) | HttpError::Denied(_)) = &result {
            // The connection was never made: nothing reached a server.
            ctx.sent -= 1;
        }
        result
    }
}

async fn read_response(
    send: impl Future<Output = reqwest::Result<reqwest::Response>>,
    max: u64,
    timeout: Duration,
) -> Result<wit::Response, HttpError> {
    let mut response = send.await.map_err(|e| transport_error(&e, timeout))?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .take(MAX_RESPONSE_HEADERS)
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    if response.content_length().is_some_and(|len| len > max) {
        return Err(HttpError::TooLarge(format!(
            "the answer announces {} bytes; the limit is {max}",
            response.content_length().unwrap_or_default()
        )));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| transport_error(&e, timeout))?
    {
        if (body.len() + chunk.len()) as u64 > max {
            return Err(HttpError::TooLarge(format!(
                "the answer is larger than the limit of {max} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(wit::Response {
        status,
        headers,
        body,
    })
}

impl wit::Host for Http<'_> {
    async fn send(
        &mut self,
        request: wit::Request,
    ) -> wasmtime::Result<Result<wit::Response, HttpError>> {
        Ok(self.perform(request).await)
    }
}
