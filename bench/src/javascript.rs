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

/// Section 6; says so and moves on when the JavaScript connector was not
/// built (`cargo xtask test` builds it).
pub(crate) async fn section(
    report: &mut Report,
    sim: &Simulator,
    rust: &Path,
    js: &Path,
) -> anyhow::Result<()> {
    report.line("\n## 6. A JavaScript connector beside Rust (Atlas, balance payments)\n");
    if !js.is_file() {
        report.line(format!(
            "{} is not built (`cargo xtask test` builds it with componentize-qjs); not measured.",
            js.display()
        ));
        return Ok(());
    }
    let (rust_dir, js_dir) = (private_tempdir()?, private_tempdir()?);
    let (_, rust_load) = host(sim, rust, "atlas", rust_dir.path()).await?;
    let (_, js_load) = host(sim, js, "atlas-js", js_dir.path()).await?;
    let (rust_host, rust_warm) = host(sim, rust, "atlas", rust_dir.path()).await?;
    let (js_host, js_warm) = host(sim, js, "atlas-js", js_dir.path()).await?;
    let rust_pay = per_payment(&rust_host, "atlas", 300, "r").await?;
    let js_pay = per_payment(&js_host, "atlas-js", 300, "j").await?;
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0) as f64 / 1e6;
    report.line(
        "| connector | file | cold load (compile) | warm load (compile cache) | payment p50 through `Host::pay` |",
    );
    report.line("|---|---|---|---|---|");
    report.line(format!(
        "| Rust (`plugins/atlas`) | {:.2} MB | {:.0} ms | {:.1} ms | {:.0} µs |",
        size(rust),
        rust_load.as_secs_f64() * 1e3,
        rust_warm.as_secs_f64() * 1e3,
        us(rust_pay)
    ));
    report.line(format!(
        "| JavaScript (`plugins/examples/atlas-js`, componentize-qjs) | {:.2} MB | {:.0} ms | {:.1} ms | {:.0} µs |",
        size(js),
        js_load.as_secs_f64() * 1e3,
        js_warm.as_secs_f64() * 1e3,
        us(js_pay)
    ));
    Ok(())
}
