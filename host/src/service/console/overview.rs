//! The overview: payments per minute by state (the last hour), by
//! connector; each connector's median and 99th-percentile duration; the
//! backlog not settled with the age of the oldest; the connectors live,
//! failed and conflicting; the reconciler's queue. It refreshes itself.

use super::page;
use crate::payments::attempt::AttemptState;
use crate::payments::journal::Minute;
use crate::service::caller::{Authorized, ToRead};
use crate::service::error::ApiError;
use crate::service::state::AppState;
use axum::extract::State;
use maud::{Markup, html};
use std::collections::BTreeMap;
use std::sync::Arc;

/// How many minutes the chart shows.
const MINUTES: i64 = 60;
/// How often the page refreshes itself, in seconds.
const REFRESH: u32 = 5;
/// The states, in the chart's stacking order.
const STATES: [AttemptState; 5] = [
    AttemptState::Succeeded,
    AttemptState::Pending,
    AttemptState::Unknown,
    AttemptState::Failed,
    AttemptState::InFlight,
];

/// Which connector's payments the chart shows (all when none).
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Chart {
    connector: Option<String>,
}

/// `/console` (the part `overview`), its chart for one connector with
/// `?connector=NAME`.
pub(crate) async fn part(
    State(state): State<Arc<AppState>>,
    _: Authorized<ToRead>,
    axum::extract::Query(chart): axum::extract::Query<Chart>,
) -> Result<Markup, ApiError> {
    let journal = crate::service::api::journal(&state)?;
    let now = crate::payments::journal::now();
    let minutes = journal.per_minute(now - MINUTES * 60).await?;
    let charted: Vec<Minute> = minutes
        .iter()
        .filter(|m| chart.connector.as_ref().is_none_or(|c| *c == m.connector))
        .cloned()
        .collect();
    let tally = journal.tally().await?;
    let connectors = state.host.connectors();
    let files = state.host.plugin_files();
    let failed = files
        .iter()
        .filter(|f| f.error.is_some() && f.conflict.is_none())
        .count();
    let conflicting = files.iter().filter(|f| f.conflict.is_some()).count();
    // The reconciler's queue: what it will ask about, connector by connector.
    let asked: Vec<&str> = connectors
        .iter()
        .filter(|c| {
            c.can_query
                && c.grant.configured
                && state.host.settings().schedule_for(c.name()).enabled
        })
        .map(|c| c.name())
        .collect();
    let stopped_of = |connector: &str| {
        tally
            .stopped
            .iter()
            .find(|(c, _)| c == connector)
            .map_or(0, |(_, n)| *n)
    };
    let stopped: u64 = tally.stopped.iter().map(|(_, n)| n).sum();
    let queue: u64 = asked
        .iter()
        .map(|c| {
            tally
                .backlog
                .iter()
                .filter(|b| b.connector == *c)
                .filter(|b| matches!(b.state, AttemptState::Unknown | AttemptState::Pending))
                .map(|b| b.count)
                .sum::<u64>()
                .saturating_sub(stopped_of(c))
        })
        .sum();
    let unsettled: u64 = tally
        .backlog
        .iter()
        .filter(|b| matches!(b.state, AttemptState::Unknown | AttemptState::Pending))
        .map(|b| b.count)
        .sum();
    let oldest = tally
        .backlog
        .iter()
        .filter(|b| matches!(b.state, AttemptState::Unknown | AttemptState::Pending))
        .map(|b| b.oldest)
        .min();
    let last_hour: u64 = minutes.iter().map(|m| m.count).sum();
    let quantiles = state.metrics.quantiles();
    Ok(html! {
        div data-refresh=(REFRESH) {
            h1 { "Overview" }
            div.cards {
                div.card { div.quiet { "Payments, last hour" } div.big { (last_hour) } }
                div.card {
                    div.quiet { "Not settled (unknown, pending)" }
                    div.big { (unsettled) }
                    @if let Some(oldest) = oldest { div.quiet { "oldest " (page::age(now, oldest)) " ago" } }
                    @if unsettled > 0 { a href="/console/payments?state=unknown%2Cpending" { "Find them" } }
                }
                div.card {
                    div.quiet { "Connectors" }
                    div.big { (connectors.len()) " live" }
                    div.quiet { (failed) " failed, " (conflicting) " conflicting" }
                    a href="/console/connectors" { "See them" }
                }
                div.card {
                    div.quiet { "Reconciler's queue" }
                    div.big { (queue) }
                    div.quiet { (stopped) " left to a person" }
                }
            }
            h2 {
                "Payments per minute, last hour"
                @if let Some(c) = &chart.connector { ", " (c) " " a href="/console" { "(all connectors)" } }
            }
            (bars(&charted, now))
            h2 { "By connector, last hour" }
            (by_connector(&minutes, &quantiles))
            h2 { "Not settled" }
            @if tally.backlog.is_empty() {
                p.quiet { "Nothing waits." }
            } @else {
                div.scroll { table {
                    thead { tr { th scope="col" { "Connector" } th scope="col" { "State" } th.num scope="col" { "Count" } th scope="col" { "Oldest" } } }
                    tbody {
                        @for b in &tally.backlog {
                            tr {
                                td { (b.connector) }
                                td { (page::state(b.state)) }
                                td.num { a href={ "/console/payments?state=" (b.state.as_str()) "&connector=" (b.connector) } { (b.count) } }
                                td { (page::age(now, b.oldest)) " ago" }
                            }
                        }
                    }
                } }
            }
            p.quiet { "Refreshed every " (REFRESH) " s; " (page::time(now)) "." }
        }
    })
}

/// Stacked bars: one per minute, one colour per state.
fn bars(minutes: &[Minute], now: i64) -> Markup {
    let last = now / 60;
    let first = last - MINUTES + 1;
    let mut per: BTreeMap<i64, BTreeMap<&str, u64>> = BTreeMap::new();
    for m in minutes {
        *per.entry(m.minute)
            .or_default()
            .entry(m.state.as_str())
            .or_default() += m.count;
    }
    let top = per
        .values()
        .map(|s| s.values().sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let (width, height, bar) = (MINUTES * 10 + 40, 160i64, 8i64);
    let scale = |n: u64| (n as f64 / top as f64 * (height - 30) as f64).round() as i64;
    // Each minute's bars, stacked from the axis up.
    let mut rects: Vec<(i64, i64, i64, &str, u64)> = Vec::new();
    for minute in first..=last {
        let x = 32 + (minute - first) * 10;
        let mut y = height - 20;
        let Some(states) = per.get(&minute) else {
            continue;
        };
        for s in STATES {
            if let Some(n) = states.get(s.as_str()) {
                let h = scale(*n).max(1);
                y -= h;
                rects.push((x, y, h, s.as_str(), *n));
            }
        }
    }
    html! {
        div.chart {
            svg viewBox={ "0 0 " (width) " " (height) } role="img" aria-label={ "Payments per minute over the last hour, at most " (top) " in a minute" } {
                line.axis x1="30" y1=(height - 20) x2=(width) y2=(height - 20) {}
                text.tick x="0" y="12" { (top) }
                text.tick x="0" y=(height - 22) { "0" }
                text.tick x="30" y=(height - 5) { "-60 min" }
                text.tick x=(width - 30) y=(height - 5) { "now" }
                @for (x, y, h, s, n) in &rects {
                    rect class={ "bar-" (s) } x=(x) y=(y) width=(bar) height=(h) {
                        title { (n) " " (s) }
                    }
                }
            }
            div.legend {
                @for s in STATES { span { span class={ "swatch sw-" (s.as_str()) } {} (s.as_str()) } }
            }
        }
    }
}

/// Per connector: the last hour's count by state, and the median and
/// 99th percentile of its last payments on this host.
fn by_connector(minutes: &[Minute], quantiles: &[crate::service::metrics::Quantiles]) -> Markup {
    let mut counts: BTreeMap<&str, BTreeMap<&str, u64>> = BTreeMap::new();
    for m in minutes {
        *counts
            .entry(m.connector.as_str())
            .or_default()
            .entry(m.state.as_str())
            .or_default() += m.count;
    }
    for q in quantiles {
        counts.entry(q.connector.as_str()).or_default();
    }
    html! {
        @if counts.is_empty() {
            p.quiet { "No payment in the last hour." }
        } @else {
            div.scroll { table {
                thead { tr {
                    th scope="col" { "Connector" }
                    @for s in STATES { th.num scope="col" { (s.as_str()) } }
                    th.num scope="col" { "p50" }
                    th.num scope="col" { "p99" }
                } }
                tbody {
                    @for (connector, states) in &counts {
                        @let q = quantiles.iter().find(|q| q.connector == *connector);
                        tr {
                            td { a href={ "/console?connector=" (connector) } title={ "Chart " (connector) "'s payments" } { (connector) } }
                            @for s in STATES { td.num { (states.get(s.as_str()).copied().unwrap_or(0)) } }
                            td.num { @if let Some(q) = q { (format!("{:.0} ms", q.p50 * 1000.0)) } }
                            td.num { @if let Some(q) = q { (format!("{:.0} ms", q.p99 * 1000.0)) } }
                        }
                    }
                }
            } }
            p.quiet { "Durations: this host's last " (crate::service::metrics::RECENT) " payments of each connector." }
        }
    }
}
