//! Section 4: resident memory, each figure measured in a fresh child
//! process of this program (`rss`, `rss-inflight`) with a warm compile
//! cache.

use crate::connectors::{pay_plugin, request};
use crate::hosts::{host_with_cache, plugin_files, renamed};
use crate::report::Report;
use payhost_sandbox::demo;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Section 4: runs the child processes and reports what they measured.
pub(crate) fn section(report: &mut Report, plugins: &Path, cache: &Path) -> anyhow::Result<()> {
    report.line("\n## 4. Resident memory (each in a fresh process, warm compile cache)\n");
    let cache_s = cache.to_string_lossy().into_owned();
    let plugins_s = plugins.to_string_lossy().into_owned();
    let rss = |count: &str| {
        child(&[
            "rss",
            "--plugins",
            &plugins_s,
            "--cache",
            &cache_s,
            "--count",
            count,
        ])
        .map(|(_, after)| after)
    };
    // The copies are compiled into the cache by a first, unmeasured run: a
    // cache filled by an earlier run holds them only if Atlas has not
    // changed since, and a child that compiles holds the compiler's memory.
    rss("100")?;
    let (base, four, hundred) = (rss("0")?, rss("4")?, rss("100")?);
    let (idle, busy) = child(&["rss-inflight", "--plugins", &plugins_s, "--cache", &cache_s])?;
    report.line("| what | resident memory |");
    report.line("|---|---|");
    report.line(format!(
        "| host, no connector | {:.1} MiB |",
        base as f64 / 1024.0
    ));
    report.line(format!(
        "| host with 4 connectors | {:.1} MiB |",
        four as f64 / 1024.0
    ));
    report.line(format!(
        "| host with 100 connectors | {:.1} MiB |",
        hundred as f64 / 1024.0
    ));
    report.line(format!(
        "| per idle loaded connector ((100 − none) / 100) | {:.2} MiB |",
        (hundred.saturating_sub(base)) as f64 / 1024.0 / 100.0
    ));
    report.line(format!(
        "| per in-flight instance (64 payments waiting on a slow supplier) | {:.0} KiB |",
        (busy.saturating_sub(idle)) as f64 / 64.0
    ));
    Ok(())
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Child process: resident memory with `count` copies of Atlas loaded (warm cache).
pub(crate) async fn rss_child(plugins: &Path, count: usize, cache: &Path) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let atlas = std::fs::read(plugins.join("atlas.wasm"))?;
    for i in 0..count {
        std::fs::write(
            dir.path().join(format!("c{i:04}.wasm")),
            renamed(&atlas, &format!("c{i:04}")),
        )?;
    }
    let host = host_with_cache(cache, dir.path(), "")?;
    let before = rss_kib();
    for r in host.load_plugins().await {
        r?;
    }
    println!("{before} {}", rss_kib());
    Ok(())
}

/// Child process: resident memory with 64 payments in flight on one connector.
pub(crate) async fn rss_inflight_child(plugins: &Path, cache: &Path) -> anyhow::Result<()> {
    let setup = demo::Setup::start(&plugin_files(plugins), cache, "timeout = \"4s\"").await?;
    let host = Arc::new(setup.host);
    // Warm up so the pool and the client are ready.
    pay_plugin(&host, "atlas", request("atlas", 1)).await;
    let before = rss_kib();
    let mut tasks = Vec::new();
    for i in 0..64 {
        let host = host.clone();
        let mut r = request("atlas", 10 + i);
        r.order_id = format!("FAULT-slow-{i}");
        tasks.push(tokio::spawn(async move { host.pay("atlas", r).await }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let during = rss_kib();
    for t in tasks {
        let _ = t.await;
    }
    println!("{before} {during}");
    Ok(())
}

/// Runs this program with `args` and reads the two numbers it prints.
fn child(args: &[&str]) -> anyhow::Result<(u64, u64)> {
    let out = std::process::Command::new(std::env::current_exe()?)
        .args(args)
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text.split_whitespace().filter_map(|w| w.parse().ok());
    match (it.next(), it.next()) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => anyhow::bail!(
            "{args:?} printed {text:?} {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}
