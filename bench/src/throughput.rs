//! Section 2: payments per second through `Host::pay`, round-robin over
//! the four connectors, for the plugin, its native build and the connector
//! process, at three concurrencies.

use crate::connectors::{CONNECTORS, pay_native, pay_plugin, request};
use crate::process::Process;
use crate::report::Report;
use payhost::Host;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Section 2. The connector process is stopped once it is measured.
pub(crate) async fn section(
    report: &mut Report,
    host: &Arc<Host>,
    process: Process,
    seq: &Arc<AtomicU64>,
) {
    let process = Arc::new(process);
    report.line("\n## 2. Throughput through `Host::pay` (round-robin over the four connectors, 3 s per figure)\n");
    report.line("| concurrency | plugin payments/s | native payments/s | process payments/s | plugin / native | plugin / process |");
    report.line("|---|---|---|---|---|---|");
    for c in [1, 8, 64] {
        let window = Duration::from_secs(3);
        let p = throughput(host, &process, Build::Plugin, c, seq, window).await;
        let n = throughput(host, &process, Build::Native, c, seq, window).await;
        let q = throughput(host, &process, Build::Process, c, seq, window).await;
        report.line(format!(
            "| {c} | {p:.0} | {n:.0} | {q:.0} | {:.0} % | {:.0} % |",
            100.0 * p / n,
            100.0 * p / q
        ));
    }
}

/// Which build a throughput figure runs.
#[derive(Clone, Copy)]
enum Build {
    Plugin,
    Native,
    Process,
}

/// Payments per second at a concurrency, round-robin over the four connectors.
async fn throughput(
    host: &Arc<Host>,
    process: &Arc<Process>,
    build: Build,
    concurrency: usize,
    seq: &Arc<AtomicU64>,
    window: Duration,
) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + window;
    let mut tasks = Vec::new();
    for t in 0..concurrency {
        let (host, process, done, seq) = (host.clone(), process.clone(), done.clone(), seq.clone());
        tasks.push(tokio::spawn(async move {
            let mut k = t;
            while Instant::now() < deadline {
                let connector = CONNECTORS[k % 4];
                let r = request(connector, seq.fetch_add(1, Ordering::Relaxed));
                let ok = match build {
                    Build::Plugin => pay_plugin(&host, connector, r).await,
                    Build::Native => pay_native(connector, r).await,
                    Build::Process => process.pay(connector, &r).await,
                };
                if ok {
                    done.fetch_add(1, Ordering::Relaxed);
                }
                k += 1;
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    done.load(Ordering::Relaxed) as f64 / window.as_secs_f64()
}
