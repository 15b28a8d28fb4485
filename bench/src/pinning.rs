//! What pinning and scrubbing cost per payment of each shipped connector,
//! beside assembling the same request, in one run.

use crate::connectors::{CONNECTORS, pay_native, request};
use crate::native::native_host;
use crate::report::Report;
use payhost_sandbox::demo;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

const ROUNDS: usize = 20_000;
/// Turns the payments are taken in, the connectors in rotation.
const TURNS: usize = 4;

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i].as_nanos() as f64 / 1000.0
}

/// Each connector's answer to a successful payment (its headers, names in
/// lower case, and its body), as the simulator, which answers as the
/// supplier's documents do, gives it to the connector's native build.
async fn answers() -> anyhow::Result<Vec<(Vec<(String, Vec<u8>)>, Vec<u8>)>> {
    let sim = payhost_sandbox::sim::Simulator::start().await?;
    let mut native = native_host(&sim.url(), sim.credentials());
    native.answers = Some(Mutex::new(Vec::new()));
    let native = Arc::new(native);
    payhost_sdk::native::install(native.clone());
    let mut answers = Vec::new();
    for (n, connector) in CONNECTORS.iter().enumerate() {
        anyhow::ensure!(
            pay_native(connector, request(connector, 1 + n as u64)).await,
            "{connector}: the payment whose answer is measured failed"
        );
        let answer = native
            .answers
            .as_ref()
            .and_then(|a| a.lock().unwrap_or_else(PoisonError::into_inner).pop())
            .ok_or_else(|| anyhow::anyhow!("{connector}: no answer was kept"))?;
        let headers = answer
            .headers
            .into_iter()
            .map(|(name, value)| (name, value.into_bytes()))
            .collect();
        answers.push((headers, answer.body));
    }
    Ok(answers)
}

/// Section 1e.
pub(crate) async fn section(report: &mut Report) -> anyhow::Result<()> {
    let answers = answers().await?;
    report.line(
        "\n## 1e. Pinning and scrubbing, per payment (the host's own work, 20,000 payments each, in 4 turns)\n",
    );
    report.line("Each payment of a pinned connector: the placement check of its request (the request written with placeholders and parsed by its content type), the call's scrubber for its card data and derived values, and its answer scrubbed (the simulator's answer to the connector's payment, its headers and body as the host reads them: the answer the supplier's documents give); beside it, assembling the same request from its parts, which the host did before. Target: pinning and scrubbing ≤ 3 µs p50.\n");
    report.line(
        "| connector | pin + scrub p50 | p99 | of which pin / build / scan p50 | assemble p50 (baseline) | p99 | target ≤ 3 µs |",
    );
    report.line("|---|---|---|---|---|---|---|");
    // In turns, the connectors in rotation, each turn a quarter of the
    // payments: a slow moment of the machine (the first second after the
    // section before it, say) is shared by the four rather than falling on
    // the first row.
    let mut costs: [Option<_>; 4] = [None, None, None, None];
    for turn in 0..TURNS {
        for (i, connector) in CONNECTORS.iter().enumerate() {
            let placements = demo::placement_specs(connector);
            let answer = (answers[i].0.as_slice(), answers[i].1.as_slice());
            if turn == 0 {
                // A warm-up.
                payhost::measure_sealing(connector, &placements, answer, 1_000);
            }
            let part = payhost::measure_sealing(connector, &placements, answer, ROUNDS / TURNS)
                .ok_or_else(|| anyhow::anyhow!("{connector}: its placements do not read"))?;
            match &mut costs[i] {
                None => costs[i] = Some(part),
                Some(cost) => {
                    cost.pin_and_scrub.extend(part.pin_and_scrub);
                    cost.pin.extend(part.pin);
                    cost.build.extend(part.build);
                    cost.scan.extend(part.scan);
                    cost.assemble.extend(part.assemble);
                }
            }
        }
    }
    for (connector, cost) in CONNECTORS.iter().zip(costs) {
        let mut cost = cost.expect("every connector measured");
        for times in [
            &mut cost.pin_and_scrub,
            &mut cost.pin,
            &mut cost.build,
            &mut cost.scan,
            &mut cost.assemble,
        ] {
            times.sort_unstable();
        }
        let p50 = percentile(&cost.pin_and_scrub, 0.5);
        report.line(format!(
            "| {connector} | {p50:.2} µs | {:.2} µs | {:.2} / {:.2} / {:.2} µs | {:.2} µs | {:.2} µs | {} |",
            percentile(&cost.pin_and_scrub, 0.99),
            percentile(&cost.pin, 0.5),
            percentile(&cost.build, 0.5),
            percentile(&cost.scan, 0.5),
            percentile(&cost.assemble, 0.5),
            percentile(&cost.assemble, 0.99),
            if p50 <= 3.0 { "met" } else { "missed" }
        ));
    }
    Ok(())
}
