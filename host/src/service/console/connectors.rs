//! The connectors: each live one's state, version, contract, file and
//! SHA-256, publisher and signature, grants (origins, secret names,
//! placements, limits), whether it can query, its file's last load error
//! and its recent outcomes by kind; then the files that fail to load.
//! Needs the `admin` scope, as `/v1/connectors` does: it shows grants.

use super::page;
use crate::payments::journal::Filter;
use crate::registry::ConnectorSummary;
use crate::service::caller::{Authorized, ToAdminister};
use crate::service::error::ApiError;
use crate::service::state::AppState;
use axum::extract::State;
use maud::{Markup, html};
use std::collections::BTreeMap;
use std::sync::Arc;

/// How many of a connector's latest attempts its outcomes are counted over.
const RECENT: usize = 200;

/// `/console/connectors` (the part `connectors`).
pub(crate) async fn part(
    State(state): State<Arc<AppState>>,
    _: Authorized<ToAdminister>,
) -> Result<Markup, ApiError> {
    let files = state.host.plugin_files();
    let mut shown = Vec::new();
    for c in state.host.connectors() {
        let summary = ConnectorSummary::from(&*c);
        // Its latest attempts, by state and kind.
        let mut outcomes: BTreeMap<(String, String), u64> = BTreeMap::new();
        if let Some(journal) = state.host.journal() {
            let filter = Filter {
                connector: Some(summary.name.clone()),
                limit: RECENT,
                ..Filter::default()
            };
            for a in journal.find(&filter).await?.attempts {
                let kind = a
                    .outcome
                    .as_ref()
                    .and_then(|o| o.error.as_ref())
                    .map_or("", |e| e.kind.as_str());
                *outcomes
                    .entry((a.state.as_str().to_owned(), kind.to_owned()))
                    .or_default() += 1;
            }
        }
        let error = files
            .iter()
            .filter(|f| f.connector.as_deref() == Some(summary.name.as_str()))
            .find_map(|f| f.problem().map(str::to_owned));
        shown.push((summary, outcomes, error));
    }
    let failing: Vec<_> = files.iter().filter(|f| f.problem().is_some()).collect();
    Ok(html! {
        div data-refresh="5" {
            h1 { "Connectors" }
            @if shown.is_empty() { p.quiet { "No connector is live." } }
            @for (c, outcomes, error) in &shown {
                section aria-labelledby={ "c-" (c.name) } {
                    h2 id={ "c-" (c.name) } { (c.name) " " span.quiet { (c.version) } }
                    dl.facts {
                        dt { "state" } dd { (c.state.to_string()) }
                        dt { "supplier" } dd { (c.supplier) }
                        dt { "contract" } dd { (c.contract) @if let Some(legacy) = &c.legacy { " (" (legacy) ")" } }
                        dt { "file" } dd.mono { (c.file.display().to_string()) }
                        dt { "sha256" } dd.mono { (c.sha256) }
                        dt { "publisher" } dd {
                            @if let Some(p) = &c.publisher { span.mono { (p) } " (signature " (c.signature) ")" } @else { "none (unsigned)" }
                        }
                        dt { "loaded" } dd { (page::time(i64::try_from(c.loaded_at).unwrap_or(0))) }
                        dt { "can query" } dd {
                            @if c.can_query { "yes: the reconciler asks its supplier about unknown and pending payments" }
                            @else { "no: its supplier has no status call; a person settles its unknown payments" }
                        }
                        dt { "origins" } dd { (list(&c.granted.hosts)) }
                        dt { "secrets" } dd { (list(&c.granted.secrets)) }
                        dt { "placements" } dd {
                            @if c.granted.unpinned { "unpinned: hidden values may stand anywhere in requests to its origins" }
                            @else if c.granted.placements.is_empty() { "none" }
                            @else { ul { @for p in &c.granted.placements { li.mono { (p) } } } }
                        }
                        dt { "limits" } dd {
                            "timeout " (c.limits.timeout_ms) " ms, cpu " (c.limits.cpu_ms) " ms, memory "
                            (c.limits.memory_bytes / (1024 * 1024)) " MiB, " (c.limits.max_requests) " requests, "
                            (c.limits.max_concurrent) " at a time"
                        }
                        dt { "last load error" } dd { @if let Some(e) = error { span.error { (e) } } @else { "none" } }
                    }
                    h3 { "Latest " (RECENT) " payments, by outcome" }
                    @if outcomes.is_empty() { p.quiet { "None yet." } } @else {
                        div.scroll { table {
                            thead { tr { th scope="col" { "State" } th scope="col" { "Kind" } th.num scope="col" { "Count" } } }
                            tbody { @for ((s, kind), n) in outcomes { tr { td { (s) } td { (kind) } td.num { (n) } } } }
                        } }
                    }
                }
            }
            h2 { "Files that do not load" }
            @if failing.is_empty() { p.quiet { "None." } } @else {
                div.scroll { table {
                    thead { tr { th scope="col" { "File" } th scope="col" { "Kind" } th scope="col" { "Why" } th scope="col" { "Still serving" } } }
                    tbody {
                        @for f in &failing {
                            tr {
                                td.mono { (f.file.display().to_string()) }
                                td { (f.kind.map_or("conflict", crate::registry::LoadKind::as_str)) }
                                td.error { (f.problem().unwrap_or("")) }
                                td { (f.connector.as_deref().filter(|_| f.conflict.is_none()).unwrap_or("nothing")) }
                            }
                        }
                    }
                } }
            }
        }
    })
}

/// A list of names, or "none".
fn list(items: &[String]) -> Markup {
    html! {
        @if items.is_empty() { "none" } @else {
            @for (i, item) in items.iter().enumerate() {
                @if i > 0 { ", " }
                span.mono { (item) }
            }
        }
    }
}
