//! Section 1b: what sealing costs, the same payment through a connector
//! built for the frozen 0.1.0 and through its 0.3.0 twin.

use crate::connectors::request;
use crate::hosts::host_with_cache;
use crate::report::{Report, percentile, us};
use anyhow::Context as _;
use payhost::PaymentState;
use std::path::Path;
use std::time::Instant;

/// What sealing costs: the same payment through a connector built for the
/// frozen 0.1.0 (its MD5 over a secret comes back as bytes and the connector
/// writes the hex) and through its 0.3.0 twin (the MD5 is sealed and the
/// host writes it), interleaved, against one loopback recorder.
pub(crate) async fn section(
    report: &mut Report,
    probes: &Path,
    cache: &Path,
) -> anyhow::Result<()> {
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
