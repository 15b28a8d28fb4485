//! `payhost serve`'s HTTP API:
//!
//! - `POST /v1/payments`: one payment (validated before any connector runs;
//!   journaled; an idempotency key replays its outcome);
//! - `GET /v1/payments/{id}`: a journaled attempt, card masked;
//! - `GET /v1/connectors`: the live connectors and the files that failed;
//! - `GET /healthz`, `GET /metrics` (Prometheus text).
//!
//! Errors are JSON, `{"error": {"code", "message"}}`, with a stable code.

use crate::host::{Host, PayError};
use crate::journal::JournalError;
use crate::mask::mask_text;
use crate::metrics::Metrics;
use crate::payment::{Card, MethodKind, Money, PaymentMethod, PaymentRequest};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Instant, UNIX_EPOCH};

struct AppState {
    host: Arc<Host>,
    metrics: Metrics,
}

/// An API error: an HTTP status, a stable machine code and a message.
struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        // Nothing a client sent is echoed unmasked.
        ApiError {
            status,
            code,
            message: mask_text(&message.into()).into_owned(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({ "error": { "code": self.code, "message": self.message } })),
        )
            .into_response()
    }
}

impl From<PayError> for ApiError {
    fn from(e: PayError) -> Self {
        let message = e.to_string();
        match e {
            PayError::UnknownConnector { .. } => {
                ApiError::new(StatusCode::NOT_FOUND, "unknown_connector", message)
            }
            PayError::Invalid(_) => {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", message)
            }
            PayError::MethodNotSupported { .. } => {
                ApiError::new(StatusCode::BAD_REQUEST, "method_not_supported", message)
            }
            PayError::Journal(JournalError::KeyReused { .. }) => {
                ApiError::new(StatusCode::CONFLICT, "idempotency_key_reused", message)
            }
            PayError::Journal(JournalError::OrderBusy { .. }) => {
                ApiError::new(StatusCode::CONFLICT, "order_busy", message)
            }
            PayError::Journal(_) => {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "journal_error", message)
            }
        }
    }
}

/// The body of `POST /v1/payments`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PaymentBody {
    connector: String,
    order_id: String,
    amount: String,
    currency: String,
    #[serde(default = "balance")]
    method: MethodKind,
    account: Option<String>,
    card: Option<Card>,
    client_order_id: Option<String>,
    idempotency_key: String,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
}

fn balance() -> MethodKind {
    MethodKind::Balance
}

impl PaymentBody {
    fn into_request(self) -> Result<(String, PaymentRequest), ApiError> {
        let bad = |m: &str| ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", m);
        let method = match (self.method, self.card, self.account) {
            (MethodKind::Balance, None, None) => PaymentMethod::Balance,
            (MethodKind::Card, Some(card), None) => PaymentMethod::Card(card),
            (MethodKind::MerchantOfRecord, Some(card), None) => {
                PaymentMethod::MerchantOfRecord(card)
            }
            (MethodKind::Account, None, Some(code)) => PaymentMethod::Account(code),
            (MethodKind::Card | MethodKind::MerchantOfRecord, None, _) => {
                return Err(bad("this method needs `card`"));
            }
            (MethodKind::Account, _, None) => {
                return Err(bad(
                    "method `account` needs `account`, the supplier's account code",
                ));
            }
            _ => {
                return Err(bad(
                    "give `card` only for card methods and `account` only for method `account`",
                ));
            }
        };
        let amount = Money::parse(&self.amount, &self.currency).map_err(|e| bad(&e.to_string()))?;
        Ok((
            self.connector,
            PaymentRequest {
                order_id: self.order_id,
                client_order_id: self.client_order_id,
                method,
                amount,
                idempotency_key: self.idempotency_key,
                attributes: self.attributes,
            },
        ))
    }
}

async fn post_payment(
    State(state): State<Arc<AppState>>,
    body: Result<Json<PaymentBody>, JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
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
    Ok(Json(json!({
        "id": executed.id,
        "replayed": executed.replayed,
        "connector": connector,
        "order_id": order_id,
        "outcome": executed.outcome,
    })))
}

async fn get_payment(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let journal = state.host.journal().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no_journal",
            "this host keeps no journal",
        )
    })?;
    match journal.get(id) {
        Ok(attempt) => Ok(Json(json!(attempt))),
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

async fn get_connectors(State(state): State<Arc<AppState>>) -> Json<serde_json::Value> {
    let live: Vec<serde_json::Value> = state
        .host
        .connectors()
        .iter()
        .map(|c| {
            json!({
                "name": c.info.name,
                "version": c.info.version,
                "supplier": c.info.supplier,
                "contract": format!("{}@{}", crate::CONTRACT_PACKAGE, crate::CONTRACT_VERSION),
                "sha256": c.sha256,
                "file": c.file,
                "loaded_at": c.loaded_at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
                "state": "live",
            })
        })
        .collect();
    let failed: Vec<serde_json::Value> = state
        .host
        .plugin_files()
        .into_iter()
        .filter_map(|f| f.error.map(|error| json!({ "file": f.file, "state": "failed", "error": error, "serving": f.connector })))
        .collect();
    Json(json!({ "connectors": live, "failed": failed }))
}

async fn healthz(State(state): State<Arc<AppState>>) -> Json<serde_json::Value> {
    Json(json!({ "status": "ok", "connectors": state.host.connectors().len() }))
}

async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let text = state
        .metrics
        .render(state.host.connectors().len(), state.host.reload_failures());
    ([("content-type", "text/plain; version=0.0.4")], text)
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such route; see /v1/payments, /v1/connectors, /healthz, /metrics",
    )
}

/// The API's router for `host`.
pub fn router(host: Arc<Host>) -> Router {
    let state = Arc::new(AppState {
        host,
        metrics: Metrics::default(),
    });
    Router::new()
        .route("/v1/payments", post(post_payment))
        .route("/v1/payments/{id}", get(get_payment))
        .route("/v1/connectors", get(get_connectors))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .fallback(not_found)
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
