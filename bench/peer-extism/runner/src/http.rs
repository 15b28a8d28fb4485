//! ureq as the plugin's native build sends its request: as Extism's host
//! sends a plugin's (`http_request` in extism's `src/pdk.rs`), or on one
//! agent kept alive.

use extism_atlas::{Answer, Http, HttpError, Request};
use std::io::Read as _;
use std::time::Duration;

/// One payment's deadline: payhost's default limit, the manifest's
/// `timeout_ms` and ureq's in the native calls alike.
pub(crate) const DEADLINE: Duration = Duration::from_secs(30);
/// The most of an answer Extism's host reads when the manifest sets no
/// `max_http_response_bytes`; the native calls read as much.
const MAX_ANSWER: u64 = 50 * 1024 * 1024;

/// ureq as the Extism plugin's native build sends its request.
pub(crate) enum Ureq {
    /// As Extism's host makes a plugin's request (`http_request` in
    /// extism's `src/pdk.rs`): a use-once agent configured for the request,
    /// run by `ureq::run` (another use-once agent), so a new connection
    /// every time; HTTP statuses are answers, not errors.
    UseOnce,
    /// The same on one agent whose connections are reused.
    Kept(ureq::Agent),
}

impl Http for Ureq {
    fn send(&self, request: &Request<'_>) -> Result<Answer, HttpError> {
        let mut builder = ureq::http::Request::builder()
            .method(request.method)
            .uri(request.url);
        for (name, value) in request.headers {
            builder = builder.header(*name, *value);
        }
        let built = builder
            .body(request.body)
            .map_err(|e| HttpError::Invalid(e.to_string()))?;
        let response = match self {
            Ureq::UseOnce => {
                let agent = ureq::agent();
                let configured = agent
                    .configure_request(built)
                    .http_status_as_error(false)
                    .timeout_global(Some(DEADLINE))
                    .build();
                ureq::run(configured)
            }
            Ureq::Kept(agent) => {
                let configured = agent
                    .configure_request(built)
                    .http_status_as_error(false)
                    .timeout_global(Some(DEADLINE))
                    .build();
                agent.run(configured)
            }
        }
        .map_err(http_error)?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        response
            .into_body()
            .into_reader()
            .take(MAX_ANSWER + 1)
            .read_to_end(&mut body)
            .map_err(|e| HttpError::Broken(e.to_string()))?;
        if body.len() as u64 > MAX_ANSWER {
            return Err(HttpError::Broken(format!(
                "the answer is larger than {MAX_ANSWER} bytes"
            )));
        }
        Ok(Answer { status, body })
    }
}

/// What a ureq error says of the request: never sent (a bad request, no
/// connection) or perhaps sent.
fn http_error(error: ureq::Error) -> HttpError {
    let message = error.to_string();
    match error {
        ureq::Error::BadUri(_) | ureq::Error::Http(_) => HttpError::Invalid(message),
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => HttpError::Connect(message),
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            HttpError::Connect(message)
        }
        ureq::Error::Timeout(_) => HttpError::Timeout(message),
        _ => HttpError::Broken(message),
    }
}
