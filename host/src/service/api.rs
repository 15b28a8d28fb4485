//! The API's handlers, one per route.

use super::bodies::{ConnectorsAnswer, Health, PaymentAnswer, PaymentBody};
use super::error::ApiError;
use super::metrics::Metrics;
use crate::host::Host;
use crate::payments::attempt::Attempt;
use crate::payments::journal::JournalError;
use crate::registry::{ConnectorSummary, FailedFile};
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use std::sync::Arc;
use std::time::Instant;

/// What every handler shares.
pub(crate) struct AppState {
    pub(crate) host: Arc<Host>,
    pub(crate) metrics: Metrics,
}

pub(crate) async fn post_payment(
    State(state): State<Arc<AppState>>,
    body: Result<Json<PaymentBody>, JsonRejection>,
) -> Result<Json<PaymentAnswer>, ApiError> {
    let Json(body) =
        body.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_json", e.body_text()))?;
    let (connector, request) = body.into_request()?;
    let order_id = request.order_id.clone();
    let started = Instant::now();
    let executed = state.host.execute(&connector, request).await?;
    if !executed.replayed {
        state
            .metrics
            .payment(&connector, &executed.outcome, started.elapsed());
    }
    Ok(Json(PaymentAnswer {
        id: executed.id,
        replayed: executed.replayed,
        connector,
        order_id,
        outcome: executed.outcome,
    }))
}

pub(crate) async fn get_payment(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
) -> Result<Json<Attempt>, ApiError> {
    let journal = state.host.journal().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no_journal",
            "this host keeps no journal",
        )
    })?;
    match journal.get(id) {
        Ok(attempt) => Ok(Json(attempt)),
        Err(e @ JournalError::NotFound(_)) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            e.to_string(),
        )),
        Err(e) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "journal_error",
            e.to_string(),
        )),
    }
}

pub(crate) async fn get_connectors(State(state): State<Arc<AppState>>) -> Json<ConnectorsAnswer> {
    let connectors = state
        .host
        .connectors()
        .iter()
        .map(|c| ConnectorSummary::from(&**c))
        .collect();
    let failed = state
        .host
        .plugin_files()
        .into_iter()
        .filter_map(|f| {
            let error = f.problem()?.to_owned();
            // A conflicting file serves nothing; a file whose new version
            // failed still serves the version before it.
            let serving = if f.conflict.is_some() {
                None
            } else {
                f.connector
            };
            Some(FailedFile {
                file: f.file,
                error,
                serving,
            })
        })
        .collect();
    Json(ConnectorsAnswer { connectors, failed })
}

pub(crate) async fn healthz(State(state): State<Arc<AppState>>) -> Json<Health> {
    Json(Health {
        status: "ok".to_owned(),
        connectors: state.host.connectors().len(),
    })
}

pub(crate) async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let text = state.metrics.render(
        state.host.connectors().len(),
        state.host.reload_failures(),
        state.host.registry().conflicts(),
    );
    ([("content-type", "text/plain; version=0.0.4")], text)
}

pub(crate) async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such route; see /v1/payments, /v1/connectors, /healthz, /metrics",
    )
}
