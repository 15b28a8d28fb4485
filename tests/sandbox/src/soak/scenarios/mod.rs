//! The scenarios, a file per kind of trouble.

mod crashes;
mod ground;
mod hangups;
mod inputs;
mod plugins;
mod postgres;

use super::ledger::{Ledger, verdict};
use super::stage::Stage;
use super::{Ctx, Row};
use std::time::Duration;

/// Runs the scenario called `name`.
pub(crate) async fn run(ctx: &Ctx, name: &'static str) -> anyhow::Result<Row> {
    match name {
        "sigkill" => crashes::sigkill(ctx).await,
        "sigterm" => crashes::sigterm(ctx).await,
        "hangups-64" => hangups::hangups(ctx, 64).await,
        "hangups-256" => hangups::hangups(ctx, 256).await,
        "pg-two-hosts-race" => postgres::race(ctx).await,
        "pg-host-killed" => postgres::host_killed(ctx).await,
        "pg-crash-3s" => postgres::outage(ctx, Duration::from_secs(3), 1).await,
        "pg-outage-25s" => postgres::outage(ctx, Duration::from_secs(25), 2).await,
        "sqlite-locked-12s" => ground::locked(ctx, Duration::from_secs(12)).await,
        "sqlite-locked-25s" => ground::locked(ctx, Duration::from_secs(25)).await,
        "full-disk" => ground::full_disk(ctx).await,
        "journal-deleted" => ground::deleted(ctx, &["payhost.db", "payhost.db-wal"]).await,
        "wal-deleted" => ground::deleted(ctx, &["payhost.db-wal"]).await,
        "bad-inputs" => inputs::bad_inputs(ctx).await,
        "slowloris" => inputs::slowloris(ctx).await,
        "plugin-faults" => plugins::faults(ctx).await,
        _ => anyhow::bail!("no scenario is called {name:?}"),
    }
}

/// The row of a scenario whose hosts are quiet: waits `lease` and a second
/// (an attempt of a killed host is swept once its lease lapses), then
/// counts; `wrong` adds what the scenario itself found wrong.
pub(crate) async fn settle(
    ctx: &Ctx,
    scenario: &'static str,
    stage: &Stage,
    ledger: &Ledger,
    lease: Duration,
    wrong: u64,
    note: String,
) -> anyhow::Result<Row> {
    tokio::time::sleep(lease + Duration::from_secs(1)).await;
    let (orders, mut tally) = verdict(ctx, stage, ledger).await?;
    tally.wrong += wrong;
    Ok(Row {
        scenario,
        orders,
        requests: ledger.requests(),
        tally,
        elapsed: Duration::ZERO,
        note,
    })
}

/// The states clients were told, and what they met on the way, for a
/// note: `412 succeeded, 3 unknown (on the way: 40 journal_busy)`.
pub(crate) fn told(ledger: &Ledger) -> String {
    let told = ["succeeded", "pending", "failed", "unknown"]
        .iter()
        .map(|s| (ledger.told(s), s))
        .filter(|(n, _)| *n > 0)
        .map(|(n, s)| format!("{n} {s}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!("{told} (on the way: {})", ledger.refusals())
}
