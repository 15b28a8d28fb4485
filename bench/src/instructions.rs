//! Section 0: instructions per payment, counted by valgrind's callgrind, for
//! the plugin and its native build. Instruction counts do not move with a
//! noisy machine as wall time does. Each build runs twice in a child
//! process under callgrind, with a short and a long series of payments;
//! the difference divided by the difference in payments is the cost of one
//! payment, the set-up (simulator, host, compile cache) cancelled out. The
//! simulator and both HTTP stacks run in that process too, the same for
//! both builds: the difference between the two is the sandbox's.

use crate::connectors::{CONNECTORS, pay_native, request};
use crate::native::native_host;
use crate::report::{Report, median};
use crate::usage::Usage;
use payhost_sandbox::demo;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

/// Payments in the short and the long series.
const SHORT: u64 = 20;
const LONG: u64 = 140;
/// Pairs of counted runs per build and layout; the figure is their median.
const PAIRS: usize = 3;

/// How a `count` child runs its payments.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Run {
    /// Under callgrind with the host's default memory layout: guard regions
    /// instead of bounds checks, a pool of one memory per slot so that the
    /// reservations fit valgrind's address space.
    Counted,
    /// Under callgrind with explicit bounds checks and no guard regions: how
    /// section 0 counted before, for a machine that limits virtual memory.
    CountedExplicit,
    /// The host's default engine settings, timed, not counted.
    Timed,
    /// As [`Run::Timed`], the call's phases recorded (section 0c).
    Phases,
}

impl Run {
    /// The run the child's flags ask for.
    pub(crate) fn from_flags(timed: bool, phases: bool, explicit_bounds: bool) -> Run {
        if phases {
            Run::Phases
        } else if timed {
            Run::Timed
        } else if explicit_bounds {
            Run::CountedExplicit
        } else {
            Run::Counted
        }
    }

    /// The flags that ask for this run.
    fn flags(self) -> &'static [&'static str] {
        match self {
            Run::Counted => &[],
            Run::CountedExplicit => &["--explicit-bounds"],
            Run::Timed => &["--timed"],
            Run::Phases => &["--phases"],
        }
    }
}

/// The child: `n` payments, one at a time, round-robin over the four
/// connectors (or through `only`), through the plugin or the native build. [`Run::Timed`]:
/// 100 payments to warm up, then the process's CPU time and the wall time
/// of the `n` payments printed as `cpu_ns wall_ns`.
pub(crate) async fn child(
    plugins: &[std::path::PathBuf],
    cache: &Path,
    plugin: bool,
    n: u64,
    run: Run,
    only: Option<&str>,
) -> anyhow::Result<()> {
    // `--connector NAME`: every payment through that one connector, for
    // its own count (the analysis's rows by connector).
    let only = match only {
        Some(name) => Some(*CONNECTORS.iter().find(|c| **c == name).ok_or_else(|| {
            anyhow::anyhow!(
                "--connector: no connector `{name}` here; name one of {}",
                CONNECTORS.join(", ")
            )
        })?),
        None => None,
    };
    let sim = payhost_sandbox::sim::Simulator::start().await?;
    let timed = matches!(run, Run::Timed | Run::Phases);
    if run == Run::Phases {
        crate::phases::install()?;
    }
    let options = match run {
        Run::Timed | Run::Phases => payhost::RuntimeOptions {
            max_instances: 64,
            ..payhost::RuntimeOptions::default()
        },
        // Counted: a slot per connector, so that each keeps its slot as it
        // does in a host with many, and no epoch ticks: under valgrind a
        // payment takes milliseconds, and each tick that lands in one
        // yields the call: counts that moved by 100 k per payment from run
        // to run.
        Run::Counted => payhost::RuntimeOptions {
            max_instances: 4,
            memories_per_instance: 1,
            tick_epochs: false,
            ..payhost::RuntimeOptions::default()
        },
        Run::CountedExplicit => payhost::RuntimeOptions {
            max_instances: 1,
            explicit_bounds_checks: true,
            tick_epochs: false,
            ..payhost::RuntimeOptions::default()
        },
    };
    let (_dir, host) = demo::host_with(
        &sim.url(),
        plugins,
        cache,
        "",
        &payhost_sandbox::sim::Credentials::default(),
        options,
    )
    .await?;
    payhost_sdk::native::install(Arc::new(native_host(&sim.url(), sim.credentials())));
    let warm = if timed { 100 } else { 0 };
    let mut started = (Usage::now().cpu_ns(), Instant::now());
    for i in 0..n + warm {
        if i == warm {
            crate::phases::reset();
            started = (Usage::now().cpu_ns(), Instant::now());
        }
        let connector = only.unwrap_or(CONNECTORS[(i % 4) as usize]);
        let r = request(connector, 1_000_000 + i);
        let ok = if plugin {
            matches!(host.pay(connector, r).await, Ok(o) if o.state == payhost::PaymentState::Succeeded)
        } else {
            pay_native(connector, r).await
        };
        anyhow::ensure!(ok, "{connector} payment {i} failed");
    }
    if timed {
        println!(
            "{} {}",
            Usage::now().cpu_ns() - started.0,
            started.1.elapsed().as_nanos()
        );
    }
    if run == Run::Phases {
        crate::phases::print();
    }
    Ok(())
}

/// CPU and wall time per payment, in a child process of its own.
fn timed(plugin: bool, plugins: &Path, cache: &Path) -> anyhow::Result<(f64, f64)> {
    let text = child_output(plugin, TIMED, plugins, cache, Run::Timed)?;
    let mut numbers = text
        .split_whitespace()
        .filter_map(|n| n.parse::<f64>().ok());
    match (numbers.next(), numbers.next()) {
        (Some(cpu), Some(wall)) => Ok((cpu / TIMED as f64 / 1e3, wall / TIMED as f64 / 1e3)),
        _ => anyhow::bail!("the timed run printed no figures: {text}"),
    }
}

/// What a `count` child run of `n` payments printed, run as this process
/// (not under valgrind).
pub(crate) fn child_output(
    plugin: bool,
    n: u64,
    plugins: &Path,
    cache: &Path,
    run: Run,
) -> anyhow::Result<String> {
    let out = Command::new(std::env::current_exe()?)
        .args(count_args(plugin, n, plugins, cache, run))
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "the {} run failed: {}",
        run.flags().join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Payments in each timed run.
const TIMED: u64 = 4000;

/// The arguments of a `count` child run of `n` payments.
fn count_args(
    plugin: bool,
    n: u64,
    plugins: &Path,
    cache: &Path,
    run: Run,
) -> Vec<std::ffi::OsString> {
    let mode = if plugin { "plugin" } else { "native" };
    let mut args = [
        "count".as_ref(),
        "--mode".as_ref(),
        mode.as_ref(),
        "--n".as_ref(),
        n.to_string().as_ref(),
        "--plugins".as_ref(),
        plugins.as_os_str(),
        "--cache".as_ref(),
        cache.as_os_str(),
    ]
    .map(std::ffi::OsStr::to_owned)
    .to_vec();
    args.extend(run.flags().iter().map(std::ffi::OsString::from));
    args
}

/// What glibc is told in a count that takes its string instructions as
/// the processor counts them: `memset` and `memcpy` with vector stores at
/// every size, never `rep stosb` or `rep movsb` (x86-64; elsewhere glibc
/// ignores it).
const VECTOR_STRINGS: &str = "glibc.cpu.x86_rep_stosb_threshold=1099511627776:glibc.cpu.x86_rep_movsb_threshold=1099511627776";

/// How a count takes a `rep`-prefixed string instruction.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Strings {
    /// As valgrind counts it: once per byte (or word) it stores.
    PerByte,
    /// As the processor retires it, about: glibc uses its vector loops
    /// instead, each store counted once.
    Vector,
}

/// Instructions a child run of `n` payments executed.
fn counted(
    plugin: bool,
    n: u64,
    plugins: &Path,
    cache: &Path,
    run: Run,
    strings: Strings,
) -> anyhow::Result<u64> {
    let mut cmd = Command::new("valgrind");
    cmd.args([
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        // The engine writes the code it runs (compiled connectors).
        "--smc-check=all-non-file",
    ])
    .arg(std::env::current_exe()?)
    .args(count_args(plugin, n, plugins, cache, run));
    if strings == Strings::Vector {
        cmd.env("GLIBC_TUNABLES", VECTOR_STRINGS);
    }
    let out = cmd.output()?;
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
        return cpu_section(report, plugins, cache);
    }
    report.line(format!(
        "`valgrind --tool=callgrind --smc-check=all-non-file payhost-bench count --mode plugin|native --n N`, N = {SHORT} and {LONG}; (instructions at {LONG} − at {SHORT}) / {}, the median of {PAIRS} such pairs for each build (one for explicit bounds checks). The process runs the simulator and both HTTP stacks too, the same for both builds.\n",
        LONG - SHORT
    ));
    // The counted children's engine (under valgrind, the CPU features it
    // reports) is not the main process's: one run under valgrind per
    // layout, not counted, puts their compiled connectors in the cache
    // first, or the first counted run would count a compile.
    let once = |plugin: bool, run: Run, strings: Strings| -> anyhow::Result<f64> {
        let short = counted(plugin, SHORT, plugins, cache, run, strings)?;
        let long = counted(plugin, LONG, plugins, cache, run, strings)?;
        Ok(long.saturating_sub(short) as f64 / (LONG - SHORT) as f64)
    };
    // The median of a few pairs: a build's figure moves by a few k from
    // one pair to the next (the native one by up to 4 k), as much as the
    // ratio's last digit.
    let per = |plugin: bool, run: Run, strings: Strings| -> anyhow::Result<f64> {
        let mut figures = (0..PAIRS)
            .map(|_| once(plugin, run, strings))
            .collect::<anyhow::Result<Vec<f64>>>()?;
        Ok(median(&mut figures))
    };
    counted(true, 1, plugins, cache, Run::Counted, Strings::PerByte)?;
    counted(
        true,
        1,
        plugins,
        cache,
        Run::CountedExplicit,
        Strings::PerByte,
    )?;
    let native = per(false, Run::Counted, Strings::PerByte)?;
    let plugin = per(true, Run::Counted, Strings::PerByte)?;
    let explicit = once(true, Run::CountedExplicit, Strings::PerByte)?;
    let native_vector = per(false, Run::Counted, Strings::Vector)?;
    let plugin_vector = per(true, Run::Counted, Strings::Vector)?;
    let table = |report: &mut Report, native: f64, rows: &[(&str, f64)]| {
        report.line("| build | instructions per payment | over native | ratio |");
        report.line("|---|---|---|---|");
        report.line(format!(
            "| native (same crates, in-process) | {:.0} k | | 1.00× |",
            native / 1e3
        ));
        for (name, count) in rows {
            report.line(format!(
                "| {name} | {:.0} k | {:+.0} k ({:+.0} %) | {:.2}× |",
                count / 1e3,
                (count - native) / 1e3,
                100.0 * (count - native) / native,
                count / native
            ));
        }
    };
    table(
        report,
        native,
        &[
            (
                "plugin (component, fresh instance; the host's default layout: guard regions, no bounds checks)",
                plugin,
            ),
            (
                "plugin with explicit bounds checks (`RuntimeOptions::explicit_bounds_checks`; how this section counted until now)",
                explicit,
            ),
        ],
    );
    report.line(
        "\nThe default layout is counted with a pool of one memory per slot (`RuntimeOptions::memories_per_instance`), four slots, so that the guard regions fit the address space valgrind can map; the code the connectors run is the host's default code.",
    );
    report.line(format!(
        "\nValgrind counts a `rep stosb` or `rep movsb` once for every byte it stores, where the processor retires it as one instruction. glibc's `memset` and `memcpy` use them from about 2 KiB up, and resetting an instance for the next call is a `memset` of each page the call wrote (and a copy of the module's data into those it holds). The same counts with glibc told to use its vector loops at every size instead (`GLIBC_TUNABLES={VECTOR_STRINGS}`, both builds), each 32-byte store counted once:\n"
    ));
    table(
        report,
        native_vector,
        &[(
            "plugin (the host's default layout, as above)",
            plugin_vector,
        )],
    );
    cpu_section(report, plugins, cache)
}

/// Section 0b: CPU time per payment, each build in a process of its own.
pub(crate) fn cpu_section(report: &mut Report, plugins: &Path, cache: &Path) -> anyhow::Result<()> {
    report.line(format!(
        "\n## 0b. CPU time per payment (each build in a process of its own, {TIMED} payments one at a time after 100 to warm up)\n"
    ));
    report.line("`payhost-bench count --timed --mode plugin|native`: the process's CPU time (`getrusage`, user and system, every thread: the simulator and both HTTP stacks included, the same for both) and its wall time, divided by the payments; the host's default engine settings.\n");
    // Alternate, twice each, and keep each build's lower figure.
    let mut best = [(f64::MAX, f64::MAX); 2];
    for _ in 0..2 {
        for (k, plugin) in [(0, false), (1, true)] {
            let (cpu, wall) = timed(plugin, plugins, cache)?;
            best[k] = (best[k].0.min(cpu), best[k].1.min(wall));
        }
    }
    let [(n_cpu, n_wall), (p_cpu, p_wall)] = best;
    report.line("| build | CPU per payment | wall time per payment |");
    report.line("|---|---|---|");
    report.line(format!(
        "| native (same crates, in-process) | {n_cpu:.1} µs | {n_wall:.1} µs |"
    ));
    report.line(format!(
        "| plugin (component, fresh instance) | {p_cpu:.1} µs ({:+.1} µs) | {p_wall:.1} µs ({:+.1} µs) |",
        p_cpu - n_cpu,
        p_wall - n_wall
    ));
    Ok(())
}
