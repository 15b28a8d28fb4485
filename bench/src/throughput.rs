//! Section 2: payments per second through `Host::pay`, round-robin over
//! the four connectors, for the plugin, its native build and the connector
//! process, at three concurrencies.
//!
//! The three builds are measured in short windows taken in turns (each
//! round in another order), not one long window after another: on a
//! shared machine, a slow second falls on all three alike, where with one
//! window each it fell on whichever ran then and moved the ratio between
//! them by 10 to 25 points from run to run. Each figure is the median of
//! its windows; each ratio the median of the ratios within a round.

use crate::connectors::{CONNECTORS, pay_native, pay_plugin, request};
use crate::process::Process;
use crate::report::{Report, median, turns};
use crate::usage::Usage;
use payhost::Host;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Rounds per concurrency: each runs every build once, in its own order.
const ROUNDS: usize = 5;
/// One build's window in a round.
const WINDOW: Duration = Duration::from_millis(600);
/// Each build's unmeasured window before a concurrency's rounds: its pool
/// slots, connections and caches in use before they are counted.
const WARM_UP: Duration = Duration::from_millis(300);

/// Section 2. The connector process is stopped once it is measured.
pub(crate) async fn section(
    report: &mut Report,
    host: &Arc<Host>,
    process: Process,
    seq: &Arc<AtomicU64>,
) {
    let process = Arc::new(process);
    report.line(format!(
        "\n## 2. Throughput through `Host::pay` (round-robin over the four connectors; {ROUNDS} rounds of {} ms per build, the builds in turns, each round in another order; medians)\n",
        WINDOW.as_millis()
    ));
    report.line("| concurrency | plugin payments/s | native payments/s | process payments/s | plugin / native | plugin / process | plugin / native, each round |");
    report.line("|---|---|---|---|---|---|---|");
    let builds = [Build::Plugin, Build::Native, Build::Process];
    // What the plugin and native windows used of this process (the
    // simulator and the client included, the same for both), per
    // concurrency: where each build's payments spend the cores.
    let mut used = Vec::new();
    for c in [1, 8, 64] {
        for build in builds {
            throughput(host, &process, build, c, seq, WARM_UP).await;
        }
        let mut rates = [[0f64; 3]; ROUNDS];
        let mut spent = [Spent::default(); 2];
        for (round, b) in turns(ROUNDS, builds.len()) {
            let before = Usage::now();
            let window = throughput(host, &process, builds[b], c, seq, WINDOW).await;
            if b < 2 {
                spent[b].usage = spent[b].usage.plus(&Usage::now().since(&before));
                spent[b].payments += window.payments;
            }
            rates[round][b] = window.rate();
        }
        used.push((c, spent));
        let [p, n, q] = [0, 1, 2].map(|b| rates.map(|row| row[b]));
        let over = |a: &[f64; ROUNDS], b: &[f64; ROUNDS]| -> [f64; ROUNDS] {
            std::array::from_fn(|r| a[r] / b[r])
        };
        let each = over(&p, &n)
            .iter()
            .map(|r| format!("{:.0}", 100.0 * r))
            .collect::<Vec<_>>()
            .join(" / ");
        report.line(format!(
            "| {c} | {:.0} | {:.0} | {:.0} | {:.0} % | {:.0} % | {each} % |",
            median(&mut p.clone()),
            median(&mut n.clone()),
            median(&mut q.clone()),
            100.0 * median(&mut over(&p, &n)),
            100.0 * median(&mut over(&p, &q)),
        ));
    }
    report.line(
        "\nWhere each build's payments spend the two cores, from the same windows (`getrusage` over this process between a window's start and end: every thread, the simulator and the client included, the same for both builds; the connector process's own CPU is in another process and not read, so it has no row). Per payment:\n",
    );
    report.line("| concurrency | build | CPU | user space | kernel | the threads' waits (voluntary context switches) |");
    report.line("|---|---|---|---|---|---|");
    for (c, spent) in used {
        for (name, s) in ["plugin", "native"].iter().zip(spent) {
            let per = |ns: u128| ns as f64 / 1e3 / s.payments.max(1) as f64;
            report.line(format!(
                "| {c} | {name} | {:.1} µs | {:.1} µs | {:.1} µs | {:.2} |",
                per(s.usage.cpu_ns()),
                per(s.usage.user_ns),
                per(s.usage.system_ns),
                s.usage.voluntary as f64 / s.payments.max(1) as f64,
            ));
        }
    }
}

/// What one build's windows at one concurrency used, and the payments
/// they made.
#[derive(Clone, Copy, Default)]
struct Spent {
    usage: Usage,
    payments: u64,
}

/// One window's payments and the time they took.
struct Window {
    payments: u64,
    seconds: f64,
}

impl Window {
    /// Payments per second.
    fn rate(&self) -> f64 {
        self.payments as f64 / self.seconds
    }
}

/// Which build a throughput figure runs.
#[derive(Clone, Copy)]
enum Build {
    Plugin,
    Native,
    Process,
}

/// One window of payments at a concurrency, round-robin over the four
/// connectors: the payments done and the time they took (no payment is
/// started past `window`; those under way then are waited for, and
/// counted with the time they took).
async fn throughput(
    host: &Arc<Host>,
    process: &Arc<Process>,
    build: Build,
    concurrency: usize,
    seq: &Arc<AtomicU64>,
    window: Duration,
) -> Window {
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + window;
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
    Window {
        payments: done.load(Ordering::Relaxed),
        seconds: start.elapsed().as_secs_f64(),
    }
}
