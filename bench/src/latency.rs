//! Section 1: per-payment latency, one payment at a time: the plugin
//! through `Host::pay` against its native build in-process and in a process
//! of its own, and a fresh instance with one call and no I/O.

use crate::connectors::{CONNECTORS, pay_native, pay_plugin, request};
use crate::process::Process;
use crate::report::{Report, percentile, us};
use payhost::Host;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Per-payment latency, plugin against native, sequentially.
pub(crate) async fn section(report: &mut Report, host: &Host, process: &Process, seq: &AtomicU64) {
    const N: usize = 400;
    report.line("\n## 1. Per-payment latency, one at a time (fresh instance per plugin payment)\n");
    report.line("Plugin: the component through `Host::pay`. Native: the same crate compiled for this machine, called in-process. Process: the same native crate in a process of its own behind loopback HTTP, called once per payment (the isolation teams use today).\n");
    report.line("| connector | plugin p50 | plugin p99 | native p50 | native p99 | process p50 | process p99 | host overhead p50 (plugin − native) | plugin − process p50 |");
    report.line("|---|---|---|---|---|---|---|---|---|");
    for connector in CONNECTORS {
        let (mut plugin, mut native, mut proc_samples) = (Vec::new(), Vec::new(), Vec::new());
        // Plugin and native interleaved, alternating which goes first, so
        // both see the same machine state. The process baseline runs in a
        // pass of its own: its process winding down after each payment
        // shares the two cores with whatever this process does next
        // (measured: about +60 µs p50 for a payment right after one).
        for i in 0..N + 50 {
            for k in 0..2 {
                let r = request(connector, seq.fetch_add(1, Ordering::Relaxed));
                let t = Instant::now();
                let (ok, samples) = if (i + k) % 2 == 0 {
                    (pay_plugin(host, connector, r).await, &mut plugin)
                } else {
                    (pay_native(connector, r).await, &mut native)
                };
                assert!(ok, "{connector} payment failed");
                if i >= 50 {
                    samples.push(t.elapsed());
                }
            }
        }
        for i in 0..N + 50 {
            let r = request(connector, seq.fetch_add(1, Ordering::Relaxed));
            let t = Instant::now();
            assert!(
                process.pay(connector, &r).await,
                "{connector} payment through the connector process failed"
            );
            if i >= 50 {
                proc_samples.push(t.elapsed());
            }
        }
        let (p50, p99, n50, n99, c50, c99) = (
            percentile(&mut plugin, 0.5),
            percentile(&mut plugin, 0.99),
            percentile(&mut native, 0.5),
            percentile(&mut native, 0.99),
            percentile(&mut proc_samples, 0.5),
            percentile(&mut proc_samples, 0.99),
        );
        report.line(format!(
            "| {connector} | {:.0} µs | {:.0} µs | {:.0} µs | {:.0} µs | {:.0} µs | {:.0} µs | {:+.0} µs | {:+.0} µs |",
            us(p50), us(p99), us(n50), us(n99), us(c50), us(c99), us(p50) - us(n50), us(p50) - us(c50)
        ));
    }
    // A fresh instance and one call, no I/O: Atlas's query() answers `unsupported` at once.
    let mut calls = Vec::new();
    for i in 0..2000 {
        let t = Instant::now();
        let _ = host.query("atlas", "ATL-x").await;
        if i >= 200 {
            calls.push(t.elapsed());
        }
    }
    report.line(format!(
        "\nInstantiate + one call with no I/O (Atlas `query`, {} calls): p50 {:.1} µs, p99 {:.1} µs.",
        calls.len(),
        us(percentile(&mut calls, 0.5)),
        us(percentile(&mut calls, 0.99))
    ));
}
