//! Clients that hang up before their payment ends.

use super::super::client::{Pay, hang_up, http};
use super::super::ledger::{Answer, Ledger};
use super::super::stage::{Stage, free_port};
use super::super::{Ctx, Row};
use super::settle;
use futures::StreamExt as _;
use std::time::Duration;

/// Clients in the scenario.
const CLIENTS: usize = 3_000;

/// 3,000 clients, `connections` at once, each hanging up after 0–60 ms;
/// one payment in ten takes 2 s at its supplier, so many hang up mid-call.
pub(super) async fn hangups(ctx: &Ctx, connections: usize) -> anyhow::Result<Row> {
    let lease = Duration::from_secs(2);
    let stage = Stage::new(ctx, "lease = \"2s\"\njournal_wait = \"500ms\"", "")?;
    let server = stage.serve(free_port()?, false).await?;
    let ledger = Ledger::default();
    let http = http();
    let payments: Vec<Pay> = (0..CLIENTS).map(|_| Pay::any(ctx, 10)).collect();
    futures::stream::iter(payments.iter().map(|p| {
        let after = Duration::from_millis(ctx.below(60));
        hang_up(&http, &server.url, p, after, &ledger)
    }))
    .buffer_unordered(connections)
    .collect::<Vec<()>>()
    .await;
    // The slow payments finish at their supplier after their clients left.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let hung_up = ledger
        .all()
        .iter()
        .filter(|s| s.answer == Answer::HungUp)
        .count();
    let scenario = if connections == 64 {
        "hangups-64"
    } else {
        "hangups-256"
    };
    let note = format!("{hung_up} of {CLIENTS} hung up before their answer");
    settle(ctx, scenario, &stage, &ledger, lease, 0, note).await
}
