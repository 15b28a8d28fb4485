//! Section 0c: where a payment's wall time goes. The host marks a call's
//! phases with spans: `connector.call` and `supplier.request` (info level,
//! its traces) and, inside them, `connector.instantiate`,
//! `supplier.exchange` and `connector.teardown` (debug level, never
//! exported); the native build marks its exchange the same way. A child
//! process records how long each span stayed open, summed by name, over the
//! payments of a timed run (section 0b's), and prints the sums; the parent
//! prints them per payment, each build beside the other.

use crate::instructions::Run;
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

/// What a [`print`]ing child run of `n` payments reported: its wall time
/// and the time each span stayed open, summed, in nanoseconds.
struct Recorded {
    n: u64,
    wall_ns: u128,
    spans: BTreeMap<String, u128>,
}

impl Recorded {
    /// A child's output: `cpu_ns wall_ns`, then a `name nanoseconds` line
    /// per span.
    fn parse(n: u64, text: &str) -> anyhow::Result<Recorded> {
        let mut lines = text.lines();
        let wall_ns = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|w| w.parse().ok())
            .ok_or_else(|| anyhow::anyhow!("the phases run printed no figures: {text}"))?;
        let spans = lines
            .filter_map(|l| {
                let (name, ns) = l.split_once(' ')?;
                Some((name.to_owned(), ns.trim().parse().ok()?))
            })
            .collect();
        Ok(Recorded { n, wall_ns, spans })
    }

    /// The run's wall time per payment, µs.
    fn wall(&self) -> f64 {
        self.wall_ns as f64 / self.n as f64 / 1e3
    }

    /// The time `span` stayed open per payment, µs.
    fn per(&self, span: &str) -> f64 {
        self.spans.get(span).copied().unwrap_or_default() as f64 / self.n as f64 / 1e3
    }
}

/// Section 0c.
pub(crate) fn section(report: &mut Report, plugins: &Path, cache: &Path) -> anyhow::Result<()> {
    const N: u64 = 4000;
    report.line(format!(
        "\n## 0c. Where a payment's wall time goes (each build in a process of its own, {N} payments one at a time after 100 to warm up)\n"
    ));
    report.line("`payhost-bench count --phases --mode plugin|native`: how long the host's debug spans of a call stayed open, summed over the payments and divided by them (a span's time includes the other tasks that ran while it waited: its wall time). Recording them costs a few µs per payment, so the totals are above section 0b's.\n");
    let record = |plugin: bool| -> anyhow::Result<Recorded> {
        let text = crate::instructions::child_output(plugin, N, plugins, cache, Run::Phases)?;
        Recorded::parse(N, &text)
    };
    let (native, plugin) = (record(false)?, record(true)?);
    let call = plugin.per("connector.call");
    let instantiate = plugin.per("connector.instantiate");
    let request = plugin.per("supplier.request");
    let exchange = plugin.per("supplier.exchange");
    let teardown = plugin.per("connector.teardown");
    let native_exchange = native.per("supplier.exchange");
    report.line("| phase, per payment | plugin | native |");
    report.line("|---|---|---|");
    report.line(format!(
        "| the whole payment (the run's wall time) | {:.1} µs | {:.1} µs |",
        plugin.wall(),
        native.wall()
    ));
    report.line(format!(
        "| the supplier exchange: request sent, answer read (`supplier.exchange`) | {exchange:.1} µs | {native_exchange:.1} µs |"
    ));
    report.line(format!(
        "| everything but the exchange | {:.1} µs | {:.1} µs |",
        plugin.wall() - exchange,
        native.wall() - native_exchange
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
        plugin.wall() - call - teardown
    ));
    Ok(())
}
