//! `payhost-bench`: what a connector costs as a sandboxed component next to
//! the same code compiled natively, and how the host scales. Prints the
//! figures and writes them to BENCHMARKS.md.
//!
//! `payhost-bench [--plugins DIR] [--probes DIR] [--cache DIR] [--out FILE] [--only instructions|cpu|phases|latency|extism|bounds|sealing|guards|pinning|throughput|durable|javascript|load|console]`;
//! `rss` and `rss-inflight` are the child processes that measure resident
//! memory; `count --mode plugin|native --n N [--timed|--phases|--explicit-bounds]
//! [--connector NAME]` is the child of sections 0, 0b and 0c (under
//! callgrind by hand, `--connector` counts one connector's payments alone). The hand-written `bench/ANALYSIS.md` is appended to the report.

mod args;
mod bounds;
mod connectors;
mod console;
mod durable;
mod extism;
mod guards;
mod hosts;
mod instructions;
mod javascript;
mod latency;
mod load_time;
mod memory;
mod native;
mod phases;
mod pinning;
mod process;
mod report;
mod sealing;
mod throughput;

use args::Args;
use hosts::plugin_files;
use native::native_host;
use payhost_sandbox::demo;
use report::{Report, machine};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

/// Payments run concurrently and allocate on every worker thread; glibc's
/// allocator serialises them on its arena lock, mimalloc keeps per-thread heaps.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::from_env();
    let plugins = args.plugins();
    let cache = args.cache();
    match args.mode() {
        Some("rss") => {
            return memory::rss_child(&plugins, args.number("--count"), &cache).await;
        }
        Some("rss-inflight") => return memory::rss_inflight_child(&plugins, &cache).await,
        Some("count") => {
            return instructions::child(
                &plugin_files(&plugins),
                &cache,
                args.value("--mode").as_deref() == Some("plugin"),
                args.number("--n"),
                instructions::Run::from_flags(
                    args.flag("--timed"),
                    args.flag("--phases"),
                    args.flag("--explicit-bounds"),
                ),
                args.value("--connector").as_deref(),
            )
            .await;
        }
        Some("connector-process") => {
            return process::child(&args.value("--sim").unwrap_or_default()).await;
        }
        _ => {}
    }
    let out = args.out();
    for f in plugin_files(&plugins) {
        anyhow::ensure!(
            f.exists(),
            "{} is missing: run `cargo xtask bench`",
            f.display()
        );
    }
    let started = Instant::now();
    let mut report = Report::default();
    report.line("# Benchmarks\n");
    report.line(format!(
        "Produced by `cargo xtask bench` (release build) on {}. Every figure below comes from that one run; the native baseline is the same connector crates compiled for this machine, calling the same reqwest client and the same crypto directly, against the same loopback simulator in the same process.",
        machine()
    ));

    let setup = demo::Setup::start(&plugin_files(&plugins), &cache, "").await?;
    payhost_sdk::native::install(Arc::new(native_host(
        &setup.sim.url(),
        setup.sim.credentials(),
    )));
    let host = Arc::new(setup.host);
    let seq = Arc::new(AtomicU64::new(1));
    let only = args.only();
    let run = |part: &str| only.as_deref().is_none_or(|o| o == part);
    if run("instructions") {
        instructions::section(&mut report, &plugins, &cache)?;
    } else if only.as_deref() == Some("cpu") {
        instructions::cpu_section(&mut report, &plugins, &cache)?;
    }
    if run("phases") {
        phases::section(&mut report, &plugins, &cache)?;
    }
    let process = process::Process::start(&setup.sim.url())?;
    if run("latency") {
        latency::section(&mut report, &host, &process, &seq).await;
    }
    if run("extism") {
        extism::section(&mut report, &setup.sim, &host, &seq).await?;
    }
    if run("bounds") {
        bounds::section(&mut report, &setup.sim, &plugins, &cache, &seq).await?;
    }
    if run("sealing") {
        sealing::section(&mut report, &args.probes(), &cache).await?;
    }
    if run("guards") {
        guards::section(&mut report)?;
    }
    if run("pinning") {
        pinning::section(&mut report)?;
    }

    if run("throughput") {
        throughput::section(&mut report, &host, process, &seq).await;
    }
    if run("durable") {
        durable::section(
            &mut report,
            &plugin_files(&plugins),
            &cache,
            &setup.sim,
            &host,
            &seq,
        )
        .await?;
    }
    if run("javascript") {
        javascript::section(
            &mut report,
            &setup.sim,
            &plugins.join("atlas.wasm"),
            &[
                (
                    Path::new("target/plugins-js/atlas-js.wasm"),
                    "componentize-qjs",
                ),
                (
                    Path::new("target/plugins-js/atlas-js-small.wasm"),
                    "componentize-qjs `--opt-size --minify`",
                ),
            ],
        )
        .await?;
    }
    if run("load") {
        load_time::section(&mut report, &plugins, &setup.sim).await?;
    }
    if run("console") {
        console::section(&mut report, &plugins, &cache).await?;
    }
    if only.is_some() {
        return Ok(());
    }

    memory::section(&mut report, &plugins, &cache)?;
    report.line(format!(
        "\nThe whole run took {:.0} s.",
        started.elapsed().as_secs_f64()
    ));
    report.write(&out)
}
