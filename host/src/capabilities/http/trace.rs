//! The W3C trace context the host adds to each supplier request: the
//! `traceparent` of the request's span, when the payment is traced (a
//! caller sent a sampled `traceparent`, or spans are exported). It is the
//! host's header, set over any the connector wrote, and like every value
//! the host puts into a request it is scrubbed from the answer.

use opentelemetry::trace::TraceContextExt as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// The current span's `traceparent` value and its trace id (lower-case
/// hex), when it is traced.
pub(crate) fn traceparent() -> Option<(String, String)> {
    let cx = tracing::Span::current().context();
    let span = cx.span();
    let sc = span.span_context();
    if !sc.is_valid() || !sc.is_sampled() {
        return None;
    }
    let trace_id = sc.trace_id().to_string();
    Some((
        format!(
            "00-{trace_id}-{}-{:02x}",
            sc.span_id(),
            sc.trace_flags().to_u8()
        ),
        trace_id,
    ))
}
