//! The payments: the list with the API's filters (what is not settled
//! first, by default), and one payment with everything the journal keeps
//! about it and, for a token with the `resolve` scope, the form that
//! settles it.

use super::page;
use crate::payments::attempt::{Attempt, AttemptState};
use crate::payments::journal::{Page, QueryRecord};
use crate::policy::settings::Scope;
use crate::service::caller::{Authorized, ToRead};
use crate::service::error::ApiError;
use crate::service::state::AppState;
use axum::extract::{Path, State};
use maud::{Markup, html};
use std::sync::Arc;

/// The filters the list takes, as the API's search names them.
const FIELDS: [&str; 7] = [
    "state",
    "connector",
    "order",
    "since",
    "until",
    "resolved",
    "limit",
];

/// `/console/payments?…`: with no filter, the attempts not settled, then
/// the latest; with filters, one page of what they find.
pub(crate) async fn list(
    State(state): State<Arc<AppState>>,
    _: Authorized<ToRead>,
    uri: http::Uri,
) -> Result<Markup, ApiError> {
    let journal = crate::service::api::journal(&state)?;
    // An empty field of the form is no filter.
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| (k.into_owned(), v.trim().to_owned()))
            .collect();
    let value = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let now = crate::payments::journal::now();
    let find = async |pairs: &[(String, String)]| -> Result<Page, ApiError> {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        crate::service::api::find_page(journal, &query).await
    };
    let connectors: Vec<String> = state
        .host
        .connectors()
        .iter()
        .map(|c| c.name().to_owned())
        .collect();
    let filters = html! {
        form.filters method="get" action="/console/payments" {
            div {
                label for="f-state" { "State" }
                select id="f-state" name="state" {
                    @for (v, label) in [("", "any"), ("unknown,pending", "not settled"), ("unknown", "unknown"), ("pending", "pending"), ("in-flight", "in flight"), ("succeeded", "succeeded"), ("failed", "failed")] {
                        option value=(v) selected[value("state") == v] { (label) }
                    }
                }
            }
            div {
                label for="f-connector" { "Connector" }
                select id="f-connector" name="connector" {
                    option value="" { "any" }
                    @for c in &connectors {
                        option value=(c) selected[value("connector") == c] { (c) }
                    }
                }
            }
            div { label for="f-order" { "Order" } input id="f-order" name="order" value=(value("order")); }
            div { label for="f-since" { "Since" } input id="f-since" name="since" placeholder="24h" size="10" value=(value("since")); }
            div { label for="f-until" { "Until" } input id="f-until" name="until" size="10" value=(value("until")); }
            div {
                label for="f-resolved" { "Settled by a person" }
                select id="f-resolved" name="resolved" {
                    @for (v, label) in [("", "either"), ("true", "yes"), ("false", "no")] {
                        option value=(v) selected[value("resolved") == v] { (label) }
                    }
                }
            }
            div { button type="submit" { "Find" } }
        }
    };
    if pairs.is_empty() {
        let unsettled = find(&[("state".into(), "unknown,pending".into())]).await?;
        let latest = find(&[("limit".into(), "20".into())]).await?;
        return Ok(html! {
            h1 { "Payments" }
            (filters)
            h2 { "Not settled (unknown, pending)" }
            (table(&unsettled.attempts, now))
            @if let Some(next) = unsettled.next {
                p { a href={ "/console/payments?state=unknown%2Cpending&cursor=" (next) } { "More not settled" } }
            }
            h2 { "Latest" }
            (table(&latest.attempts, now))
            p { a href="/console/payments?since=24h" { "Every payment of the last 24 hours" } }
        });
    }
    let page = find(&pairs).await?;
    let kept: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, _)| FIELDS.contains(&k.as_str()))
        .cloned()
        .collect();
    let next = page.next.map(|cursor| {
        let mut with = kept.clone();
        with.push(("cursor".into(), cursor.to_string()));
        format!(
            "/console/payments?{}",
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&with)
                .finish()
        )
    });
    Ok(html! {
        h1 { "Payments" }
        (filters)
        p.quiet { (page.attempts.len()) " found, newest first." }
        (table(&page.attempts, now))
        @if let Some(next) = next { p { a href=(next) { "Next page" } } }
    })
}

/// Attempts as a table, each linked to its page.
fn table(attempts: &[Attempt], now: i64) -> Markup {
    html! {
        @if attempts.is_empty() {
            p.quiet { "None." }
        } @else {
            div.scroll {
                table {
                    thead { tr {
                        th.num scope="col" { "Id" }
                        th scope="col" { "Made" }
                        th scope="col" { "Connector" }
                        th scope="col" { "Order" }
                        th.hide-narrow scope="col" { "Method" }
                        th.num scope="col" { "Amount" }
                        th scope="col" { "State" }
                        th.hide-narrow scope="col" { "Settled by" }
                    } }
                    tbody {
                        @for a in attempts {
                            tr {
                                td.num { a href={ "/console/payments/" (a.id) } { (a.id) } }
                                td { span title=(page::time(a.created_at)) { (page::age(now, a.created_at)) " ago" } }
                                td { (a.connector) }
                                td.mono { (a.order_id) }
                                td.hide-narrow { (a.method) @if let Some(card) = &a.card { " " span.mono { (card) } } }
                                td.num { (a.amount) " " (a.currency) }
                                td { (page::state(a.state)) }
                                td.hide-narrow { (a.resolved_by.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `/console/payments/{id}`: the attempt, what the supplier said, who
/// settled it and why, the queries, the order's attempts, and the form.
pub(crate) async fn one(
    State(state): State<Arc<AppState>>,
    Authorized { caller, .. }: Authorized<ToRead>,
    Path(id): Path<String>,
) -> Result<Markup, ApiError> {
    let id = crate::service::api::attempt_id(&id)?;
    let journal = crate::service::api::journal(&state)?;
    let (a, history) = journal.history(id).await?;
    let queries = journal.queries(id).await?;
    let now = crate::payments::journal::now();
    let can_query = state
        .host
        .connector(&a.connector)
        .map(|c| c.can_query)
        .unwrap_or(false);
    let settle = caller.may(Scope::Resolve)
        && matches!(a.state, AttemptState::Unknown | AttemptState::Pending);
    Ok(html! {
        p { a href="/console/payments" { "← Payments" } }
        h1 { "Payment " (a.id) " " (page::state(a.state)) }
        dl.facts {
            dt { "connector" } dd { (a.connector) }
            dt { "order" } dd.mono { (a.order_id) }
            dt { "idempotency key" } dd.mono { (a.idempotency_key) }
            dt { "method" } dd { (a.method) }
            @if let Some(card) = &a.card { dt { "card" } dd.mono { (card) } }
            dt { "amount" } dd { (a.amount) " " (a.currency) }
            dt { "made" } dd { (page::time(a.created_at)) " (" (page::age(now, a.created_at)) " ago)" }
            dt { "last change" } dd { (page::time(a.updated_at)) }
            @if let Some(instance) = &a.instance { dt { "host" } dd.mono { (instance) } }
        }
        @if let Some(o) = &a.outcome {
            h2 { "Outcome" }
            (page::outcome(o))
        }
        @if let Some(by) = &a.resolved_by {
            h2 { "Settled" }
            dl.facts {
                dt { "by" } dd { (by) }
                @if let Some(at) = a.resolved_at { dt { "at" } dd { (page::time(at)) } }
                @if let Some(note) = &a.resolution { dt { "why" } dd { (note) } }
            }
            @if let Some(before) = &a.supplier_outcome {
                h2 { "What the supplier had said" }
                (page::outcome(before))
            }
        }
        @if let Some(late) = &a.late_outcome {
            h2 { "A late outcome (after it was marked unknown)" }
            (page::outcome(late))
        }
        @if settle {
            h2 { "Settle it" }
            (resolve_form(&a, can_query))
        }
        h2 { "Queries to the supplier" }
        (query_table(&queries))
        h2 { "The order's attempts" }
        (table(&history, now))
    })
}

/// The form that settles attempt `a`: ask the supplier (where its
/// connector can), or state the outcome the supplier gave, with a note.
fn resolve_form(a: &Attempt, can_query: bool) -> Markup {
    html! {
        form.resolve data-resolve=(a.id) {
            div {
                label for="r-state" { "Outcome the supplier gave" }
                select id="r-state" name="state" {
                    option value="failed" { "failed: no money moved" }
                    option value="succeeded" { "succeeded: paid" }
                    @if a.state == AttemptState::Unknown {
                        option value="pending" { "pending: accepted, settles later" }
                    }
                }
            }
            div {
                label for="r-note" { "Note (required): what the supplier said, and where" }
                textarea id="r-note" name="note" maxlength="500" {}
            }
            div { button type="submit" name="action" value="state" { "Record this outcome" } }
            @if can_query {
                div { button.secondary type="submit" name="action" value="query" { "Ask the supplier now" } }
            } @else {
                p.quiet { "Its connector cannot ask the supplier (no status call): state what the supplier says." }
            }
        }
    }
}

/// The queries about an attempt, oldest first.
fn query_table(queries: &[QueryRecord]) -> Markup {
    html! {
        @if queries.is_empty() {
            p.quiet { "None yet." }
        } @else {
            div.scroll {
                table {
                    thead { tr {
                        th scope="col" { "When" }
                        th scope="col" { "By" }
                        th scope="col" { "Answer" }
                        th scope="col" { "The supplier's code and message, or the error" }
                        th scope="col" { "Settled it" }
                    } }
                    tbody {
                        @for q in queries {
                            tr {
                                td { (page::time(q.at)) }
                                td { (q.by) }
                                td { (q.answer.as_str()) }
                                td {
                                    @if let Some(o) = &q.outcome {
                                        code { (o.supplier_code.as_deref().unwrap_or("-")) } " " (o.supplier_message.as_deref().unwrap_or(""))
                                    }
                                    @if let Some(e) = &q.error { (e.kind.as_str()) ": " (e.message) }
                                }
                                td { @if q.settled { "yes" } }
                            }
                        }
                    }
                }
            }
        }
    }
}
