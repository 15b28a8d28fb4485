//! Section 6: the JavaScript connector (componentize-qjs) beside the Rust
//! one for the same supplier: file size, cold and warm load time, and the
//! cost of a payment through `Host::pay` against the same simulator.

use crate::hosts::private_tempdir;
use crate::report::{Report, percentile, us};
use payhost::{Host, PaymentState, RuntimeOptions, Settings};
use payhost_sandbox::demo;
use payhost_sandbox::sim::{Credentials, Simulator};
use std::path::Path;
use std::time::{Duration, Instant};

/// A host with the connector in `file` loaded as `name` under Atlas's
/// demo section, with `dir`'s compile cache: the first load in a `dir` is a
/// cold compile, a second one warm.
async fn host(
    sim: &Simulator,
    file: &Path,
    name: &str,
    dir: &Path,
) -> anyhow::Result<(Host, Duration)> {
    demo::write_secrets(dir, &Credentials::default())?;
    let cache = dir.join("cache");
    let config = demo::config(&sim.url(), &cache, "");
    let atlas = &config[config
        .find("[connectors.atlas]")
        .ok_or_else(|| anyhow::anyhow!("no atlas section"))?..];
    let section = &atlas[..atlas.find("\n[").unwrap_or(atlas.len())];
    let text = section
        .replace("[connectors.atlas]", &format!("[connectors.{name}]"))
        .replace("secrets/", &format!("{}/secrets/", dir.display()));
    let mut settings = Settings::parse(&text).map_err(|e| anyhow::anyhow!(e))?;
    settings.host.cache = cache.clone();
    let host = Host::new(
        settings,
        &RuntimeOptions {
            cache_dir: Some(cache),
            max_instances: 16,
            ..RuntimeOptions::default()
        },
    )
    .map_err(|e| anyhow::anyhow!("{e:#}"))?;
    let started = Instant::now();
    host.load_file(file)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((host, started.elapsed()))
}

/// p50 of `n` payments through `host`'s connector `name`, one at a time.
async fn per_payment(host: &Host, name: &str, n: usize, tag: &str) -> anyhow::Result<Duration> {
    let mut samples = Vec::new();
    for i in 0..n + 20 {
        let mut r = crate::connectors::request("atlas", 0);
        r.order_id = format!("ATL-OK-{tag}{i}");
        r.idempotency_key = format!("js-{tag}-{i}");
        let t = Instant::now();
        let outcome = host
            .pay(name, r)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        anyhow::ensure!(
            outcome.state == PaymentState::Succeeded,
            "{name}: {outcome:?}"
        );
        if i >= 20 {
            samples.push(t.elapsed());
        }
    }
    Ok(percentile(&mut samples, 0.5))
}

/// Section 6: each JavaScript build in `js` (its file and how it was
/// built) beside the Rust connector; says so and moves on when the
/// JavaScript connector was not built (`cargo xtask test` builds it).
pub(crate) async fn section(
    report: &mut Report,
    sim: &Simulator,
    rust: &Path,
    js: &[(&Path, &str)],
) -> anyhow::Result<()> {
    report.line("\n## 6. A JavaScript connector beside Rust (Atlas, balance payments)\n");
    if let Some((missing, _)) = js.iter().find(|(file, _)| !file.is_file()) {
        report.line(format!(
            "{} is not built (`cargo xtask test` builds it with componentize-qjs); not measured.",
            missing.display()
        ));
        return Ok(());
    }
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0) as f64 / 1e6;
    report.line(
        "| connector | file | cold load (compile) | warm load (compile cache) | payment p50 through `Host::pay` |",
    );
    report.line("|---|---|---|---|---|");
    let mut rows = vec![(rust, "atlas", "Rust (`plugins/atlas`)".to_owned())];
    rows.extend(js.iter().map(|(file, how)| {
        (
            *file,
            "atlas-js",
            format!("JavaScript (`plugins/examples/atlas-js`, {how})"),
        )
    }));
    for (i, (file, name, label)) in rows.into_iter().enumerate() {
        let dir = private_tempdir()?;
        let (_, cold) = host(sim, file, name, dir.path()).await?;
        let (warm_host, warm) = host(sim, file, name, dir.path()).await?;
        let pay = per_payment(&warm_host, name, 300, &format!("x{i}")).await?;
        report.line(format!(
            "| {label} | {:.2} MB | {:.0} ms | {:.1} ms | {:.0} µs |",
            size(file),
            cold.as_secs_f64() * 1e3,
            warm.as_secs_f64() * 1e3,
            us(pay)
        ));
    }
    Ok(())
}
