//! Traces: every API request, journal write, connector call and supplier
//! request is a span, exported over OTLP/HTTP when `[telemetry]
//! otlp_endpoint` is set. A caller's W3C `traceparent` is the parent of
//! the request's span and goes on to the supplier.
//!
//! Only spans are exported, never log events: a span's attributes are the
//! few the host sets (a request id, a connector, an attempt id, a method,
//! an origin, a status), none of them secret or card-bearing.

use crate::policy::settings::TelemetrySettings;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{WithExportConfig as _, WithHttpConfig as _};
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use std::sync::Arc;
use std::time::Duration;
use tracing_subscriber::Layer as _;
use tracing_subscriber::registry::LookupSpan;

/// How long one export may take.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest answer a collector's reply is read to.
const MAX_REPLY: usize = 1024 * 1024;

/// Why traces cannot be exported as configured.
#[derive(Debug, thiserror::Error)]
#[error("cannot export traces to {endpoint}: {message}")]
pub struct TelemetryError {
    endpoint: String,
    message: String,
}

/// The tracer provider behind the spans: export, if configured, and the
/// sampling (a caller's sampled trace is followed; without export, nothing
/// else is sampled).
pub struct Tracing {
    provider: SdkTracerProvider,
}

impl Tracing {
    /// Sets up tracing as `settings` say.
    pub fn new(settings: &TelemetrySettings) -> Result<Tracing, TelemetryError> {
        let resource = opentelemetry_sdk::Resource::builder()
            .with_service_name(settings.service_name.clone())
            .build();
        let builder = SdkTracerProvider::builder().with_resource(resource);
        let provider = match &settings.otlp_endpoint {
            Some(endpoint) => {
                let fail = |message: String| {
                    let mut shown = endpoint.clone();
                    if shown.password().is_some() {
                        let _ = shown.set_password(Some("***"));
                    }
                    TelemetryError {
                        endpoint: shown.to_string(),
                        message,
                    }
                };
                let exporter = opentelemetry_otlp::SpanExporter::builder()
                    .with_http()
                    .with_http_client(Export::new().map_err(|e| fail(e.to_string()))?)
                    .with_endpoint(endpoint.as_str())
                    .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                    .with_timeout(EXPORT_TIMEOUT)
                    .build()
                    .map_err(|e| fail(e.to_string()))?;
                builder
                    .with_sampler(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)))
                    .with_batch_exporter(exporter)
                    .build()
            }
            None => builder
                .with_sampler(Sampler::ParentBased(Box::new(Sampler::AlwaysOff)))
                .build(),
        };
        opentelemetry::global::set_text_map_propagator(
            opentelemetry_sdk::propagation::TraceContextPropagator::new(),
        );
        Ok(Tracing { provider })
    }

    /// The layer that turns the host's spans (not its events) into
    /// OpenTelemetry spans: those at info level and above. The debug spans
    /// inside a call (`connector.instantiate`, `supplier.exchange`,
    /// `connector.teardown`: the benchmark's phases) are not exported.
    pub fn layer<S>(&self) -> impl tracing_subscriber::Layer<S> + use<S>
    where
        S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    {
        tracing_opentelemetry::layer()
            .with_tracer(self.provider.tracer("payhost"))
            .with_filter(tracing_subscriber::filter::filter_fn(|meta| {
                meta.is_span()
                    && meta.target().starts_with("payhost")
                    && *meta.level() <= tracing::Level::INFO
            }))
    }

    /// Sends what is still buffered and stops exporting.
    pub fn shutdown(&self) {
        if let Err(e) = self.provider.shutdown() {
            tracing::warn!("traces not all exported at shutdown: {e}");
        }
    }
}

/// Makes the request's span a child of the caller's `traceparent`, if it
/// sent one.
pub(crate) fn follow_caller(span: &tracing::Span, headers: &http::HeaderMap) {
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    if !headers.contains_key("traceparent") {
        return;
    }
    let parent = opentelemetry::global::get_text_map_propagator(|p| {
        p.extract(&opentelemetry_http::HeaderExtractor(headers))
    });
    let _ = span.set_parent(parent);
}

/// Exports with the host's own HTTP client (rustls) on a runtime of its
/// own: the exporter runs on a thread of the batch processor, outside
/// the host's runtime.
struct Export {
    client: reqwest::Client,
    runtime: Arc<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for Export {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Export")
    }
}

impl Export {
    fn new() -> std::io::Result<Export> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("payhost-otlp")
            .enable_all()
            .build()?;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(EXPORT_TIMEOUT)
            .build()
            .map_err(std::io::Error::other)?;
        Ok(Export {
            client,
            runtime: Arc::new(runtime),
        })
    }
}

#[async_trait::async_trait]
impl opentelemetry_http::HttpClient for Export {
    async fn send_bytes(
        &self,
        request: http::Request<bytes::Bytes>,
    ) -> Result<http::Response<bytes::Bytes>, opentelemetry_http::HttpError> {
        let client = self.client.clone();
        let task = self.runtime.spawn(async move {
            let (parts, body) = request.into_parts();
            let answer = client
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .send()
                .await?;
            let status = answer.status();
            let headers = answer.headers().clone();
            let mut body = answer.bytes().await?;
            body.truncate(MAX_REPLY);
            let mut reply = http::Response::new(body);
            *reply.status_mut() = status;
            *reply.headers_mut() = headers;
            Ok::<_, reqwest::Error>(reply)
        });
        Ok(task.await??)
    }
}
