//! The operator console at `/console`, served by `payhost serve` itself
//! from assets built into the binary (no Node.js toolchain).
//!
//! Every page has a stable URL (`/console/payments?state=unknown`,
//! `/console/payments/42`, `/console/connectors`). The URL serves one
//! static shell; its script fetches the page's part (`/console/part/…`),
//! rendered here with every value escaped (maud), sending the API token
//! as a header, and the part's actions go to the same API as every other
//! client, checked by the same scopes. The token lives in the tab's
//! session storage: never in a URL, never in a cookie. Every response
//! carries a strict Content-Security-Policy (scripts from the host only,
//! none inline; no framing).
//!
//! The pages: `overview` (payments per minute, durations, the backlog, the
//! connectors, the reconciler's queue), `payments` (the list with the
//! API's filters, one payment with its history, queries and resolve form),
//! `connectors` (each one's state, file, grants, whether it can query, its
//! load error and recent outcomes).

mod connectors;
mod overview;
mod page;
mod payments;

use super::state::AppState;
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::Arc;

/// The policy every console response carries.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The console's routes.
pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/console", get(shell))
        .route("/console/", get(shell))
        .route("/console/payments", get(shell))
        .route("/console/payments/{id}", get(shell))
        .route("/console/connectors", get(shell))
        .route("/console/assets/app.js", get(script))
        .route("/console/assets/app.css", get(style))
        .route("/console/part/overview", get(overview::part))
        .route("/console/part/payments", get(payments::list))
        .route("/console/part/payments/{id}", get(payments::one))
        .route("/console/part/connectors", get(connectors::part))
        .layer(axum::middleware::map_response(secure))
}

/// The headers that keep the console's pages to themselves.
async fn secure(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The page every console URL serves: no data in it.
async fn shell() -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        include_str!("assets/shell.html"),
    )
        .into_response()
}

async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("assets/app.js"),
    )
        .into_response()
}

async fn style() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("assets/app.css"),
    )
        .into_response()
}
