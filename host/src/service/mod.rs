//! The service: `payhost serve`'s HTTP API.
//!
//! - `POST /v1/payments` (scope `pay`): one payment (validated before any
//!   connector runs; journaled; an idempotency key replays its outcome);
//! - `GET /v1/payments/{id}` (`read`): a journaled attempt, card masked;
//! - `POST /v1/payments/{id}/resolve` (`resolve`): the operator's decision
//!   on an `unknown` attempt, recorded with the token's name;
//! - `GET /v1/connectors`, `GET /metrics` (`admin`);
//! - `GET /healthz`: open, `503` when the journal cannot be written.
//!
//! Errors are JSON, `{"error": {"code", "message"}}`, with a stable code,
//! and never quote a value the caller sent. The handlers are in `api`, the
//! typed bodies in `bodies`, the errors in `error`, the counters in
//! `metrics`, the connection handling (limits, TLS, shutdown) in `server`.

mod api;
mod bodies;
mod error;
mod metrics;
mod server;

pub use bodies::{ConnectorsAnswer, Health, PaymentAnswer};
pub use error::{ErrorBody, ErrorDetail};
pub use server::{ServeError, Server, serve};

use crate::host::Host;
use api::AppState;
use axum::Router;
use axum::routing::{get, post};
use metrics::Metrics;
use std::sync::Arc;

/// The API's router for `host`, with its `[api]` settings.
pub fn router(host: Arc<Host>) -> Router {
    let state = Arc::new(AppState {
        api: host.settings().api.clone(),
        host,
        metrics: Metrics::default(),
    });
    Router::new()
        .route("/v1/payments", post(api::post_payment))
        .route("/v1/payments/{id}", get(api::get_payment))
        .route("/v1/payments/{id}/resolve", post(api::resolve_payment))
        .route("/v1/connectors", get(api::get_connectors))
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(api::metrics))
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            api::host_guard,
        ))
        .with_state(state)
}
