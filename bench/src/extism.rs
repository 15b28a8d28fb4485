//! Section 1f: the peer. The same Atlas balance payment through Extism (a
//! plugin written with its PDK, `bench/peer-extism/plugin`, a fresh
//! instance per payment) against the same crate compiled natively, and
//! payhost's Atlas connector against its native build, each pair
//! interleaved, in turns of a hundred, so that the two runtimes' ratios to
//! their own baselines stand side by side.
//!
//! Extism runs in a child process (`extism-peer`, its own workspace): its
//! newest release builds on wasmtime 49 and Rust 1.96, payhost on wasmtime
//! 48, and one binary cannot link both.

use crate::connectors::{pay_native, pay_plugin, request};
use crate::report::{Report, percentile, us};
use payhost::Host;
use payhost_sandbox::sim::Simulator;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Payments of each kind measured in one turn.
const TURN: u64 = 100;
/// Turns, each side's in alternation.
const TURNS: u64 = 4;
/// Payments of each kind made first in a turn and not counted.
const WARM_UP: u64 = 10;

/// Where `cargo xtask bench` builds the peer.
pub(crate) const RUNNER: &str = "target/peer-extism/release/extism-peer";
/// Where `cargo xtask bench` builds the peer's plugin.
pub(crate) const PLUGIN: &str =
    "target/peer-extism/wasm32-unknown-unknown/release/extism_atlas.wasm";

/// What one turn of the peer measured, in microseconds.
#[derive(serde::Deserialize)]
struct Turn {
    version: String,
    plugin: Vec<f64>,
    native: Vec<f64>,
    kept: Vec<f64>,
}

/// One turn of the peer, against `sim`, its orders numbered from `first`.
fn peer_turn(sim: &Simulator, first: u64) -> anyhow::Result<Turn> {
    let c = sim.credentials();
    let out = Command::new(RUNNER)
        .args(["--url", &sim.url()])
        .args(["--client-id", &c.atlas_client_id])
        .args(["--client-secret", &c.atlas_client_secret])
        .args(["--wasm", PLUGIN])
        .args(["--first", &first.to_string()])
        .args(["--count", &TURN.to_string()])
        .args(["--warm", &WARM_UP.to_string()])
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "the Extism peer failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// The section, against the simulator `sim` and `host`'s Atlas connector.
/// Says so and moves on when the peer was not built.
pub(crate) async fn section(
    report: &mut Report,
    sim: &Simulator,
    host: &Host,
    seq: &AtomicU64,
) -> anyhow::Result<()> {
    report.line("\n## 1f. The peer: Extism beside payhost, the same Atlas payment, each against its own native build\n");
    if !Path::new(RUNNER).is_file() || !Path::new(PLUGIN).is_file() {
        report.line(format!(
            "{RUNNER} or {PLUGIN} is not built (`cargo xtask bench` builds them with Rust 1.96, which it installs with rustup when it can); not measured."
        ));
        return Ok(());
    }
    let mut extism = (Vec::new(), Vec::new(), Vec::new());
    let mut version = String::new();
    let (mut plugin, mut native) = (Vec::new(), Vec::new());
    for turn in 0..TURNS {
        let t = peer_turn(sim, turn * 10 * TURN)?;
        version = t.version;
        let micros = |v: Vec<f64>| v.into_iter().map(|m| Duration::from_secs_f64(m / 1e6));
        extism.0.extend(micros(t.plugin));
        extism.1.extend(micros(t.native));
        extism.2.extend(micros(t.kept));
        // payhost's pair, interleaved as section 1 does it.
        for i in 0..TURN + WARM_UP {
            for k in 0..2 {
                let r = request("atlas", seq.fetch_add(1, Ordering::Relaxed));
                let started = Instant::now();
                let (ok, samples) = if (i + k) % 2 == 0 {
                    (pay_plugin(host, "atlas", r).await, &mut plugin)
                } else {
                    (pay_native("atlas", r).await, &mut native)
                };
                anyhow::ensure!(ok, "an Atlas payment failed");
                if i >= WARM_UP {
                    samples.push(started.elapsed());
                }
            }
        }
    }
    report.line(format!(
        "Extism {version}: the Atlas balance payment of `plugins/atlas` (the same body, credential headers and reading of the answer) written as an Extism plugin with extism-pdk 1.4 (`bench/peer-extism/plugin`, built for wasm32-unknown-unknown, JSON in and out). Its module is compiled once (`CompiledPlugin`; `allowed_hosts` the simulator's host; the base URL and the credentials in the manifest's config, where the plugin reads them: Extism has no sealed secrets); each payment is a fresh `Plugin::new_from_compiled` and one `pay` call. Its native baseline is the same crate compiled for this machine, calling ureq the way Extism's host makes a plugin's request (a use-once agent: a new connection every time). payhost's row is section 1's pair measured again here: the component through `Host::pay` (a fresh instance) against `plugins/atlas` compiled natively, on the shared reqwest client. {} turns of {TURN} payments of each kind (after {WARM_UP} to warm up), the peer's in its own process (`extism-peer`), each side's calls taking turns with its own baseline. Compare the ratios: the rows' absolute figures differ by HTTP client and connection reuse.\n",
        TURNS
    ));
    report.line("| runtime | plugin p50 | native p50 | overhead p50 (plugin − native) | plugin / native | plugin p99 | native p99 |");
    report.line("|---|---|---|---|---|---|---|");
    for (label, plugin, native) in [
        (
            "payhost: the component through `Host::pay` / `plugins/atlas` natively",
            &mut plugin,
            &mut native,
        ),
        (
            "Extism: the plugin, a fresh `Plugin` per payment / the same crate natively",
            &mut extism.0,
            &mut extism.1,
        ),
    ] {
        let (p50, n50) = (us(percentile(plugin, 0.5)), us(percentile(native, 0.5)));
        let (p99, n99) = (us(percentile(plugin, 0.99)), us(percentile(native, 0.99)));
        report.line(format!(
            "| {label} | {p50:.0} µs | {n50:.0} µs | {:+.0} µs | {:.2}× | {p99:.0} µs | {n99:.0} µs |",
            p50 - n50,
            p50 / n50
        ));
    }
    report.line(format!(
        "\nThe Extism plugin's native build on one ureq agent kept alive, reusing its connection as payhost's client does (Extism's host cannot: it makes a use-once agent for every request): p50 {:.0} µs.",
        us(percentile(&mut extism.2, 0.5))
    ));
    Ok(())
}
