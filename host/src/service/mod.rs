//! The service: `payhost serve`'s HTTP API.
//!
//! - `POST /v1/payments`: one payment (validated before any connector runs;
//!   journaled; an idempotency key replays its outcome);
//! - `GET /v1/payments/{id}`: a journaled attempt, card masked;
//! - `GET /v1/connectors`: the live connectors and the files that failed;
//! - `GET /healthz`, `GET /metrics` (Prometheus text).
//!
//! Errors are JSON, `{"error": {"code", "message"}}`, with a stable code.
//! The handlers are in `api`, the typed bodies in `bodies`, the errors in
//! `error`, the counters in `metrics`.

mod api;
mod bodies;
mod error;
mod metrics;

pub use bodies::{ConnectorsAnswer, Health, PaymentAnswer};
pub use error::{ErrorBody, ErrorDetail};

use crate::host::Host;
use api::AppState;
use axum::Router;
use axum::routing::{get, post};
use metrics::Metrics;
use std::sync::Arc;

/// The API's router for `host`.
pub fn router(host: Arc<Host>) -> Router {
    let state = Arc::new(AppState {
        host,
        metrics: Metrics::default(),
    });
    Router::new()
        .route("/v1/payments", post(api::post_payment))
        .route("/v1/payments/{id}", get(api::get_payment))
        .route("/v1/connectors", get(api::get_connectors))
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(api::metrics))
        .fallback(api::not_found)
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` completes.
pub async fn serve(
    host: Arc<Host>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(host))
        .with_graceful_shutdown(shutdown)
        .await
}
