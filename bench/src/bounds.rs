//! Section 1d: the engine's bounds checks, guard regions (the default)
//! against explicit checks, for the same Atlas payment and `query`.

use crate::connectors::{pay_plugin, request};
use crate::report::{Report, percentile, us};
use payhost::RuntimeOptions;
use payhost_sandbox::demo;
use payhost_sandbox::sim::{Credentials, Simulator};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// The engine's bounds checks: guard regions (the default) against
/// explicit checks, for the same Atlas payment and `query`, in one run.
pub(crate) async fn section(
    report: &mut Report,
    sim: &Simulator,
    plugins: &Path,
    cache: &Path,
    seq: &AtomicU64,
) -> anyhow::Result<()> {
    report.line("\n## 1d. Bounds checks: guard regions against explicit checks (Atlas, 300 payments and 1800 `query` calls each, interleaved)\n");
    let (url, files, credentials) = (
        sim.url(),
        [plugins.join("atlas.wasm")],
        Credentials::default(),
    );
    let host = |explicit: bool| {
        demo::host_with(
            &url,
            &files,
            cache,
            "",
            &credentials,
            RuntimeOptions {
                max_instances: 16,
                explicit_bounds_checks: explicit,
                ..RuntimeOptions::default()
            },
        )
    };
    let (_guard_dir, guard) = host(false).await?;
    let (_explicit_dir, explicit) = host(true).await?;
    let (mut pay_g, mut pay_e, mut call_g, mut call_e) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..2100 {
        for (h, pays, calls) in [
            (&guard, &mut pay_g, &mut call_g),
            (&explicit, &mut pay_e, &mut call_e),
        ] {
            if i < 320 {
                let r = request("atlas", seq.fetch_add(1, Ordering::Relaxed));
                let t = Instant::now();
                anyhow::ensure!(pay_plugin(h, "atlas", r).await, "atlas payment failed");
                if i >= 20 {
                    pays.push(t.elapsed());
                }
            }
            let t = Instant::now();
            let _ = h.query("atlas", "ATL-x").await;
            if i >= 300 {
                calls.push(t.elapsed());
            }
        }
    }
    report.line("| bounds checks | payment p50 | instantiate + `query` p50 |");
    report.line("|---|---|---|");
    for (name, pays, calls) in [
        ("guard regions (default)", &mut pay_g, &mut call_g),
        ("explicit checks", &mut pay_e, &mut call_e),
    ] {
        report.line(format!(
            "| {name} | {:.0} µs | {:.1} µs |",
            us(percentile(pays, 0.5)),
            us(percentile(calls, 0.5))
        ));
    }
    Ok(())
}
