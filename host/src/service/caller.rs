//! Who is calling: the caller and its scope, taken from the request's
//! `Authorization` before the handler runs.

use super::error::ApiError;
use super::state::AppState;
use crate::policy::access::{Caller, Refusal};
use crate::policy::settings::Scope;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use std::marker::PhantomData;
use std::sync::Arc;

/// A scope, as a type a handler names.
pub(crate) trait Needs: Send + Sync {
    /// The scope.
    const SCOPE: Scope;
}

/// `pay`: `POST /v1/payments`.
pub(crate) struct ToPay;
/// `read`: `GET /v1/payments/{id}`.
pub(crate) struct ToRead;
/// `resolve`: `POST /v1/payments/{id}/resolve`.
pub(crate) struct ToResolve;
/// `admin`: `GET /v1/connectors`, `GET /metrics`.
pub(crate) struct ToAdminister;
/// `metrics` (or `admin`): `GET /metrics`.
pub(crate) struct ToScrape;

impl Needs for ToPay {
    const SCOPE: Scope = Scope::Pay;
}
impl Needs for ToRead {
    const SCOPE: Scope = Scope::Read;
}
impl Needs for ToResolve {
    const SCOPE: Scope = Scope::Resolve;
}
impl Needs for ToAdminister {
    const SCOPE: Scope = Scope::Admin;
}
impl Needs for ToScrape {
    const SCOPE: Scope = Scope::Metrics;
}

/// The caller, its token holding `S`'s scope; `401` or `403` otherwise.
pub(crate) struct Authorized<S> {
    /// The caller.
    pub(crate) caller: Caller,
    scope: PhantomData<S>,
}

impl<S: Needs> FromRequestParts<Arc<AppState>> for Authorized<S> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, ApiError> {
        let authorization = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let caller = state
            .api
            .authorize(authorization, S::SCOPE)
            .map_err(|refusal| match refusal {
                Refusal::Unauthenticated => ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    "this API needs `Authorization: Bearer <token>` with a token listed in [api] tokens",
                ),
                Refusal::Forbidden { name, scope } => ApiError::new(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    format!(
                        "token `{name}` does not have the `{}` scope this needs",
                        scope.as_str()
                    ),
                ),
            })?;
        Ok(Authorized {
            caller,
            scope: PhantomData,
        })
    }
}
