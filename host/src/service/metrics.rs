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
    kind: String,
}

/// A connector's label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ConnectorLabel {
    connector: String,
}

/// A latency histogram with [`BUCKETS`].
fn histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

/// What the host counts.
pub struct Metrics {
    registry: Registry,
    payments: Family<PaymentLabels, Counter>,
    duration: Family<ConnectorLabel, Histogram, fn() -> Histogram>,
    loaded: Gauge,
    reload_failures: Counter,
    conflicts: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let payments = Family::<PaymentLabels, Counter>::default();
        let duration = Family::new_with_constructor(histogram as fn() -> Histogram);
        let (loaded, reload_failures, conflicts) =
            (Gauge::default(), Counter::default(), Gauge::default());
        let mut registry = Registry::with_prefix("payhost");
        registry.register(
            "payments",
            "Payments by connector, outcome state and error kind",
            payments.clone(),
        );
        registry.register(
            "payment_duration_seconds",
            "Time to an outcome, by connector",
            duration.clone(),
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
        Metrics {
            registry,
            payments,
            duration,
            loaded,
            reload_failures,
            conflicts,
        }
    }
}

impl Metrics {
    /// Counts one payment's outcome and how long it took.
    pub fn payment(&self, connector: &str, outcome: &PaymentOutcome, elapsed: Duration) {
        let kind = outcome.kind().map_or("none", |k| k.as_str()).to_owned();
        self.payments
            .get_or_create(&PaymentLabels {
                connector: connector.to_owned(),
                state: outcome.state.to_string(),
                kind,
            })
            .inc();
        self.duration
            .get_or_create(&ConnectorLabel {
                connector: connector.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// The text of `/metrics`; `loaded`, `failures` and `conflicts` are
    /// the host's, read as it is scraped.
    pub fn render(&self, loaded: usize, failures: u64, conflicts: u64) -> String {
        self.loaded.set(i64::try_from(loaded).unwrap_or(i64::MAX));
        self.conflicts
            .set(i64::try_from(conflicts).unwrap_or(i64::MAX));
        // The host's count only grows; the counter follows it.
        let seen = self.reload_failures.get();
        if failures > seen {
            self.reload_failures.inc_by(failures - seen);
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
        let text = metrics.render(4, 2, 0);
        for line in [
            "payhost_payments_total{connector=\"atlas\",state=\"succeeded\",kind=\"none\"} 1",
            "payhost_payment_duration_seconds_bucket{le=\"0.05\",connector=\"atlas\"} 1",
            "payhost_payment_duration_seconds_count{connector=\"atlas\"} 1",
            "payhost_connectors_loaded 4",
            "payhost_reload_failures_total 2",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line} is missing from:\n{text}"
            );
        }
    }
}
