//! `payhost-bench`: what a connector costs as a sandboxed component next to
//! the same code compiled natively, and how the host scales. Prints the
//! figures and writes them to BENCHMARKS.md.
//!
//! `payhost-bench [--plugins DIR] [--probes DIR] [--cache DIR] [--out FILE] [--only instructions|cpu|latency|bounds|sealing|guards|pinning|throughput|durable|javascript|load]`;
//! `rss` and `rss-inflight` are the child processes that measure resident
//! memory. The hand-written `bench/ANALYSIS.md` is appended to the report.

mod durable;
mod guards;
mod instructions;
mod javascript;
mod native;
mod pinning;
mod process;

use anyhow::Context as _;
use native::{Native, as_connector};
use payhost::{Host, Money, PaymentMethod, PaymentRequest, PaymentState, RuntimeOptions, Settings};
use payhost_sandbox::demo;
use payhost_sandbox::sim::{Credentials, Simulator};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Payments run concurrently and allocate on every worker thread; glibc's
/// allocator serialises them on its arena lock, mimalloc keeps per-thread heaps.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub(crate) const CONNECTORS: [&str; 4] = ["atlas", "hkramble", "aerohub", "nemo"];

/// An order id that pays once at the simulator: `n` keeps it unique.
pub(crate) fn order(connector: &str, n: u64) -> String {
    match connector {
        "atlas" => format!("ATL-OK-b{n}"),
        "hkramble" => format!("HKR-OK-b{n}"),
        "aerohub" => format!("AH-OK-b{n}"),
        _ => format!("{}", 100_000 + (n % 100_000)),
    }
}

pub(crate) fn request(connector: &str, n: u64) -> PaymentRequest {
    let currency = if connector == "nemo" { "RUB" } else { "USD" };
    PaymentRequest {
        order_id: order(connector, n),
        client_order_id: Some(format!("PLT-{n}")),
        method: PaymentMethod::Balance,
        amount: Money {
            amount: "312.99".into(),
            currency: currency.into(),
        },
        idempotency_key: format!("bench-{connector}-{n}"),
        attributes: BTreeMap::new(),
    }
}

fn sdk_request(r: &PaymentRequest) -> payhost_sdk::PaymentRequest {
    payhost_sdk::PaymentRequest {
        order_id: r.order_id.clone(),
        client_order_id: r.client_order_id.clone(),
        method: payhost_sdk::PaymentMethod::Balance,
        amount: payhost_sdk::Money::new(r.amount.amount.clone(), r.amount.currency.clone()),
        idempotency_key: r.idempotency_key.clone(),
        attributes: Vec::new(),
    }
}

/// One payment through the native build of `connector`, on a blocking thread
/// as a synchronous connector runs in an async server.
pub(crate) async fn pay_native(connector: &'static str, r: PaymentRequest) -> bool {
    tokio::task::spawn_blocking(move || {
        let request = sdk_request(&r);
        let outcome = as_connector(connector, || match connector {
            "atlas" => <payhost_atlas::Atlas as payhost_sdk::Connector>::pay(request),
            "hkramble" => <payhost_hkramble::HkRamble as payhost_sdk::Connector>::pay(request),
            "aerohub" => <payhost_aerohub::AeroHub as payhost_sdk::Connector>::pay(request),
            _ => <payhost_nemo::Nemo as payhost_sdk::Connector>::pay(request),
        });
        outcome.state == payhost_sdk::PaymentState::Succeeded
    })
    .await
    .unwrap_or(false)
}

async fn pay_plugin(host: &Host, connector: &str, r: PaymentRequest) -> bool {
    matches!(host.pay(connector, r).await, Ok(o) if o.state == PaymentState::Succeeded)
}

pub(crate) fn percentile(samples: &mut [Duration], q: f64) -> Duration {
    samples.sort();
    samples
        .get(((samples.len() as f64 - 1.0) * q).round() as usize)
        .copied()
        .unwrap_or_default()
}

pub(crate) fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The native baseline's config and secrets, the same the host gets, for
/// the simulator at `url` with credentials `c`.
pub(crate) fn native_host(url: &str, c: &Credentials) -> Native {
    let url = url.to_owned();
    let mut config = HashMap::new();
    let mut secrets = HashMap::new();
    let cfg = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>()
    };
    let sec = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.as_bytes().to_vec()))
            .collect::<HashMap<_, _>>()
    };
    config.insert(
        "atlas",
        cfg(&[("base_url", &url), ("request_source", "payhost-demo")]),
    );
    config.insert(
        "hkramble",
        cfg(&[("base_url", &url), ("partner_id", &c.hk_partner_id)]),
    );
    config.insert(
        "aerohub",
        cfg(&[("base_url", &url), ("api_key", &c.aerohub_key)]),
    );
    config.insert(
        "nemo",
        cfg(&[("base_url", &url), ("client_id", &c.nemo_client_id)]),
    );
    secrets.insert(
        "atlas",
        sec(&[
            ("client_id", &c.atlas_client_id),
            ("client_secret", &c.atlas_client_secret),
        ]),
    );
    secrets.insert("hkramble", sec(&[("secret_key", &c.hk_secret_key)]));
    secrets.insert("aerohub", sec(&[("api_secret", &c.aerohub_secret)]));
    secrets.insert(
        "nemo",
        sec(&[
            ("api_key", &c.nemo_api_key),
            ("security_key", &c.nemo_security_key),
        ]),
    );
    Native {
        client: payhost::http_client(),
        handle: tokio::runtime::Handle::current(),
        config,
        secrets,
    }
}

fn plugin_files(dir: &Path) -> Vec<PathBuf> {
    CONNECTORS
        .iter()
        .map(|n| dir.join(format!("{n}.wasm")))
        .collect()
}

/// The report, printed as it is written.
pub(crate) struct Report {
    lines: Vec<String>,
}

impl Report {
    pub(crate) fn line(&mut self, text: impl Into<String>) {
        let text = text.into();
        println!("{text}");
        self.lines.push(text);
    }
}

/// Per-payment latency, plugin against native, sequentially.
async fn latency(report: &mut Report, host: &Host, process: &process::Process, seq: &AtomicU64) {
    const N: usize = 400;
    report.line("\n## 1. Per-payment latency, one at a time (fresh instance per plugin payment)\n");
    report.line("Plugin: the component through `Host::pay`. Native: the same crate compiled for this machine, called in-process. Process: the same native crate in a process of its own behind loopback HTTP, called once per payment (the isolation teams use today).\n");
    report.line("| connector | plugin p50 | plugin p99 | native p50 | native p99 | process p50 | process p99 | host overhead p50 (plugin − native) | plugin − process p50 |");
    report.line("|---|---|---|---|---|---|---|---|---|");
    for connector in CONNECTORS {
        let (mut plugin, mut native, mut proc_samples) = (Vec::new(), Vec::new(), Vec::new());
        // Plugin and native interleaved, alternating which goes first, so
        // both see the same machine state. The process baseline runs in a
        // pass of its own: its process winding down after each payment
        // shares the two cores with whatever this process does next
        // (measured: about +60 µs p50 for a payment right after one).
        for i in 0..N + 50 {
            for k in 0..2 {
                let r = request(connector, seq.fetch_add(1, Ordering::Relaxed));
                let t = Instant::now();
                let (ok, samples) = if (i + k) % 2 == 0 {
                    (pay_plugin(host, connector, r).await, &mut plugin)
                } else {
                    (pay_native(connector, r).await, &mut native)
                };
                assert!(ok, "{connector} payment failed");
                if i >= 50 {
                    samples.push(t.elapsed());
                }
            }
        }
        for i in 0..N + 50 {
            let r = request(connector, seq.fetch_add(1, Ordering::Relaxed));
            let t = Instant::now();
            assert!(
                process.pay(connector, &r).await,
                "{connector} payment through the connector process failed"
            );
            if i >= 50 {
                proc_samples.push(t.elapsed());
            }
        }
        let (p50, p99, n50, n99, c50, c99) = (
            percentile(&mut plugin, 0.5),
            percentile(&mut plugin, 0.99),
            percentile(&mut native, 0.5),
            percentile(&mut native, 0.99),
            percentile(&mut proc_samples, 0.5),
            percentile(&mut proc_samples, 0.99),
        );
        report.line(format!(
            "| {connector} | {:.0} µs | {:.0} µs | {:.0} µs | {:.0} µs | {:.0} µs | {:.0} µs | {:+.0} µs | {:+.0} µs |",
            us(p50), us(p99), us(n50), us(n99), us(c50), us(c99), us(p50) - us(n50), us(p50) - us(c50)
        ));
    }
    // A fresh instance and one call, no I/O: Atlas's query() answers `unsupported` at once.
    let mut calls = Vec::new();
    for i in 0..2000 {
        let t = Instant::now();
        let _ = host.query("atlas", "ATL-x").await;
        if i >= 200 {
            calls.push(t.elapsed());
        }
    }
    report.line(format!(
        "\nInstantiate + one call with no I/O (Atlas `query`, {} calls): p50 {:.1} µs, p99 {:.1} µs.",
        calls.len(),
        us(percentile(&mut calls, 0.5)),
        us(percentile(&mut calls, 0.99))
    ));
}

/// The engine's bounds checks: guard regions (the default) against
/// explicit checks, for the same Atlas payment and `query`, in one run.
async fn bounds_checks(
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

/// What sealing costs: the same payment through a connector built for the
/// frozen 0.1.0 (its MD5 over a secret comes back as bytes and the connector
/// writes the hex) and through its 0.3.0 twin (the MD5 is sealed and the
/// host writes it), interleaved, against one loopback recorder.
async fn sealing(report: &mut Report, probes: &Path, cache: &Path) -> anyhow::Result<()> {
    const N: usize = 4000;
    let supplier = payhost_sandbox::recorder::Recorder::start().await?;
    let dir = tempfile::tempdir()?;
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins)?;
    for (name, file) in [
        ("legacy-probe", "legacy_probe.wasm"),
        ("sealed-probe", "sealed_probe.wasm"),
    ] {
        std::fs::copy(probes.join(file), plugins.join(format!("{name}.wasm")))
            .with_context(|| format!("{} is missing: run `cargo xtask bench`", file))?;
    }
    let token = dir.path().join("token");
    std::fs::write(&token, "bench-token-0123456789")?;
    let section = |name: &str| {
        format!(
            "[connectors.{name}]\nbase_url = {url:?}\nallowed_hosts = [{url:?}]\nsecrets = {{ token = {{ file = {token:?} }} }}\nunpinned = true\n",
            url = supplier.url(),
            token = token.display().to_string(),
        )
    };
    let config = format!("{}\n{}", section("legacy-probe"), section("sealed-probe"));
    let host = host_with_cache(cache, &plugins, &config)?;
    for loaded in host.load_plugins().await {
        loaded.map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let (mut legacy, mut sealed) = (Vec::new(), Vec::new());
    for i in 0..N + 200 {
        // Alternate which goes first, so neither always meets a warmer cache.
        let mut pair = [("legacy-probe", &mut legacy), ("sealed-probe", &mut sealed)];
        if i % 2 == 1 {
            pair.reverse();
        }
        for (name, samples) in pair {
            let mut r = request("atlas", i as u64);
            r.order_id = format!("S-{i}");
            r.idempotency_key = format!("{name}-{i}");
            let t = Instant::now();
            let outcome = host.pay(name, r).await?;
            anyhow::ensure!(
                outcome.state == PaymentState::Succeeded,
                "{name}: {outcome:?}"
            );
            if i >= 200 {
                samples.push(t.elapsed());
            }
        }
    }
    let (l50, l99, s50, s99) = (
        percentile(&mut legacy, 0.5),
        percentile(&mut legacy, 0.99),
        percentile(&mut sealed, 0.5),
        percentile(&mut sealed, 0.99),
    );
    report.line("\n## 1b. What sealing costs (same payment, 0.1.0 against 0.3.0, interleaved)\n");
    report.line(format!("Each payment signs with the MD5 of a secret and sends it in a header to a loopback recorder; {N} payments each, after 200 to warm up, alternating which goes first.\n"));
    report.line("| connector | what the connector holds | p50 | p99 |");
    report.line("|---|---|---|---|");
    report.line(format!(
        "| legacy-probe (0.1.0, before) | the MD5 as bytes; writes the hex itself | {:.1} µs | {:.1} µs |",
        us(l50),
        us(l99)
    ));
    report.line(format!(
        "| sealed-probe (0.3.0, after) | a sealed handle; the host writes the hex | {:.1} µs | {:.1} µs |",
        us(s50),
        us(s99)
    ));
    report.line(format!(
        "\nSealing costs {:+.1} µs p50 per payment ({:+.1} %).",
        us(s50) - us(l50),
        100.0 * (us(s50) - us(l50)) / us(l50)
    ));
    Ok(())
}

/// Payments per second at a concurrency, round-robin over the four connectors.
/// Which build a throughput figure runs.
#[derive(Clone, Copy)]
enum Build {
    Plugin,
    Native,
    Process,
}

async fn throughput(
    host: &Arc<Host>,
    process: &Arc<process::Process>,
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

/// A copy of `atlas.wasm` that declares the name `name` (five characters).
fn renamed(atlas: &[u8], name: &str) -> Vec<u8> {
    assert_eq!(name.len(), 5);
    let mut bytes = atlas.to_vec();
    let mut i = 0;
    while i + 5 <= bytes.len() {
        if &bytes[i..i + 5] == b"atlas" {
            bytes[i..i + 5].copy_from_slice(name.as_bytes());
            i += 5;
        } else {
            i += 1;
        }
    }
    bytes
}

/// A temporary directory only this user may use: the compile cache
/// refuses one that others may read or write.
pub(crate) fn private_tempdir() -> anyhow::Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(dir)
}

fn host_with_cache(cache: &Path, plugins: &Path, extra_config: &str) -> anyhow::Result<Host> {
    let mut settings = Settings::parse(extra_config).map_err(|e| anyhow::anyhow!(e))?;
    settings.host.plugins = plugins.to_owned();
    settings.host.cache = cache.to_owned();
    Host::new(
        settings,
        &RuntimeOptions {
            cache_dir: Some(cache.to_owned()),
            max_instances: 128,
            ..RuntimeOptions::default()
        },
    )
    .map_err(|e| anyhow::anyhow!("{e:#}"))
}

async fn load_times(report: &mut Report, plugins: &Path, sim: &Simulator) -> anyhow::Result<()> {
    report.line("\n## 3. Load time\n");
    // The connector sections of the demo's payhost.toml; the host section is set here.
    let config = demo::config(&sim.url(), Path::new("unused"), "");
    let config = config
        .find("[connectors.")
        .map(|i| config[i..].to_owned())
        .unwrap_or_default();
    let secrets_dir = tempfile::tempdir()?;
    demo::write_secrets(secrets_dir.path(), sim.credentials())?;
    let config = config.replace(
        "\"secrets/",
        &format!("\"{}/secrets/", secrets_dir.path().display()),
    );
    let one = tempfile::tempdir()?;
    std::fs::copy(plugins.join("atlas.wasm"), one.path().join("atlas.wasm"))?;
    let (mut cold, mut warm) = (Vec::new(), Vec::new());
    for round in 0..5 {
        let cache = private_tempdir()?;
        for (i, samples) in [&mut cold, &mut warm].into_iter().enumerate() {
            let t = Instant::now();
            let host = host_with_cache(cache.path(), one.path(), &config)?;
            host.load_file(&one.path().join("atlas.wasm")).await?;
            let ok = pay_plugin(
                &host,
                "atlas",
                request("atlas", 900_000 + round * 2 + i as u64),
            )
            .await;
            anyhow::ensure!(ok, "the first payment failed");
            samples.push(t.elapsed());
        }
    }
    report.line("| what | cold (compile) | warm (compile cache) |");
    report.line("|---|---|---|");
    report.line(format!(
        "| atlas.wasm to its first successful payment (engine start included; median of 5) | {:.1} ms | {:.1} ms |",
        ms(percentile(&mut cold, 0.5)),
        ms(percentile(&mut warm, 0.5))
    ));
    // 4 and 100 connectors at start.
    let hundred = tempfile::tempdir()?;
    let atlas = std::fs::read(plugins.join("atlas.wasm"))?;
    for i in 0..100 {
        std::fs::write(
            hundred.path().join(format!("c{i:04}.wasm")),
            renamed(&atlas, &format!("c{i:04}")),
        )?;
    }
    for (label, dir) in [
        ("the 4 connectors", plugins.to_owned()),
        (
            "100 connectors (copies of Atlas, each its own name and hash)",
            hundred.path().to_owned(),
        ),
    ] {
        let cache = private_tempdir()?;
        let (mut times, mut cold_functions) = (Vec::new(), None);
        for _ in 0..2 {
            let t = Instant::now();
            let host = host_with_cache(cache.path(), &dir, "")?;
            let loaded = host.load_plugins().await;
            anyhow::ensure!(
                loaded.iter().all(Result::is_ok),
                "a connector failed to load: {:?}",
                loaded.iter().find_map(|r| r.as_ref().err())
            );
            times.push(t.elapsed());
            // The cold load's counts; the warm one compiles nothing.
            cold_functions.get_or_insert(host.runtime().compiled_functions());
        }
        let (reused, compiled) = cold_functions.unwrap_or_default();
        report.line(format!(
            "| loading {label} at start ({compiled} functions compiled, {reused} reused from another connector's compile) | {:.0} ms | {:.0} ms |",
            ms(times[0]),
            ms(times[1])
        ));
    }
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
async fn rss_child(plugins: &Path, count: usize, cache: &Path) -> anyhow::Result<()> {
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
async fn rss_inflight_child(plugins: &Path, cache: &Path) -> anyhow::Result<()> {
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

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kib| kib >> 20);
    format!(
        "{cores} cores ({cpu}), {mem} GiB, {} {}",
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let plugins = PathBuf::from(arg("--plugins").unwrap_or_else(|| "target/plugins".into()));
    let cache = PathBuf::from(arg("--cache").unwrap_or_else(|| "target/bench-cache".into()));
    match args.first().map(String::as_str) {
        Some("rss") => {
            return rss_child(
                &plugins,
                arg("--count").and_then(|c| c.parse().ok()).unwrap_or(0),
                &cache,
            )
            .await;
        }
        Some("rss-inflight") => return rss_inflight_child(&plugins, &cache).await,
        Some("count") => {
            return instructions::child(
                &plugin_files(&plugins),
                &cache,
                arg("--mode").as_deref() == Some("plugin"),
                arg("--n").and_then(|n| n.parse().ok()).unwrap_or(0),
                args.iter().any(|a| a == "--timed"),
            )
            .await;
        }
        Some("connector-process") => {
            return process::child(&arg("--sim").unwrap_or_default()).await;
        }
        _ => {}
    }
    let out = PathBuf::from(arg("--out").unwrap_or_else(|| "BENCHMARKS.md".into()));
    for f in plugin_files(&plugins) {
        anyhow::ensure!(
            f.exists(),
            "{} is missing: run `cargo xtask bench`",
            f.display()
        );
    }
    let started = Instant::now();
    let mut report = Report { lines: Vec::new() };
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
    let only = arg("--only");
    let run = |part: &str| only.as_deref().is_none_or(|o| o == part);
    if run("instructions") {
        instructions::section(&mut report, &plugins, &cache)?;
    } else if only.as_deref() == Some("cpu") {
        instructions::cpu_section(&mut report, &plugins, &cache)?;
    }
    let process = process::Process::start(&setup.sim.url())?;
    if run("latency") {
        latency(&mut report, &host, &process, &seq).await;
    }
    if run("bounds") {
        bounds_checks(&mut report, &setup.sim, &plugins, &cache, &seq).await?;
    }
    if run("sealing") {
        let probes = PathBuf::from(
            arg("--probes").unwrap_or_else(|| "target/guests/wasm32-wasip2/guest".into()),
        );
        sealing(&mut report, &probes, &cache).await?;
    }
    if run("guards") {
        guards::section(&mut report)?;
    }
    if run("pinning") {
        pinning::section(&mut report)?;
    }

    if run("throughput") {
        let process = Arc::new(process);
        report.line("\n## 2. Throughput through `Host::pay` (round-robin over the four connectors, 3 s per figure)\n");
        report.line("| concurrency | plugin payments/s | native payments/s | process payments/s | plugin / native | plugin / process |");
        report.line("|---|---|---|---|---|---|");
        for c in [1, 8, 64] {
            let window = Duration::from_secs(3);
            let p = throughput(&host, &process, Build::Plugin, c, &seq, window).await;
            let n = throughput(&host, &process, Build::Native, c, &seq, window).await;
            let q = throughput(&host, &process, Build::Process, c, &seq, window).await;
            report.line(format!(
                "| {c} | {p:.0} | {n:.0} | {q:.0} | {:.0} % | {:.0} % |",
                100.0 * p / n,
                100.0 * p / q
            ));
        }
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
            Path::new("target/plugins-js/atlas-js.wasm"),
        )
        .await?;
    }
    if run("load") {
        load_times(&mut report, &plugins, &setup.sim).await?;
    }
    if only.is_some() {
        return Ok(());
    }

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
    report.line(format!(
        "\nThe whole run took {:.0} s.",
        started.elapsed().as_secs_f64()
    ));

    let mut text = report.lines.join("\n");
    text.push('\n');
    if let Ok(analysis) =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ANALYSIS.md"))
    {
        text.push('\n');
        text.push_str(&analysis);
    }
    std::fs::write(&out, text).with_context(|| format!("writing {}", out.display()))?;
    println!("\nwritten to {}", out.display());
    Ok(())
}
