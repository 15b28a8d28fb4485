//! Section 0c: where a payment's wall time goes. The host marks a call's
//! phases with spans: `connector.call` and `supplier.request` (info level,
//! its traces) and, inside them, `connector.instantiate`,
//! `supplier.exchange` and `connector.teardown` (debug level, never
//! exported); the native build marks its exchange the same way. A child
//! process records how long each span stayed open, summed by name, over the
//! payments of a timed run (section 0b's), and prints the sums; the parent
//! prints them per payment, each build beside the other.

use crate::report::Report;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tracing::span;
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{Layer, filter};

/// The spans timed: the phases of one call.
const SPANS: [&str; 5] = [
    "connector.call",
    "connector.instantiate",
    "supplier.request",
    "supplier.exchange",
    "connector.teardown",
];

/// Time each span name stayed open, summed, since the layer was installed.
static SUMS: Mutex<BTreeMap<&'static str, Duration>> = Mutex::new(BTreeMap::new());

/// When a span opened.
struct Opened(Instant);

/// Records how long each span of [`SPANS`] stays open.
struct Phases;

impl<S> Layer<S> for Phases
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, _: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(Opened(Instant::now()));
        }
    }

    fn on_close(&self, id: span::Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let Some(opened) = span.extensions().get::<Opened>().map(|o| o.0) else {
            return;
        };
        let mut sums = SUMS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *sums.entry(span.name()).or_default() += opened.elapsed();
    }
}

/// Installs the recording layer for this process: only the spans of
/// [`SPANS`] are enabled, nothing else is recorded.
pub(crate) fn install() -> anyhow::Result<()> {
    let only = filter::filter_fn(|meta| meta.is_span() && SPANS.contains(&meta.name()));
    let subscriber = tracing_subscriber::registry().with(Phases.with_filter(only));
    tracing::subscriber::set_global_default(subscriber)?;
    Ok(())
}

/// Forgets what was recorded so far (the warm-up's payments).
pub(crate) fn reset() {
    SUMS.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clear();
}

/// Prints the sums, one `name nanoseconds` line each.
pub(crate) fn print() {
    let sums = SUMS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for (name, total) in sums.iter() {
        println!("{name} {}", total.as_nanos());
    }
}

/// Section 0c.
pub(crate) fn section(report: &mut Report, plugins: &Path, cache: &Path) -> anyhow::Result<()> {
    const N: u64 = 4000;
    report.line(format!(
        "\n## 0c. Where a payment's wall time goes (each build in a process of its own, {N} payments one at a time after 100 to warm up)\n"
    ));
    report.line("`payhost-bench count --phases --mode plugin|native`: how long the host's debug spans of a call stayed open, summed over the payments and divided by them (a span's time includes the other tasks that ran while it waited: its wall time). Recording them costs a few µs per payment, so the totals are above section 0b's.\n");
    let mut runs = Vec::new();
    for plugin in [false, true] {
        runs.push(crate::instructions::phases(plugin, N, plugins, cache)?);
    }
    let per = |run: &(u128, BTreeMap<String, u128>), name: &str| {
        run.1.get(name).copied().unwrap_or_default() as f64 / N as f64 / 1e3
    };
    let (native, plugin) = (&runs[0], &runs[1]);
    let wall = |run: &(u128, BTreeMap<String, u128>)| run.0 as f64 / N as f64 / 1e3;
    let call = per(plugin, "connector.call");
    let instantiate = per(plugin, "connector.instantiate");
    let request = per(plugin, "supplier.request");
    let exchange = per(plugin, "supplier.exchange");
    let teardown = per(plugin, "connector.teardown");
    let native_exchange = per(native, "supplier.exchange");
    report.line("| phase, per payment | plugin | native |");
    report.line("|---|---|---|");
    report.line(format!(
        "| the whole payment (the run's wall time) | {:.1} µs | {:.1} µs |",
        wall(plugin),
        wall(native)
    ));
    report.line(format!(
        "| the supplier exchange: request sent, answer read (`supplier.exchange`) | {exchange:.1} µs | {native_exchange:.1} µs |"
    ));
    report.line(format!(
        "| everything but the exchange | {:.1} µs | {:.1} µs |",
        wall(plugin) - exchange,
        wall(native) - native_exchange
    ));
    report.line(format!(
        "| … a fresh instance (`connector.instantiate`) | {instantiate:.1} µs | |"
    ));
    report.line(format!(
        "| … the host's work on each request around the exchange: URL, grant and placement checks, assembling, scrubbing the answer (`supplier.request` less the exchange) | {:.1} µs | |",
        request - exchange
    ));
    report.line(format!(
        "| … the connector's own code, its other host calls and every crossing (`connector.call` less the instance and the requests) | {:.1} µs | |",
        call - instantiate - request
    ));
    report.line(format!(
        "| … the instance back to the pool, its dirtied pages reset (`connector.teardown`) | {teardown:.1} µs | |"
    ));
    report.line(format!(
        "| … the rest of `Host::pay`: validation, the slots, the call's set-up, vetting the outcome | {:.1} µs | |",
        wall(plugin) - call - teardown
    ));
    Ok(())
}
