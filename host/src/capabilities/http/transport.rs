//! Sending a checked request and reading its answer: the per-call limits
//! (request count, time), the lookup before sending, the answer's size and
//! content coding, and what a transport error tells the connector.

use super::dns::{RestrictedAddress, resolve_checked};
use super::pinning;
use super::request::{
    MAX_URL, Outgoing, Place, check_place, check_url, denied, header_map, url_pieces,
};
use super::{HttpCtx, Incoming, RawIncoming, SendError, trace};
use crate::contract::hidden::Hidden;
use crate::contract::parts::Piece;
use std::time::{Duration, Instant};
use url::{Host, Url};

/// The most a body may be once assembled.
const MAX_BODY: usize = 16 * 1024 * 1024;
/// The most headers kept from one answer.
const MAX_RESPONSE_HEADERS: usize = 100;

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
    /// Checks, assembles and sends one request, and reads its answer,
    /// scrubbed; in a span of its own (`supplier.request`) whose only
    /// attributes are the method, the origin and the status.
    pub(super) async fn perform(&mut self, request: Outgoing<'_>) -> Result<Incoming, SendError> {
        let span = tracing::info_span!(
            "supplier.request",
            connector = %self.connector,
            method = %request.method,
            origin = tracing::field::Empty,
            status = tracing::field::Empty,
        );
        let result = tracing::Instrument::instrument(self.perform_in(request), span.clone()).await;
        match &result {
            Ok(answer) => span.record("status", answer.status),
            Err(e) => span.record("status", e.kind()),
        };
        result
    }

    async fn perform_in(&mut self, request: Outgoing<'_>) -> Result<Incoming, SendError> {
        let ctx = self;
        ctx.attempted += 1;
        let shown = url_pieces(&request.url)?;
        let checked = check_url(ctx, &shown)?;
        let span = tracing::Span::current();
        if !span.is_disabled() {
            span.record("origin", checked.origin().ascii_serialization());
        }
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
        let url = if request.url.iter().all(|p| matches!(p, Piece::Literal(_))) {
            // Nothing hidden in it: the URL checked is the URL sent.
            checked.clone()
        } else {
            let url = ctx
                .secrets
                .assemble(&request.url, MAX_URL, &ctx.hidden)
                .map_err(|e| SendError::Denied(e.to_string()))?;
            // Only the query differs from the URL checked: same origin.
            Url::parse(&String::from_utf8_lossy(&url)).map_err(|_| {
                SendError::Invalid(format!("`{shown}` is not a valid URL once assembled"))
            })?
        };
        let mut headers = header_map(ctx, &request.headers)?;
        // The payment's trace goes on to the supplier, and is scrubbed from
        // what comes back as everything else the host put in.
        if let Some((traceparent, trace_id)) = trace::traceparent()
            && let Ok(value) = reqwest::header::HeaderValue::from_str(&traceparent)
        {
            headers.insert("traceparent", value);
            for (name, bytes) in [("traceparent", traceparent), ("trace-id", trace_id)] {
                if !ctx
                    .hidden_values
                    .iter()
                    .any(|(_, b)| *b == bytes.as_bytes())
                {
                    ctx.hidden_values
                        .push((Hidden::Host(name), bytes.into_bytes()));
                }
            }
        }
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
        fenced(ctx, &shown)?;
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

        // The last moment before anything leaves (looked at before the
        // lookup too).
        fenced(ctx, &shown)?;
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
        // A debug span, never exported as a trace and off below the debug
        // log level: the benchmark times the exchange apart from the
        // host's work around it (section 0c).
        let exchange = tracing::debug_span!("supplier.exchange");
        let result = tracing::Instrument::instrument(
            read_response(send, max.saturating_mul(2), timeout),
            exchange,
        )
        .await;
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

/// Refuses a journaled payment's request once its fence no longer holds:
/// this host's lease in the journal may have lapsed (a long pause, a
/// journal it could not renew in) or been given up (the journal closed)
/// since the attempt was begun, so another host may have marked the
/// attempt `unknown` and a person may have settled it. What the payment
/// has not sent yet, it does not send.
fn fenced(ctx: &HttpCtx, shown: &str) -> Result<(), SendError> {
    if ctx.fence.as_ref().is_none_or(|fence| fence.holds()) {
        return Ok(());
    }
    tracing::warn!(
        connector = %ctx.connector,
        "a payment's request to {shown} was not sent: this host's lease in the journal may have lapsed, or the journal closed, since the payment began, so another host may have taken its attempt over"
    );
    Err(SendError::Denied(
        "this host's lease in the journal may have lapsed, or the journal closed, since the payment began (another host may have taken the payment over); nothing was sent".to_owned(),
    ))
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
