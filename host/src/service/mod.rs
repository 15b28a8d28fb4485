//! The service: `payhost serve`'s HTTP API.
//!
//! - `POST /v1/payments` (scope `pay`): one payment (validated before any
//!   connector runs; journaled; an idempotency key replays its outcome);
//! - `GET /v1/payments/{id}` (`read`): a journaled attempt, card masked;
//! - `GET /v1/payments` (`read`): a search, one page at a time;
//! - `POST /v1/payments/{id}/resolve` (`resolve`): the operator's decision
//!   on an `unknown` attempt, or a query to the supplier, recorded with the
//!   token's name;
//! - `GET /v1/connectors`, `GET /metrics` (`admin`);
//! - `GET /healthz`: open, `503` when the journal cannot be written;
//! - `/console`: the operator console in a browser (see `console`).
//!
//! Errors are JSON, `{"error": {"code", "message"}}`, with a stable code,
//! and never quote a value the caller sent. The handlers are in `api`, the
//! caller and its scope (an extractor) in `caller`, the
//! typed bodies in `bodies` (their field names, read from the types, in
//! `fields`), the console's pages in `console`, the errors in `error`, the counters in
//! `metrics`, what the handlers share in `state`, the connection handling
//! (limits, TLS, shutdown) in `server`, the traces (spans, the caller's
//! `traceparent`, OTLP export) in `telemetry`.

mod api;
mod bodies;
mod caller;
mod console;
mod error;
mod fields;
mod metrics;
mod routes;
mod server;
mod state;
mod telemetry;

pub use bodies::{AttemptAnswer, ConnectorsAnswer, Health, PaymentAnswer, Readiness};
pub use error::{ErrorBody, ErrorDetail};
pub use routes::router;
pub use server::{ServeError, Server, serve};
pub use telemetry::{TelemetryError, Tracing};
