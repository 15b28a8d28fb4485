//! `[telemetry]`: where `payhost serve` sends its traces.
//!
//! ```toml
//! [telemetry]
//! otlp_endpoint = "http://127.0.0.1:4318"   # an OpenTelemetry collector (OTLP over HTTP)
//! service_name = "payhost"
//! ```
//!
//! Without `otlp_endpoint` nothing is exported; a caller's sampled
//! `traceparent` is still carried on to the suppliers.

use super::raw;
use super::report::{ConfigError, Report};

/// The `[telemetry]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelemetrySettings {
    /// The collector's OTLP/HTTP traces URL (`…/v1/traces`), when spans
    /// are exported.
    pub otlp_endpoint: Option<url::Url>,
    /// The service name the spans carry.
    pub service_name: String,
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        TelemetrySettings {
            otlp_endpoint: None,
            service_name: "payhost".to_owned(),
        }
    }
}

impl TelemetrySettings {
    /// The section as written, checked: the endpoint an `http` or `https`
    /// URL (a bare collector address gets the traces path, `/v1/traces`).
    pub(super) fn from_raw(raw: raw::Telemetry, report: &Report<'_>) -> Result<Self, ConfigError> {
        let d = TelemetrySettings::default();
        let otlp_endpoint = match raw.otlp_endpoint {
            None => None,
            Some(text) => {
                let span = text.span();
                let bad = || {
                    report.at(
                        span.clone(),
                        "telemetry.otlp_endpoint",
                        "`otlp_endpoint` must be the collector's OTLP/HTTP address, like \"http://127.0.0.1:4318\"",
                    )
                };
                let mut url = url::Url::parse(text.get_ref()).map_err(|_| bad())?;
                if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                    return Err(bad());
                }
                if url.path() == "/" || url.path().is_empty() {
                    url.set_path("/v1/traces");
                }
                Some(url)
            }
        };
        Ok(TelemetrySettings {
            otlp_endpoint,
            service_name: raw.service_name.unwrap_or(d.service_name),
        })
    }
}
