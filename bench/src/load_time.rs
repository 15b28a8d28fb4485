//! Section 3: load time, a connector file to its first successful payment
//! with a cold and a warm compile cache, and 4 and 100 connectors at start.

use crate::connectors::{pay_plugin, request};
use crate::hosts::{host_with_cache, host_with_options, private_tempdir, renamed};
use crate::report::{Report, ms, percentile};
use payhost_sandbox::demo;
use payhost_sandbox::sim::Simulator;
use std::path::Path;
use std::time::Instant;

/// Section 3.
pub(crate) async fn section(
    report: &mut Report,
    plugins: &Path,
    sim: &Simulator,
) -> anyhow::Result<()> {
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
    // The same 100 as if they shared nothing: no function of one reused for
    // another, so each is compiled whole.
    report.line(
        "\n100 connectors that share nothing (the copies above, each compiled whole: no function reused between them), from a cold start:\n",
    );
    report.line("| compiler | all 100 serving | all 100 on optimised code |");
    report.line("|---|---|---|");
    for (label, tiered) in [
        ("Cranelift only", false),
        (
            "tiered (`payhost serve`'s default): Winch first, Cranelift in the background, swapped in by a scan",
            true,
        ),
    ] {
        let cache = private_tempdir()?;
        let options = payhost::RuntimeOptions {
            max_instances: 128,
            share_functions: false,
            tiered,
            ..payhost::RuntimeOptions::default()
        };
        let t = Instant::now();
        let host = host_with_options(cache.path(), hundred.path(), "", options)?;
        let loaded = host.load_plugins().await;
        anyhow::ensure!(
            loaded.iter().all(Result::is_ok),
            "a connector failed to load: {:?}",
            loaded.iter().find_map(|r| r.as_ref().err())
        );
        let serving = t.elapsed();
        let optimised = if tiered {
            while host.runtime().tiering_pending() > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            // The scan the watcher would run: it swaps the optimised code in.
            let swapped = host.load_plugins().await;
            anyhow::ensure!(swapped.iter().all(Result::is_ok), "a swap failed");
            let baseline = host
                .connectors()
                .iter()
                .filter(|c| c.cache == payhost::CacheOutcome::Baseline)
                .count();
            anyhow::ensure!(
                baseline == 0,
                "{baseline} connectors still on baseline code"
            );
            t.elapsed()
        } else {
            serving
        };
        report.line(format!(
            "| {label} | {:.0} ms | {:.0} ms |",
            ms(serving),
            ms(optimised)
        ));
    }
    Ok(())
}
