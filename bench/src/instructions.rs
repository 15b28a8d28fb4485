//! Section 0: instructions per payment, counted by valgrind's callgrind, for
//! the plugin and its native build. Instruction counts do not move with a
//! noisy machine as wall time does. Each build runs twice in a child
//! process under callgrind, with a short and a long series of payments;
//! the difference divided by the difference in payments is the cost of one
//! payment, the set-up (simulator, host, compile cache) cancelled out. The
//! simulator and both HTTP stacks run in that process too, the same for
//! both builds: the difference between the two is the sandbox's.

use crate::{CONNECTORS, Report, native_host, pay_native, request};
use payhost_sandbox::demo;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

/// Payments in the short and the long series.
const SHORT: u64 = 20;
const LONG: u64 = 140;

/// The child: `n` payments, one at a time, round-robin over the four
/// connectors, through the plugin or the native build.
pub(crate) async fn child(
    plugins: &[std::path::PathBuf],
    cache: &Path,
    plugin: bool,
    n: u64,
) -> anyhow::Result<()> {
    let sim = payhost_sandbox::sim::Simulator::start().await?;
    // A small pool with explicit bounds checks: valgrind cannot map the
    // address space guard regions reserve. (The plugin's count is then a
    // little higher than with guard pages: an upper bound.)
    let (_dir, host) = demo::host_with(
        &sim.url(),
        plugins,
        cache,
        "",
        &payhost_sandbox::sim::Credentials::default(),
        payhost::RuntimeOptions {
            max_instances: 1,
            explicit_bounds_checks: true,
            ..payhost::RuntimeOptions::default()
        },
    )
    .await?;
    payhost_sdk::native::install(Arc::new(native_host(&sim.url(), sim.credentials())));
    for i in 0..n {
        let connector = CONNECTORS[(i % 4) as usize];
        let r = request(connector, 1_000_000 + i);
        let ok = if plugin {
            matches!(host.pay(connector, r).await, Ok(o) if o.state == payhost::PaymentState::Succeeded)
        } else {
            pay_native(connector, r).await
        };
        anyhow::ensure!(ok, "{connector} payment {i} failed");
    }
    Ok(())
}

/// Instructions a child run of `n` payments executed.
fn counted(plugin: bool, n: u64, plugins: &Path, cache: &Path) -> anyhow::Result<u64> {
    let out = Command::new("valgrind")
        .args([
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            // The engine writes the code it runs (compiled connectors).
            "--smc-check=all-non-file",
        ])
        .arg(std::env::current_exe()?)
        .args([
            "count",
            "--mode",
            if plugin { "plugin" } else { "native" },
            "--n",
            &n.to_string(),
            "--plugins",
        ])
        .arg(plugins)
        .arg("--cache")
        .arg(cache)
        .output()?;
    let text = String::from_utf8_lossy(&out.stderr);
    anyhow::ensure!(out.status.success(), "the counted run failed: {text}");
    text.lines()
        .find_map(|l| l.split("Collected :").nth(1))
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("callgrind printed no count: {text}"))
}

/// Section 0.
pub(crate) fn section(report: &mut Report, plugins: &Path, cache: &Path) -> anyhow::Result<()> {
    report.line("\n## 0. Instructions per payment (callgrind)\n");
    let have = Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        report.line("valgrind is not installed here: not measured (`apt-get install valgrind`).");
        return Ok(());
    }
    report.line(format!(
        "`valgrind --tool=callgrind --smc-check=all-non-file payhost-bench count --mode plugin|native --n N`, N = {SHORT} and {LONG}; (instructions at {LONG} − at {SHORT}) / {}. The process runs the simulator and both HTTP stacks too, the same for both builds.\n",
        LONG - SHORT
    ));
    let per = |plugin: bool| -> anyhow::Result<f64> {
        let short = counted(plugin, SHORT, plugins, cache)?;
        let long = counted(plugin, LONG, plugins, cache)?;
        Ok(long.saturating_sub(short) as f64 / (LONG - SHORT) as f64)
    };
    let (native, plugin) = (per(false)?, per(true)?);
    report.line("| build | instructions per payment | |");
    report.line("|---|---|---|");
    report.line(format!(
        "| native (same crates, in-process) | {:.0} k | |",
        native / 1e3
    ));
    report.line(format!(
        "| plugin (component, fresh instance) | {:.0} k | {:+.0} k ({:+.0} %) over native |",
        plugin / 1e3,
        (plugin - native) / 1e3,
        100.0 * (plugin - native) / native
    ));
    Ok(())
}
