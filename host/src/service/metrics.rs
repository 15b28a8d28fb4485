//! Counters and histograms for `GET /metrics`, in the Prometheus text format.

use crate::payments::model::PaymentOutcome;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// The upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// What the host counts.
#[derive(Default)]
pub struct Metrics {
    outcomes: Mutex<BTreeMap<(String, String, String), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
}

impl Metrics {
    /// Counts one payment's outcome and how long it took.
    pub fn payment(&self, connector: &str, outcome: &PaymentOutcome, elapsed: Duration) {
        let kind = outcome.kind().map_or("none", |k| k.as_str()).to_owned();
        *self
            .outcomes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry((connector.to_owned(), outcome.state.to_string(), kind))
            .or_default() += 1;
        let mut latency = self.latency.lock().unwrap_or_else(|e| e.into_inner());
        let h = latency.entry(connector.to_owned()).or_default();
        let secs = elapsed.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                h.counts[i] += 1;
            }
        }
        h.sum += secs;
        h.count += 1;
    }

    /// The text of `/metrics`; `loaded` and `failures` come from the host.
    pub fn render(&self, loaded: usize, failures: u64, conflicts: u64) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP payhost_payments_total Payments by connector, outcome state and error kind."
        );
        let _ = writeln!(out, "# TYPE payhost_payments_total counter");
        for ((c, state, kind), n) in self
            .outcomes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "payhost_payments_total{{connector=\"{c}\",state=\"{state}\",kind=\"{kind}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP payhost_payment_duration_seconds Time to an outcome, by connector."
        );
        let _ = writeln!(out, "# TYPE payhost_payment_duration_seconds histogram");
        for (c, h) in self
            .latency
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            for (bound, n) in BUCKETS.iter().zip(h.counts) {
                let _ = writeln!(
                    out,
                    "payhost_payment_duration_seconds_bucket{{connector=\"{c}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "payhost_payment_duration_seconds_bucket{{connector=\"{c}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "payhost_payment_duration_seconds_sum{{connector=\"{c}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "payhost_payment_duration_seconds_count{{connector=\"{c}\"}} {}",
                h.count
            );
        }
        let _ = writeln!(out, "# HELP payhost_connectors_loaded Connectors live now.");
        let _ = writeln!(out, "# TYPE payhost_connectors_loaded gauge");
        let _ = writeln!(out, "payhost_connectors_loaded {loaded}");
        let _ = writeln!(
            out,
            "# HELP payhost_reload_failures_total Connector files that failed to load."
        );
        let _ = writeln!(out, "# TYPE payhost_reload_failures_total counter");
        let _ = writeln!(out, "payhost_reload_failures_total {failures}");
        let _ = writeln!(
            out,
            "# HELP payhost_connector_name_conflicts Connector names two or more files declare (none of them is live)."
        );
        let _ = writeln!(out, "# TYPE payhost_connector_name_conflicts gauge");
        let _ = writeln!(out, "payhost_connector_name_conflicts {conflicts}");
        out
    }
}
