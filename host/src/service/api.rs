//! The API's handlers, one per route, and what they share: the caller's
//! authorization, the body read within its limits, JSON parsed without
//! echoing what was sent.

use super::bodies::{
    AttemptAnswer, ConnectorsAnswer, Health, PaymentAnswer, PaymentBody, Readiness, ResolveBody,
};
use super::caller::{Authorized, ToAdminister, ToPay, ToRead, ToResolve, ToScrape};
use super::error::ApiError;
use super::fields::FIELDS;
use super::metrics::Scraped;
use super::state::AppState;
use crate::failure::Code;
use crate::payments::attempt::Attempt;
use crate::payments::intake::Resolution;
use crate::payments::journal::{Page, Search};
use crate::payments::model::{ConnectorError, ErrorKind, PaymentOutcome, PaymentState};
use crate::registry::{ConnectorSummary, FailedFile};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http_body_util::BodyExt as _;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Instant;

/// Counts every API request by the route it matched (not its path: an id
/// is no label) and the status answered.
pub(crate) async fn count_request(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("unmatched", |m| m.as_str())
        .to_owned();
    let answer = next.run(request).await;
    state.metrics.request(&route, answer.status().as_u16());
    answer
}

/// Gives every request an id: the caller's `x-request-id` when it is a
/// plain token (letters, digits, `-`, `_`, `.`; at most 64), else a new
/// one. The request runs in a span that carries it, so every log line it
/// causes names it, and the answer echoes it.
pub(crate) async fn request_id(request: Request, next: Next) -> Response {
    let given = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|id| {
            !id.is_empty()
                && id.len() <= 64
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
        .map(str::to_owned);
    // An id that would show card data in logs and traces is not taken.
    let given = given.filter(|id| crate::payments::mask::mask_text(id) == *id);
    let id = given.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    // The method as a trace shows it: a known one, or `other`.
    let method = match request.method().as_str() {
        m @ ("GET" | "POST" | "PUT" | "DELETE" | "HEAD" | "OPTIONS" | "PATCH") => m,
        _ => "other",
    };
    let span = tracing::info_span!("request", request_id = %id, method);
    super::telemetry::follow_caller(&span, request.headers());
    let mut answer = tracing::Instrument::instrument(next.run(request), span).await;
    if let Ok(value) = http::HeaderValue::from_str(&id) {
        answer.headers_mut().insert("x-request-id", value);
    }
    answer
}

/// Refuses a request whose `Host` is not one of [`crate::policy::settings::ApiSettings::allowed_hosts`]:
/// a page elsewhere that rebinds its own name to this machine gets nothing.
pub(crate) async fn host_guard(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let mut hosts = request.headers().get_all(header::HOST).iter();
    let host = match (hosts.next(), hosts.next()) {
        (Some(one), None) => one.to_str().ok(),
        _ => None,
    };
    // A target in absolute form names its host too: both must be allowed.
    let target = request.uri().authority().map(|a| a.as_str());
    if !state.api.host_allowed(host) || target.is_some_and(|t| !state.api.host_allowed(Some(t))) {
        return ApiError::new(
            StatusCode::MISDIRECTED_REQUEST,
            "host_not_allowed",
            "this request's Host is not one this host answers to; add it to [api] allowed_hosts",
        )
        .into_response();
    }
    next.run(request).await
}

/// The body, at most `max_body` bytes, arriving within `body_timeout`. A
/// body announced larger is refused before any of it is read.
async fn read_body(state: &AppState, headers: &HeaderMap, body: Body) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!(
                "the request body is larger than {} bytes",
                state.api.max_body
            ),
        )
    };
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > state.api.max_body as u64) {
        return Err(too_large());
    }
    let limited = http_body_util::Limited::new(body, state.api.max_body);
    match tokio::time::timeout(state.api.body_timeout, limited.collect()).await {
        Err(_) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            format!(
                "the request body did not arrive within {:?}",
                state.api.body_timeout
            ),
        )),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Ok(Err(_)) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_body",
            "the request body could not be read",
        )),
        Ok(Ok(collected)) => {
            json_only(headers)?;
            Ok(collected.to_bytes())
        }
    }
}

/// Refuses a body not declared as JSON (after its limits: a body too large
/// is that first).
fn json_only(headers: &HeaderMap) -> Result<(), ApiError> {
    // Only JSON, said so: a web page can send any other type to a host on
    // loopback without the browser asking first (a "simple" request), and
    // the host would take it for its operator's.
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"));
    if json {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as JSON with the header `content-type: application/json`",
        ))
    }
}

/// Parses JSON; the error says where and what kind of problem, never the
/// value that was sent.
fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = parse_value(&mut de)?;
    // One JSON value and nothing after it: `{…}xyz` is not a body.
    de.end().map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_json",
            format!(
                "the body goes on after its JSON object (line {} column {}); send one object and nothing else",
                e.line(),
                e.column()
            ),
        )
    })?;
    Ok(value)
}

/// [`parse_json`]'s value, its error naming only the body's own fields.
fn parse_value<T: DeserializeOwned>(
    de: &mut serde_json::Deserializer<serde_json::de::SliceRead<'_>>,
) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path: Vec<String> = e
            .path()
            .iter()
            .map(|segment| {
                let text = segment.to_string();
                if FIELDS.contains(&text.as_str()) {
                    text
                } else {
                    "…".to_owned()
                }
            })
            .collect();
        let inner = e.into_inner();
        let at = format!("line {} column {}", inner.line(), inner.column());
        let message = match inner.classify() {
            serde_json::error::Category::Data => {
                let text = inner.to_string();
                if let Some(rest) = text.strip_prefix("missing field ") {
                    // The field's name is ours, not the caller's.
                    let field = rest.split(' ').next().unwrap_or_default();
                    format!("the body lacks the required field {field}")
                } else if path.is_empty() || path.iter().all(|p| p == "…") {
                    format!(
                        "the body has a field that is unknown or of the wrong type ({at}); see the API reference in the README"
                    )
                } else {
                    format!(
                        "field `{}` is unknown or of the wrong type or value ({at})",
                        path.join(".")
                    )
                }
            }
            _ => format!("the body is not valid JSON ({at})"),
        };
        ApiError::new(StatusCode::BAD_REQUEST, "bad_json", message)
    })
}

/// What a client is told of a payment still under way when the host
/// stops waiting for it.
fn cut_short(id: i64) -> PaymentOutcome {
    PaymentOutcome::host(
        PaymentState::Unknown,
        ConnectorError::host(
            ErrorKind::InProgress,
            format!(
                "this host is stopping and attempt {id} had not ended within its shutdown grace: it may have reached the supplier. Do not pay this order again; read its outcome with GET /v1/payments/{id} (or repeat the request with the same idempotency key)"
            ),
        ),
    )
}

/// A path id, or `400`.
pub(crate) fn attempt_id(text: &str) -> Result<i64, ApiError> {
    text.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_id",
            "a payment id is a whole number",
        )
    })
}

pub(crate) async fn post_payment(
    State(state): State<Arc<AppState>>,
    _: Authorized<ToPay>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<PaymentAnswer>, ApiError> {
    let bytes = read_body(&state, &headers, body).await?;
    let body: PaymentBody = parse_json(&bytes)?;
    let (connector, request) = body.into_request()?;
    let order_id = request.order_id.clone();
    // The payment is a task of its own: it runs to its end and is
    // journaled whether or not the client waits for the answer.
    let (begun, mut written) = tokio::sync::watch::channel(None);
    let mut task = {
        let (state, connector) = (state.clone(), connector.clone());
        // In the request's span: its log lines carry the request's id.
        let span = tracing::Span::current();
        tokio::spawn(tracing::Instrument::instrument(
            async move {
                let started = Instant::now();
                let executed = state.host.execute_noting(&connector, request, &begun).await;
                match &executed {
                    Ok(executed) if !executed.replayed => {
                        state
                            .metrics
                            .payment(&connector, &executed.outcome, started.elapsed());
                    }
                    Ok(_) => {}
                    Err(e) => {
                        let code = e.code();
                        if matches!(
                            code.failure(),
                            crate::failure::Failure::Busy | crate::failure::Failure::Refused
                        ) {
                            state.metrics.refused(code.as_str());
                        }
                    }
                }
                executed
            },
            span,
        ))
    };
    // Should the host stop waiting (its shutdown grace is over) before the
    // payment ends, the client is answered before its connection closes:
    // with the attempt's id once it is written, the outcome unknown.
    let mut stopping = state.host.stopping();
    let joined = tokio::select! {
        joined = &mut task => joined,
        _ = async { stopping.wait_for(|stopping| *stopping).await.is_ok() } => tokio::select! {
            joined = &mut task => joined,
            Some(id) = async { written.wait_for(Option::is_some).await.ok().and_then(|id| *id) } => {
                return Ok(Json(PaymentAnswer {
                    id: Some(id),
                    replayed: false,
                    connector,
                    order_id,
                    outcome: cut_short(id),
                }));
            }
        },
    };
    let executed = joined.map_err(|e| {
        tracing::error!("a payment's task failed: {e}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the payment's task failed; the host's log says why",
        )
    })??;
    Ok(Json(PaymentAnswer {
        id: executed.id,
        replayed: executed.replayed,
        connector,
        order_id,
        outcome: executed.outcome,
    }))
}

pub(crate) fn journal(state: &AppState) -> Result<&crate::payments::journal::Journal, ApiError> {
    state.host.journal().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no_journal",
            "this host keeps no journal",
        )
    })
}

pub(crate) async fn get_payment(
    State(state): State<Arc<AppState>>,
    _: Authorized<ToRead>,
    Path(id): Path<String>,
) -> Result<Json<AttemptAnswer>, ApiError> {
    let id = attempt_id(&id)?;
    let journal = journal(&state)?;
    let (attempt, history) = journal.history(id).await?;
    let queries = journal.queries(id).await?;
    Ok(Json(AttemptAnswer {
        attempt,
        history,
        queries,
    }))
}

/// `GET /v1/payments?state=&connector=&order=&since=&until=&resolved=&cursor=&limit=`:
/// one page of attempts, newest first.
pub(crate) async fn list_payments(
    State(state): State<Arc<AppState>>,
    _: Authorized<ToRead>,
    uri: http::Uri,
) -> Result<Json<Page>, ApiError> {
    Ok(Json(
        find_page(journal(&state)?, uri.query().unwrap_or("")).await?,
    ))
}

/// One page of what the search in `query` (a URL's query,
/// `state=unknown&limit=100`) finds in `journal`, newest first: the API's
/// list and the console's.
pub(crate) async fn find_page(
    journal: &crate::payments::journal::Journal,
    query: &str,
) -> Result<Page, ApiError> {
    let refused = || {
        ApiError::coded(
            Code::InvalidRequest,
            "the query takes state, connector, order, since, until, resolved (true or false), cursor and limit (1 to 500), each once",
        )
    };
    let uri: http::Uri = format!("/?{query}").parse().map_err(|_| refused())?;
    let search = axum::extract::Query::<Search>::try_from_uri(&uri)
        .map_err(|_| refused())?
        .0;
    let filter = search
        .filter(crate::payments::journal::now())
        .map_err(|e| ApiError::coded(Code::InvalidRequest, e.form()))?;
    Ok(journal.find(&filter).await?)
}

pub(crate) async fn resolve_payment(
    State(state): State<Arc<AppState>>,
    Authorized { caller, .. }: Authorized<ToResolve>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<Attempt>, ApiError> {
    let id = attempt_id(&id)?;
    let body: ResolveBody = parse_json(&read_body(&state, &headers, body).await?)?;
    let invalid = |e: crate::payments::model::RequestError| {
        ApiError::coded(Code::InvalidRequest, e.to_string())
    };
    let resolution = match body {
        ResolveBody {
            query: true,
            state: None,
            note: None,
        } => {
            let journal = journal(&state)?;
            let attempt = journal.get(id).await?;
            // The supplier is asked only about an attempt that may be settled,
            // through a connector that can ask.
            if !matches!(
                attempt.state,
                crate::payments::attempt::AttemptState::Unknown
                    | crate::payments::attempt::AttemptState::Pending
            ) {
                return Err(crate::payments::journal::JournalError::NotUnknown {
                    id,
                    state: attempt.state,
                }
                .into());
            }
            let connector = state
                .host
                .connector(&attempt.connector)
                .map_err(|e| ApiError::from(crate::execution::PayError::from(e)))?;
            if !connector.can_query {
                return Err(ApiError::coded(
                    Code::InvalidRequest,
                    format!(
                        "connector `{}` cannot query (its supplier has no status call); ask the supplier and state the outcome it gives",
                        attempt.connector
                    ),
                ));
            }
            let by = format!("api:{}", caller.name);
            let asked = crate::reconcile::ask(
                &state.host,
                journal,
                id,
                &by,
                crate::reconcile::Asker::Person,
            )
            .await
            .map_err(|e| match e {
                crate::reconcile::AskError::Journal(e) => ApiError::from(e),
                held @ crate::reconcile::AskError::Held(_) => {
                    ApiError::coded(Code::QueryInProgress, held.to_string())
                }
            })?;
            return match asked.undecided {
                None => Ok(Json(asked.attempt)),
                Some(why) => Err(ApiError::coded(
                    Code::Undecided,
                    format!(
                        "the query is recorded in the attempt's history, and settled nothing: {why}"
                    ),
                )),
            };
        }
        ResolveBody {
            query: false,
            state: Some(decided),
            note: Some(note),
        } => Resolution::stated(decided, &note).map_err(invalid)?,
        _ => {
            return Err(ApiError::coded(
                Code::InvalidRequest,
                "send {\"state\": \"succeeded\"|\"pending\"|\"failed\", \"note\": \"what the supplier said\"}, or {\"query\": true} to ask the supplier",
            ));
        }
    };
    let by = format!("api:{}", caller.name);
    Ok(Json(
        journal(&state)?
            .resolve(id, &resolution.outcome, &resolution.note, &by)
            .await?,
    ))
}

pub(crate) async fn get_connectors(
    State(state): State<Arc<AppState>>,
    _: Authorized<ToAdminister>,
) -> Result<Json<ConnectorsAnswer>, ApiError> {
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
            let problem = f.load_error()?;
            // A conflicting file serves nothing; a file whose new version
            // failed still serves the version before it.
            let serving = if f.conflict.is_some() {
                None
            } else {
                f.connector
            };
            Some(FailedFile {
                file: f.file,
                error: problem.reason,
                kind: problem.kind,
                serving,
            })
        })
        .collect();
    Ok(Json(ConnectorsAnswer { connectors, failed }))
}

/// `GET /readyz`: 503 while a connector `payhost.toml` configures is not
/// live; `/healthz` stays the liveness check.
pub(crate) async fn readyz(State(state): State<Arc<AppState>>) -> (StatusCode, Json<Readiness>) {
    let not_live = state.host.registry().not_live().len();
    let status = if not_live == 0 {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(Readiness {
            ready: not_live == 0,
            not_live,
        }),
    )
}

pub(crate) async fn healthz(State(state): State<Arc<AppState>>) -> (StatusCode, Json<Health>) {
    let problem = state
        .host
        .journal()
        .map(|j| j.health())
        .filter(|h| !h.writable)
        // The detail (a path, a lock) is in the host's log, not here.
        .map(|_| "the journal cannot be written: the host's log says why".to_owned());
    let status = if problem.is_some() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (
        status,
        Json(Health {
            status: if problem.is_some() {
                "journal_unwritable"
            } else {
                "ok"
            }
            .to_owned(),
            connectors: state.host.connectors().len(),
            in_flight: state.host.in_flight(),
            journal_problem: problem,
        }),
    )
}

pub(crate) async fn metrics(
    State(state): State<Arc<AppState>>,
    _: Authorized<ToScrape>,
) -> Result<Response, ApiError> {
    let tally = match state.host.journal() {
        Some(journal) => match journal.tally().await {
            Ok(tally) => Some(tally),
            Err(e) => {
                tracing::warn!("metrics: the journal's tally cannot be read: {e}");
                None
            }
        },
        None => None,
    };
    let failing = state
        .host
        .plugin_files()
        .iter()
        .filter(|f| f.problem().is_some())
        .map(|f| {
            f.kind
                .map_or("conflict", crate::registry::LoadKind::as_str)
                .to_owned()
        })
        .collect();
    let text = state.metrics.render(Scraped {
        loaded: state.host.connectors().len(),
        failures: state.host.reload_failures(),
        conflicts: state.host.registry().conflicts(),
        in_flight: state.host.in_flight(),
        failing,
        failures_by: state.host.registry().reload_failures_by(),
        tally,
        now: crate::payments::journal::now(),
    });
    Ok((
        [(
            "content-type",
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

pub(crate) async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such route; see /v1/payments, /v1/payments/{id}, /v1/payments/{id}/resolve, /v1/connectors, /healthz, /metrics",
    )
}

pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method",
    )
}
