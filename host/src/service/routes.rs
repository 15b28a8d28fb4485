//! The routes: which handler answers which path, behind the `Host` check.

use super::api;
use super::metrics::Metrics;
use super::state::AppState;
use crate::host::Host;
use axum::Router;
use axum::routing::{get, post};
use std::sync::Arc;

/// The API's router for `host`, with its `[api]` settings.
pub fn router(host: Arc<Host>) -> Router {
    let mut metrics = Metrics::default();
    if let Some(journal) = host.journal() {
        metrics.journal_waits(&journal.lock_waits());
    }
    let state = Arc::new(AppState {
        api: host.settings().api.clone(),
        host,
        metrics,
    });
    Router::new()
        .route(
            "/v1/payments",
            post(api::post_payment).get(api::list_payments),
        )
        .route("/v1/payments/{id}", get(api::get_payment))
        .route("/v1/payments/{id}/resolve", post(api::resolve_payment))
        .route("/v1/connectors", get(api::get_connectors))
        .route("/healthz", get(api::healthz))
        .route("/readyz", get(api::readyz))
        .route("/metrics", get(api::metrics))
        .merge(super::console::routes())
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            api::host_guard,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            api::count_request,
        ))
        .layer(axum::middleware::from_fn(api::request_id))
        .with_state(state)
}
