//! Counters and histograms for `GET /metrics`, kept and written in the
//! OpenMetrics text format by `prometheus-client`.

use crate::payments::model::PaymentOutcome;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::time::Duration;

/// The upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// A payment's labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PaymentLabels {
    connector: String,
    state: String,
}

/// A failed or unknown payment's labels: what kind of failure.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    connector: String,
    state: String,
    kind: String,
}

/// A refusal's label: its stable code.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabel {
    code: String,
}

/// An HTTP request's labels: the route it matched and the status answered.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    status: String,
}

/// A backlog's labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BacklogLabels {
    connector: String,
    state: String,
}

/// A resolution's labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResolutionLabels {
    by: String,
    state: String,
}

/// A failing file's label: what kind of failure.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: String,
}

/// The build's label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: String,
}

/// Text from outside (a file name, a resolver's name) as a label value:
/// the exposition format writes label values as they are, so a quote, a
/// backslash or a control character would break every scrape.
fn label(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c == '"' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// A latency histogram with [`BUCKETS`].
fn histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

/// What the host reads from itself and its journal as it is scraped.
#[derive(Debug, Default)]
pub struct Scraped {
    /// Connectors live.
    pub loaded: usize,
    /// Files that failed to load since the host started.
    pub failures: u64,
    /// Names two or more files declare.
    pub conflicts: u64,
    /// Payments under way in this host.
    pub in_flight: usize,
    /// Files failing now, by their kind of failure.
    pub failing: Vec<String>,
    /// Load failures since the host started: (file, kind, count).
    pub failures_by: Vec<(String, &'static str, u64)>,
    /// The journal's tally, when it could be read.
    pub tally: Option<crate::payments::journal::Tally>,
    /// Now, in Unix seconds.
    pub now: i64,
}

/// What the host counts.
pub struct Metrics {
    registry: Registry,
    payments: Family<PaymentLabels, Counter>,
    errors: Family<ErrorLabels, Counter>,
    duration: Family<PaymentLabels, Histogram, fn() -> Histogram>,
    refusals: Family<CodeLabel, Counter>,
    requests: Family<RouteLabels, Counter>,
    loaded: Gauge,
    reload_failures: Counter,
    conflicts: Gauge,
    in_flight: Gauge,
    failing: Family<KindLabel, Gauge>,
    unsettled: Family<BacklogLabels, Gauge>,
    oldest: Family<BacklogLabels, Gauge>,
    resolutions: Family<ResolutionLabels, Gauge>,
    lapsed: Family<ConnectorLabel, Gauge>,
    file_failures: Family<FileLabels, Gauge>,
    queries: Family<QueryLabels, Gauge>,
    stopped: Family<ConnectorLabel, Gauge>,
    journal_up: Gauge,
    /// One render at a time: each clears and refills the gauges.
    rendering: parking_lot::Mutex<()>,
    /// The last payments' durations (seconds) by connector, for the
    /// console's quantiles.
    recent: parking_lot::Mutex<std::collections::BTreeMap<String, std::collections::VecDeque<f64>>>,
}

/// How many of each connector's last durations the console's quantiles
/// are taken from.
pub(crate) const RECENT: usize = 1024;

/// One connector's duration quantiles over its last payments here.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Quantiles {
    /// The connector.
    pub(crate) connector: String,
    /// The median, in seconds.
    pub(crate) p50: f64,
    /// The 99th percentile, in seconds.
    pub(crate) p99: f64,
    /// How many payments they are taken from.
    pub(crate) count: usize,
}

/// A query's labels: the connector and what came back.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueryLabels {
    connector: String,
    answer: String,
}

/// A connector's label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ConnectorLabel {
    connector: String,
}

/// A connector file's failure labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FileLabels {
    file: String,
    kind: String,
}

impl Default for Metrics {
    fn default() -> Self {
        let payments = Family::<PaymentLabels, Counter>::default();
        let errors = Family::<ErrorLabels, Counter>::default();
        let duration = Family::new_with_constructor(histogram as fn() -> Histogram);
        let refusals = Family::<CodeLabel, Counter>::default();
        let requests = Family::<RouteLabels, Counter>::default();
        let (loaded, reload_failures, conflicts, in_flight) = (
            Gauge::default(),
            Counter::default(),
            Gauge::default(),
            Gauge::default(),
        );
        let failing = Family::<KindLabel, Gauge>::default();
        let unsettled = Family::<BacklogLabels, Gauge>::default();
        let oldest = Family::<BacklogLabels, Gauge>::default();
        let resolutions = Family::<ResolutionLabels, Gauge>::default();
        let build = Family::<BuildLabels, Gauge>::default();
        let lapsed = Family::<ConnectorLabel, Gauge>::default();
        let file_failures = Family::<FileLabels, Gauge>::default();
        let queries = Family::<QueryLabels, Gauge>::default();
        let stopped = Family::<ConnectorLabel, Gauge>::default();
        let journal_up = Gauge::default();
        build
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION").to_owned(),
            })
            .set(1);
        let mut registry = Registry::with_prefix("payhost");
        registry.register(
            "payments",
            "Payments this host made, by connector and outcome state",
            payments.clone(),
        );
        registry.register(
            "payment_errors",
            "Payments that failed or are unknown, by connector, state and error kind",
            errors.clone(),
        );
        registry.register(
            "payment_duration_seconds",
            "Time to an outcome, by connector and state",
            duration.clone(),
        );
        registry.register(
            "refusals",
            "Requests refused before anything was sent, by code (busy, order_busy, …)",
            refusals.clone(),
        );
        registry.register(
            "http_requests",
            "API requests by route and status",
            requests.clone(),
        );
        registry.register("connectors_loaded", "Connectors live now", loaded.clone());
        registry.register(
            "reload_failures",
            "Connector files that failed to load",
            reload_failures.clone(),
        );
        registry.register(
            "connector_name_conflicts",
            "Connector names two or more files declare (none of them is live)",
            conflicts.clone(),
        );
        registry.register(
            "plugin_files_failing",
            "Files in the plugin directory that do not load now, by kind of failure",
            failing.clone(),
        );
        registry.register(
            "payments_in_flight",
            "Payments under way in this host",
            in_flight.clone(),
        );
        registry.register(
            "attempts_unsettled",
            "Attempts in flight, unknown or pending in the journal (every host's), by connector and state",
            unsettled.clone(),
        );
        registry.register_with_unit(
            "attempts_unsettled_oldest_age",
            "Age of the oldest attempt in flight, unknown or pending, by connector and state",
            prometheus_client::registry::Unit::Seconds,
            oldest.clone(),
        );
        registry.register(
            "resolutions",
            "Attempts settled by a person or by the answer to a query, in the journal, by who (api:TOKEN, cli:USER, reconciler@HOST) and the state decided",
            resolutions.clone(),
        );
        registry.register(
            "attempts_lapsed",
            "Attempts marked unknown because their host's lease lapsed (it died or paused), in the journal, by connector",
            lapsed.clone(),
        );
        registry.register(
            "file_load_failures",
            "Times each connector file failed to load since this host started, by file and kind",
            file_failures.clone(),
        );
        registry.register(
            "queries",
            "Queries put to suppliers about payments not settled (by the reconciler or a person), in the journal, by connector and answer",
            queries.clone(),
        );
        registry.register(
            "reconciler_stopped",
            "Attempts still unknown or pending that the reconciler stopped asking about (past the horizon: a person settles them), in the journal, by connector",
            stopped.clone(),
        );
        registry.register(
            "journal_readable",
            "1 when the journal could be read for this scrape; 0 when not, and the series counted from it are left out",
            journal_up.clone(),
        );
        registry.register("build_info", "The running payhost's version", build);
        Metrics {
            registry,
            payments,
            errors,
            duration,
            refusals,
            requests,
            loaded,
            reload_failures,
            conflicts,
            in_flight,
            failing,
            unsettled,
            oldest,
            resolutions,
            lapsed,
            file_failures,
            queries,
            stopped,
            journal_up,
            rendering: parking_lot::Mutex::new(()),
            recent: parking_lot::Mutex::new(std::collections::BTreeMap::new()),
        }
    }
}

impl Metrics {
    /// Shows how long the journal's writes waited for its lock.
    pub(crate) fn journal_waits(&mut self, waits: &crate::payments::journal::LockWaits) {
        self.registry.register_with_unit(
            "journal_lock_wait",
            "How long journal writes waited before they could start: the SQLite file's write lock, or a PostgreSQL connection",
            prometheus_client::registry::Unit::Seconds,
            waits.histogram(),
        );
    }

    /// Counts one payment's outcome and how long it took.
    pub fn payment(&self, connector: &str, outcome: &PaymentOutcome, elapsed: Duration) {
        let labels = PaymentLabels {
            connector: connector.to_owned(),
            state: outcome.state.to_string(),
        };
        self.payments.get_or_create(&labels).inc();
        if let Some(kind) = outcome.kind() {
            self.errors
                .get_or_create(&ErrorLabels {
                    connector: connector.to_owned(),
                    state: outcome.state.to_string(),
                    kind: kind.as_str().to_owned(),
                })
                .inc();
        }
        self.duration
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
        let mut recent = self.recent.lock();
        let last = recent.entry(connector.to_owned()).or_default();
        if last.len() == RECENT {
            last.pop_front();
        }
        last.push_back(elapsed.as_secs_f64());
    }

    /// Each connector's median and 99th percentile over its last
    /// [`RECENT`] payments on this host.
    pub(crate) fn quantiles(&self) -> Vec<Quantiles> {
        let recent = self.recent.lock();
        recent
            .iter()
            .filter(|(_, d)| !d.is_empty())
            .map(|(connector, durations)| {
                let mut sorted: Vec<f64> = durations.iter().copied().collect();
                sorted.sort_by(f64::total_cmp);
                let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
                Quantiles {
                    connector: connector.clone(),
                    p50: at(0.5),
                    p99: at(0.99),
                    count: sorted.len(),
                }
            })
            .collect()
    }

    /// Counts a request refused before anything was sent, by its code.
    pub fn refused(&self, code: &str) {
        self.refusals
            .get_or_create(&CodeLabel {
                code: code.to_owned(),
            })
            .inc();
    }

    /// Counts an API request by the route it matched and its status.
    pub fn request(&self, route: &str, status: u16) {
        self.requests
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
                status: status.to_string(),
            })
            .inc();
    }

    /// The text of `/metrics`, with what the host and its journal say now.
    pub fn render(&self, now: Scraped) -> String {
        let _one_at_a_time = self.rendering.lock();
        self.loaded
            .set(i64::try_from(now.loaded).unwrap_or(i64::MAX));
        self.conflicts
            .set(i64::try_from(now.conflicts).unwrap_or(i64::MAX));
        self.in_flight
            .set(i64::try_from(now.in_flight).unwrap_or(i64::MAX));
        // The host's count only grows; the counter follows it.
        let seen = self.reload_failures.get();
        if now.failures > seen {
            self.reload_failures.inc_by(now.failures - seen);
        }
        self.failing.clear();
        for kind in &now.failing {
            self.failing
                .get_or_create(&KindLabel { kind: kind.clone() })
                .inc();
        }
        self.file_failures.clear();
        for (file, kind, n) in &now.failures_by {
            self.file_failures
                .get_or_create(&FileLabels {
                    file: label(file),
                    kind: (*kind).to_owned(),
                })
                .set(i64::try_from(*n).unwrap_or(i64::MAX));
        }
        // What the journal says is shown only as it says it now: a
        // journal that cannot be read leaves these series out, not stale.
        self.lapsed.clear();
        self.unsettled.clear();
        self.oldest.clear();
        self.resolutions.clear();
        self.queries.clear();
        self.stopped.clear();
        self.journal_up.set(i64::from(now.tally.is_some()));
        if let Some(tally) = &now.tally {
            let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
            for (connector, n) in &tally.lapsed {
                self.lapsed
                    .get_or_create(&ConnectorLabel {
                        connector: connector.clone(),
                    })
                    .set(count(*n));
            }
            for b in &tally.backlog {
                let labels = BacklogLabels {
                    connector: b.connector.clone(),
                    state: b.state.as_str().to_owned(),
                };
                self.unsettled.get_or_create(&labels).set(count(b.count));
                self.oldest
                    .get_or_create(&labels)
                    .set((now.now - b.oldest).max(0));
            }
            for r in &tally.resolutions {
                self.resolutions
                    .get_or_create(&ResolutionLabels {
                        by: label(&r.by),
                        state: r.state.as_str().to_owned(),
                    })
                    .set(count(r.count));
            }
            for q in &tally.queries {
                self.queries
                    .get_or_create(&QueryLabels {
                        connector: q.connector.clone(),
                        answer: q.answer.as_str().to_owned(),
                    })
                    .set(count(q.count));
            }
            for (connector, n) in &tally.stopped {
                self.stopped
                    .get_or_create(&ConnectorLabel {
                        connector: connector.clone(),
                    })
                    .set(count(*n));
            }
        }
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payments::model::PaymentState;

    #[test]
    fn a_payment_is_counted_with_its_labels_and_timed() {
        let metrics = Metrics::default();
        let outcome = PaymentOutcome::new(PaymentState::Succeeded);
        metrics.payment("atlas", &outcome, Duration::from_millis(30));
        let text = metrics.render(Scraped {
            loaded: 4,
            failures: 2,
            ..Scraped::default()
        });
        for line in [
            "payhost_payments_total{connector=\"atlas\",state=\"succeeded\"} 1",
            "payhost_payment_duration_seconds_bucket{le=\"0.05\",connector=\"atlas\",state=\"succeeded\"} 1",
            "payhost_payment_duration_seconds_count{connector=\"atlas\",state=\"succeeded\"} 1",
            "payhost_connectors_loaded 4",
            "payhost_reload_failures_total 2",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line} is missing from:\n{text}"
            );
        }
        assert!(!text.contains("kind=\"none\""), "{text}");
        assert_eq!(label("bob\"\\\n"), "bob___");
        assert!(!text.contains("payment_errors_total{"), "{text}");
    }
}
