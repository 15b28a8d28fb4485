//! `payhost-bench`: what a connector costs as a sandboxed component next to
//! the same code compiled natively, and how the host scales. Prints the
//! figures and writes them to BENCHMARKS.md.
//!
//! `payhost-bench [--plugins DIR] [--probes DIR] [--cache DIR] [--out FILE]`
//! runs every section, each in a process of its own started with
//! `--only SECTION --section-out FILE` (the section's lines to FILE);
//! `--only SECTION` alone runs one and prints it (`cpu`: section 0b
//! alone). `rss` and `rss-inflight` are the child processes that measure
//! resident memory; `count --mode plugin|native --n N
//! [--timed|--phases|--explicit-bounds] [--connector NAME]` is the child of
//! sections 0, 0b and 0c (under callgrind by hand, `--connector` counts one
//! connector's payments alone). The hand-written `bench/ANALYSIS.md` is
//! appended to the report.

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
mod usage;

use anyhow::Context as _;
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
    for f in plugin_files(&plugins) {
        anyhow::ensure!(
            f.exists(),
            "{} is missing: run `cargo xtask bench`",
            f.display()
        );
    }
    let Some(only) = args.only() else {
        return whole_run(&args);
    };
    anyhow::ensure!(
        only == "cpu" || SECTIONS.contains(&only.as_str()),
        "no section is called {only}: --only takes one of {} (or cpu)",
        SECTIONS.join(", ")
    );
    let mut report = Report::default();
    section(&only, &mut report, &args).await?;
    match args.value("--section-out") {
        Some(file) => report.write_lines(Path::new(&file)),
        None => Ok(()),
    }
}

/// Every section, in the order the report gives them.
const SECTIONS: [&str; 14] = [
    "instructions",
    "phases",
    "latency",
    "extism",
    "bounds",
    "sealing",
    "guards",
    "pinning",
    "throughput",
    "durable",
    "javascript",
    "load",
    "console",
    "memory",
];

/// The whole benchmark: each section in a process of its own, started
/// after the one before has ended, so that none runs beside what an
/// earlier one left behind (its threads, its heap, its connections); the
/// sections' lines gathered into one report.
fn whole_run(args: &Args) -> anyhow::Result<()> {
    let out = args.out();
    let started = Instant::now();
    let mut report = Report::default();
    report.line("# Benchmarks\n");
    report.line(format!(
        "Produced by `cargo xtask bench` (release build) on {}. Every figure below comes from that one run, each section in a process of its own, one after another; the native baseline is the same connector crates compiled for this machine, calling the same reqwest client and the same crypto directly, against the same loopback simulator in the same process.",
        machine()
    ));
    let dir = tempfile::tempdir()?;
    let me = std::env::current_exe()?;
    let passed_on = args.passed_on();
    for name in SECTIONS {
        let lines = dir.path().join(name);
        let status = std::process::Command::new(&me)
            .args(&passed_on)
            .args(["--only", name, "--section-out"])
            .arg(&lines)
            .status()
            .with_context(|| format!("starting the {name} section"))?;
        anyhow::ensure!(status.success(), "the {name} section failed ({status})");
        let text = std::fs::read_to_string(&lines)
            .with_context(|| format!("reading the {name} section's lines"))?;
        report.extend(text.lines().map(str::to_owned));
    }
    report.line(format!(
        "\nThe whole run took {:.0} s.",
        started.elapsed().as_secs_f64()
    ));
    report.write(&out)
}

/// One section (`only`, one of [`SECTIONS`] or `cpu`, section 0b alone)
/// into `report`.
async fn section(only: &str, report: &mut Report, args: &Args) -> anyhow::Result<()> {
    let plugins = args.plugins();
    let cache = args.cache();
    match only {
        "instructions" => return instructions::section(report, &plugins, &cache),
        "cpu" => return instructions::cpu_section(report, &plugins, &cache),
        "phases" => return phases::section(report, &plugins, &cache),
        "sealing" => return sealing::section(report, &args.probes(), &cache).await,
        "guards" => return guards::section(report),
        "pinning" => return pinning::section(report).await,
        "load" => {
            let sim = payhost_sandbox::sim::Simulator::start().await?;
            return load_time::section(report, &plugins, &sim).await;
        }
        "console" => return console::section(report, &plugins, &cache).await,
        "memory" => return memory::section(report, &plugins, &cache),
        _ => {}
    }
    let setup = demo::Setup::start(&plugin_files(&plugins), &cache, "").await?;
    payhost_sdk::native::install(Arc::new(native_host(
        &setup.sim.url(),
        setup.sim.credentials(),
    )));
    let host = Arc::new(setup.host);
    let seq = Arc::new(AtomicU64::new(1));
    match only {
        "latency" => {
            let process = process::Process::start(&setup.sim.url())?;
            latency::section(report, &host, &process, &seq).await;
        }
        "throughput" => {
            let process = process::Process::start(&setup.sim.url())?;
            throughput::section(report, &host, process, &seq).await;
        }
        "extism" => extism::section(report, &setup.sim, &host, &seq).await?,
        "bounds" => bounds::section(report, &setup.sim, &plugins, &cache, &seq).await?,
        "durable" => {
            durable::section(
                report,
                &plugin_files(&plugins),
                &cache,
                &setup.sim,
                &host,
                &seq,
            )
            .await?
        }
        "javascript" => {
            javascript::section(
                report,
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
            .await?
        }
        other => unreachable!("{other} is checked against SECTIONS before it runs"),
    }
    Ok(())
}
