//! The reliability suite a release runs (`cargo xtask soak`): `payhost
//! serve` from a release build, as real processes on loopback, driven
//! through crashes, hang-ups, outages, full disks, locks, hostile input and
//! plugin-directory faults, with the simulator's per-order counters as the
//! ground truth.
//!
//! Every order the suite pays is one its supplier accepts, so an order the
//! supplier counted a call for is an order whose money moved. Per scenario:
//!
//! - **lost**: the supplier took an order's money and the journal has no
//!   attempt for it that says so or may (`succeeded`, `pending`,
//!   `unknown`): nobody would find that payment again;
//! - **doubled**: the supplier counted two or more payment calls for one order;
//! - **stuck**: an attempt still `in-flight` once the scenario's hosts are
//!   quiet and a lease has passed, or a client left without an answer where
//!   the host promises one (a drain);
//! - **wrong**: anything else the scenario forbids (a bad input that reached
//!   a supplier or was answered 5xx, a payment a live host never answered).

mod client;
mod ledger;
mod scenarios;
mod stage;

use crate::pg::PgServer;
use crate::sim::Simulator;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub use ledger::Tally;

/// What the suite runs against.
#[derive(Debug, Clone)]
pub struct Options {
    /// The `payhost` binary (a release build).
    pub payhost: PathBuf,
    /// The directory holding atlas.wasm, hkramble.wasm, aerohub.wasm and nemo.wasm.
    pub plugins: PathBuf,
    /// The compile cache the hosts share.
    pub cache: PathBuf,
    /// Only the scenarios with these names (all when empty).
    pub only: Vec<String>,
}

/// One scenario's line of the table.
#[derive(Debug, Clone)]
pub struct Row {
    /// The scenario's name.
    pub scenario: &'static str,
    /// Orders paid (distinct orders the clients asked for).
    pub orders: u64,
    /// HTTP requests sent, retries with the same key included.
    pub requests: u64,
    /// Lost, doubled, stuck and wrong.
    pub tally: Tally,
    /// How long it took.
    pub elapsed: Duration,
    /// What happened, in a few words.
    pub note: String,
}

/// The scenarios, by name, with what each does.
pub const SCENARIOS: [(&str, &str); 16] = [
    (
        "sigkill",
        "SIGKILL in 28 rounds under load, every other round as PID 1 of its own PID namespace; clients retry with the same key",
    ),
    (
        "sigterm",
        "SIGTERM with payments in flight past a 1 s grace, in 2 rounds: every client answered",
    ),
    (
        "hangups-64",
        "3,000 clients hanging up mid-payment, 64 connections at once",
    ),
    (
        "hangups-256",
        "3,000 clients hanging up mid-payment, 256 connections at once",
    ),
    (
        "pg-two-hosts-race",
        "two hosts on one PostgreSQL, each asked to pay the same 300 orders under different keys",
    ),
    (
        "pg-host-killed",
        "two hosts on PostgreSQL under load, one SIGKILLed; its clients retry on the other",
    ),
    ("pg-crash-3s", "PostgreSQL crashed for 3 s under load"),
    (
        "pg-outage-25s",
        "PostgreSQL down 25 s under load, two hosts, lease 15 s",
    ),
    (
        "sqlite-locked-12s",
        "another process holds the SQLite journal's write lock for 12 s under load",
    ),
    (
        "sqlite-locked-25s",
        "another process holds the SQLite journal's write lock for 25 s under load, lease 15 s",
    ),
    (
        "full-disk",
        "the SQLite journal on a 16 MiB filesystem filled to the brim under load, then freed",
    ),
    (
        "journal-deleted",
        "the journal file and its WAL deleted under load; the operator restarts the host",
    ),
    (
        "wal-deleted",
        "the journal's WAL alone deleted under load; the operator restarts the host",
    ),
    (
        "bad-inputs",
        "129 malformed, hostile or card-carrying API requests, then valid payments",
    ),
    (
        "slowloris",
        "1,100 connections trickling their headers while 200 payments go through",
    ),
    (
        "plugin-faults",
        "27 plugin-directory fault phases (garbage, truncated, empty, removed, duplicate, unreadable, replaced) under load",
    ),
];

/// What the scenarios share: the simulator, PostgreSQL, the options and
/// a counter that keeps every order unique.
pub(crate) struct Ctx {
    pub(crate) sim: Simulator,
    pub(crate) opts: Options,
    pg: tokio::sync::OnceCell<PgServer>,
    next: AtomicU64,
    seed: AtomicU64,
}

impl Ctx {
    /// A number no other order of this run has.
    pub(crate) fn unique(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    /// A pseudo-random number below `n` (splitmix64; no cryptography here).
    pub(crate) fn below(&self, n: u64) -> u64 {
        let mut z = self
            .seed
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n.max(1)
    }

    /// The PostgreSQL server the scenarios share, started on first use.
    pub(crate) async fn pg(&self) -> anyhow::Result<&PgServer> {
        self.pg
            .get_or_try_init(|| async {
                tokio::task::spawn_blocking(PgServer::start)
                    .await?
                    .map_err(|e| anyhow::anyhow!("cannot start PostgreSQL: {e}"))
            })
            .await
    }
}

/// Runs the scenarios (those of `opts.only`, or all) and returns their rows.
/// A scenario that cannot run here is an error naming what it needs.
pub async fn run(opts: Options) -> anyhow::Result<Vec<Row>> {
    for name in &opts.only {
        anyhow::ensure!(
            SCENARIOS.iter().any(|(n, _)| n == name),
            "no scenario is called {name:?}; the scenarios are: {}",
            SCENARIOS.map(|(n, _)| n).join(", ")
        );
    }
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(7, |d| d.as_nanos() as u64);
    let ctx = Ctx {
        sim: Simulator::start().await?,
        opts,
        pg: tokio::sync::OnceCell::new(),
        next: AtomicU64::new(0),
        seed: AtomicU64::new(seed),
    };
    let mut rows = Vec::new();
    for (name, what) in SCENARIOS {
        if !ctx.opts.only.is_empty() && !ctx.opts.only.iter().any(|n| n == name) {
            continue;
        }
        eprintln!("soak: {name}: {what}");
        let started = Instant::now();
        // A scenario that could not run is a failure of its own, and the
        // others still run.
        let mut row = scenarios::run(&ctx, name).await.unwrap_or_else(|e| {
            eprintln!("soak: {name}: could not run: {e:#}");
            Row {
                scenario: name,
                orders: 0,
                requests: 0,
                tally: Tally {
                    wrong: 1,
                    ..Tally::default()
                },
                elapsed: Duration::ZERO,
                note: format!("could not run: {e:#}"),
            }
        });
        row.elapsed = started.elapsed();
        eprintln!(
            "soak: {name}: {} orders, {} requests, lost {}, doubled {}, stuck {}, wrong {} ({:.0?})",
            row.orders,
            row.requests,
            row.tally.lost,
            row.tally.doubled,
            row.tally.stuck,
            row.tally.wrong,
            row.elapsed
        );
        rows.push(row);
    }
    Ok(rows)
}

/// The table, one line per scenario, and a total.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| scenario | orders | requests | lost | doubled | stuck | wrong | time | what happened |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---|");
    let mut total = Tally::default();
    let (mut orders, mut requests) = (0, 0);
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {:.0} s | {} |",
            r.scenario,
            r.orders,
            r.requests,
            r.tally.lost,
            r.tally.doubled,
            r.tally.stuck,
            r.tally.wrong,
            r.elapsed.as_secs_f64(),
            r.note
        );
        total.add(&r.tally);
        orders += r.orders;
        requests += r.requests;
    }
    let _ = writeln!(
        out,
        "| **all** | {orders} | {requests} | {} | {} | {} | {} | | |",
        total.lost, total.doubled, total.stuck, total.wrong
    );
    out
}

/// Whether every row is clean.
pub fn clean(rows: &[Row]) -> bool {
    rows.iter().all(|r| r.tally.is_clean())
}
