//! Hosts sharing one PostgreSQL journal: racing for the same orders, one
//! killed under load, and the database down for a moment or past the lease.

use super::super::client::{Pay, http, load, pay};
use super::super::ledger::Ledger;
use super::super::stage::{Serve, Stage, free_port};
use super::super::{Ctx, Row};
use super::{settle, told};
use futures::StreamExt as _;
use std::time::{Duration, Instant};

/// A stage whose journal is a fresh database on the shared server.
async fn stage(ctx: &Ctx, host: &str) -> anyhow::Result<Stage> {
    let pg = ctx.pg().await?;
    let url = pg.database().map_err(|e| anyhow::anyhow!("{e}"))?;
    Stage::new(ctx, &format!("journal = \"{url}\"\n{host}"), "")
}

/// Two hosts, each started on its own port.
async fn two(stage: &Stage) -> anyhow::Result<(Serve, Serve)> {
    Ok((
        stage.serve(free_port()?, false).await?,
        stage.serve(free_port()?, false).await?,
    ))
}

/// 300 orders, each asked of both hosts at once under two keys: one pays,
/// the other is refused.
pub(super) async fn race(ctx: &Ctx) -> anyhow::Result<Row> {
    let lease = Duration::from_secs(3);
    let stage = stage(ctx, "lease = \"3s\"\njournal_wait = \"1s\"").await?;
    let (a, b) = two(&stage).await?;
    let ledger = Ledger::default();
    let http = http();
    let until = Instant::now() + Duration::from_secs(120);
    let (ha, hb) = (vec![a.url.clone()], vec![b.url.clone()]);
    let pairs: Vec<(Pay, Pay)> = (0..300)
        .map(|_| {
            let p = Pay::any(ctx, 0);
            let q = p.rekeyed(ctx);
            (p, q)
        })
        .collect();
    futures::stream::iter(pairs.iter().map(|(p, q)| async {
        tokio::join!(
            pay(&http, &ha, p, until, &ledger),
            pay(&http, &hb, q, until, &ledger)
        );
    }))
    .buffer_unordered(16)
    .collect::<Vec<()>>()
    .await;
    let note = format!(
        "300 orders asked of both hosts; clients told {}; {} refused order_busy",
        told(&ledger),
        ledger.refused("order_busy")
    );
    settle(ctx, "pg-two-hosts-race", &stage, &ledger, lease, 0, note).await
}

/// Two hosts under load; one SIGKILLed after 1.5 s; its clients carry on
/// at the other with the same keys.
pub(super) async fn host_killed(ctx: &Ctx) -> anyhow::Result<Row> {
    let lease = Duration::from_secs(3);
    let stage = stage(ctx, "lease = \"3s\"\njournal_wait = \"1s\"").await?;
    let (mut a, b) = two(&stage).await?;
    let ledger = Ledger::default();
    let until = Instant::now() + Duration::from_secs(120);
    let (ab, ba) = (
        vec![a.url.clone(), b.url.clone()],
        vec![b.url.clone(), a.url.clone()],
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let killer = async {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        a.kill().await;
        tokio::time::sleep(Duration::from_secs(4)).await;
        let _ = stop.send(true);
    };
    tokio::join!(
        killer,
        load(ctx, &ab, 8, &stopped, until, 4, &ledger),
        load(ctx, &ba, 8, &stopped, until, 4, &ledger)
    );
    let note = format!("one of two hosts killed; clients told {}", told(&ledger));
    settle(ctx, "pg-host-killed", &stage, &ledger, lease, 0, note).await
}

/// PostgreSQL crashed (immediate shutdown) for `down` under load on
/// `hosts` hosts, lease 15 s; clients retry with the same key.
pub(super) async fn outage(ctx: &Ctx, down: Duration, hosts: usize) -> anyhow::Result<Row> {
    let lease = Duration::from_secs(15);
    let stage = stage(ctx, "lease = \"15s\"\njournal_wait = \"5s\"").await?;
    let mut servers = Vec::new();
    for _ in 0..hosts {
        servers.push(stage.serve(free_port()?, false).await?);
    }
    let urls: Vec<String> = servers.iter().map(|s| s.url.clone()).collect();
    let ledger = Ledger::default();
    let until = Instant::now() + down + Duration::from_secs(120);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let pg = ctx.pg().await?;
    let breaker = async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        tokio::task::block_in_place(|| pg.crash()).map_err(|e| anyhow::anyhow!("{e}"))?;
        tokio::time::sleep(down).await;
        tokio::task::block_in_place(|| pg.resume()).map_err(|e| anyhow::anyhow!("{e}"))?;
        tokio::time::sleep(Duration::from_secs(5)).await;
        let _ = stop.send(true);
        anyhow::Ok(())
    };
    let (broken, ()) = tokio::join!(breaker, load(ctx, &urls, 12, &stopped, until, 4, &ledger));
    broken?;
    let scenario = if hosts == 1 {
        "pg-crash-3s"
    } else {
        "pg-outage-25s"
    };
    let note = format!(
        "PostgreSQL down {} s under {hosts} host(s); clients told {}",
        down.as_secs(),
        told(&ledger)
    );
    let row = settle(ctx, scenario, &stage, &ledger, lease, 0, note).await;
    drop(servers);
    row
}
