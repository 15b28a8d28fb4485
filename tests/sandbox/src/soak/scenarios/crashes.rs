//! The host process killed (SIGKILL, also as PID 1) and stopped (SIGTERM)
//! with payments in flight.

use super::super::client::{Pay, http, load, pay_once};
use super::super::ledger::Ledger;
use super::super::stage::{Stage, free_port, pid_namespaces};
use super::super::{Ctx, Row};
use super::{settle, told};
use std::time::{Duration, Instant};

/// Rounds of SIGKILL.
const ROUNDS: usize = 28;

/// SIGKILL at a random moment, 28 times, under twelve careful clients that
/// retry through each restart with the same key.
pub(super) async fn sigkill(ctx: &Ctx) -> anyhow::Result<Row> {
    let lease = Duration::from_secs(2);
    let stage = Stage::new(ctx, "lease = \"2s\"\njournal_wait = \"500ms\"", "")?;
    let port = free_port()?;
    let namespaces = pid_namespaces().await;
    let hosts = vec![format!("http://127.0.0.1:{port}")];
    let ledger = Ledger::default();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let until = Instant::now() + Duration::from_secs(240);
    let mut server = stage.serve(port, false).await?;
    let mut as_pid1 = 0;
    let killer = async {
        for round in 0..ROUNDS {
            tokio::time::sleep(Duration::from_millis(300 + ctx.below(1500))).await;
            server.kill().await;
            let pid1 = namespaces && round % 2 == 0;
            as_pid1 += usize::from(pid1);
            server = stage.serve(port, pid1).await?;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        let _ = stop.send(true);
        anyhow::Ok(())
    };
    let (killed, ()) = tokio::join!(killer, load(ctx, &hosts, 12, &stopped, until, 4, &ledger));
    killed?;
    let note = format!(
        "{ROUNDS} kills ({as_pid1} as PID 1{}); clients told {}",
        if namespaces {
            ""
        } else {
            ": no PID namespaces here"
        },
        told(&ledger)
    );
    settle(ctx, "sigkill", &stage, &ledger, lease, 0, note).await
}

/// SIGTERM with 30 payments in flight, 20 of them slower (2 s) than the
/// grace (1 s), in two rounds: every client is answered before its
/// connection closes, and the host exits.
pub(super) async fn sigterm(ctx: &Ctx) -> anyhow::Result<Row> {
    let lease = Duration::from_secs(2);
    let stage = Stage::new(
        ctx,
        "lease = \"2s\"\njournal_wait = \"500ms\"",
        "shutdown_grace = \"1s\"",
    )?;
    let ledger = Ledger::default();
    let http = http();
    let mut wrong = 0;
    for _ in 0..2 {
        let mut server = stage.serve(free_port()?, false).await?;
        let payments: Vec<Pay> = (0..30)
            .map(|i| {
                let connector = ["atlas", "hkramble", "aerohub"][i % 3];
                Pay::new(ctx, connector, i < 20)
            })
            .collect();
        let clients = futures::future::join_all(
            payments
                .iter()
                .map(|p| pay_once(&http, &server.url, p, true, &ledger)),
        );
        let stopper = async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            server.terminate()
        };
        let (_, stopped) = tokio::join!(clients, stopper);
        stopped?;
        if server.exited(Duration::from_secs(15)).await != Some(true) {
            wrong += 1;
            eprintln!("soak: sigterm: the host did not exit cleanly within 15 s of SIGTERM");
            server.kill().await;
        }
    }
    let note = format!(
        "2 drains of 30 payments, 20 outliving the grace; clients told {}",
        told(&ledger)
    );
    settle(ctx, "sigterm", &stage, &ledger, lease, wrong, note).await
}
