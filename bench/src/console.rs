//! Section 7: the console on a journal of a million attempts, beside one
//! of a thousand: each page's part as `payhost serve` renders it, asked
//! over HTTP on loopback.

use crate::connectors::CONNECTORS;
use crate::hosts::host_with_cache;
use crate::report::{Report, ms, percentile};
use payhost::{ConnectorError, ErrorKind, Journal, PaymentOutcome, PaymentState};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The journals' sizes: the baseline, then the target's.
const SIZES: [usize; 2] = [1_000, 1_000_000];
/// How many times each part is asked, after two to warm up.
const ASKED: usize = 20;
/// Over how long the attempts were made: thirty days.
const SPAN: i64 = 30 * 24 * 3600;

pub(crate) async fn section(
    report: &mut Report,
    plugins: &Path,
    cache: &Path,
) -> anyhow::Result<()> {
    report.line(format!(
        "\n## 7. The console on a million attempts (SQLite, made over 30 days; each page's part over HTTP on loopback, median and slowest of {ASKED} after 2 to warm up)\n"
    ));
    let parts = [
        ("overview", "/console/part/overview".to_owned()),
        (
            "payments: not settled, then the latest",
            "/console/part/payments".to_owned(),
        ),
        (
            "payments: failed",
            "/console/part/payments?state=failed".to_owned(),
        ),
        (
            "payments: atlas, last 24 h",
            "/console/part/payments?connector=atlas&since=24h".to_owned(),
        ),
        ("one payment, its history and queries", String::new()),
        (
            "connectors, with their latest outcomes",
            "/console/part/connectors".to_owned(),
        ),
    ];
    let mut figures: Vec<Vec<(Duration, Duration)>> = Vec::new();
    for size in SIZES {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("payhost.db");
        let filled = Instant::now();
        fill(&path, size)?;
        let fill_time = filled.elapsed();
        let host = host_with_cache(cache, plugins, "")?;
        let host = Arc::new(host.with_journal(Journal::open(&path)?));
        for loaded in host.load_plugins().await {
            loaded?;
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let server = payhost::service::Server::new(host.clone(), listener)?;
        let addr = server.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));
        let client = reqwest::Client::new();
        let mut row = Vec::new();
        for (_, path) in &parts {
            let path = if path.is_empty() {
                format!("/console/part/payments/{}", size / 2)
            } else {
                path.clone()
            };
            let url = format!("http://{addr}{path}");
            let mut samples = Vec::new();
            for i in 0..ASKED + 2 {
                let t = Instant::now();
                let response = client.get(&url).send().await?;
                anyhow::ensure!(
                    response.status().is_success(),
                    "{url}: {}",
                    response.status()
                );
                let _ = response.bytes().await?;
                if i >= 2 {
                    samples.push(t.elapsed());
                }
            }
            let slowest = samples.iter().copied().max().unwrap_or_default();
            row.push((percentile(&mut samples, 0.5), slowest));
        }
        let _ = stop.send(());
        let _ = serving.await;
        report.line(format!(
            "- {size} attempts written in {:.1} s",
            fill_time.as_secs_f64()
        ));
        figures.push(row);
    }
    report.line("");
    report
        .line("| part | 1,000 attempts: median / slowest | 1,000,000 attempts: median / slowest |");
    report.line("|---|---|---|");
    for (i, (name, _)) in parts.iter().enumerate() {
        let (small, large) = (figures[0][i], figures[1][i]);
        report.line(format!(
            "| {name} | {:.1} / {:.1} ms | {:.1} / {:.1} ms |",
            ms(small.0),
            ms(small.1),
            ms(large.0),
            ms(large.1)
        ));
    }
    Ok(())
}

/// A journal at `path` with `size` attempts, made over [`SPAN`] up to now,
/// spread over the four connectors: 0.5 % unknown, 0.1 % pending, 1.5 %
/// failed, the rest succeeded. The journal makes its schema; the rows go in
/// with one transaction.
fn fill(path: &Path, size: usize) -> anyhow::Result<()> {
    Journal::open(path)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    let outcome = |state: PaymentState| {
        let outcome = match state {
            PaymentState::Failed => PaymentOutcome::host(
                state,
                ConnectorError::host(ErrorKind::Declined, "declined by the supplier"),
            ),
            PaymentState::Unknown => PaymentOutcome::host(
                state,
                ConnectorError::host(ErrorKind::Timeout, "no answer in time"),
            ),
            _ => PaymentOutcome::new(state),
        };
        serde_json::to_string(&outcome).unwrap_or_default()
    };
    let mut conn = rusqlite::Connection::open(path)?;
    let tx = conn.transaction()?;
    {
        let mut insert = tx.prepare(
            "INSERT INTO attempts (idempotency_key, fingerprint, connector, order_id, method, card, amount, currency, state, outcome, created_at, updated_at)
             VALUES (?1, ?1, ?2, ?3, 'balance', NULL, '312.99', 'USD', ?4, ?5, ?6, ?6)",
        )?;
        for i in 0..size {
            let (state, name) = match i % 1000 {
                0..=4 => (PaymentState::Unknown, "unknown"),
                5 => (PaymentState::Pending, "pending"),
                6..=20 => (PaymentState::Failed, "failed"),
                _ => (PaymentState::Succeeded, "succeeded"),
            };
            let made = now - SPAN + (i as i64 * SPAN) / size as i64;
            insert.execute(rusqlite::params![
                format!("key-{i}"),
                CONNECTORS[i % CONNECTORS.len()],
                format!("ORD-{i}"),
                name,
                outcome(state),
                made
            ])?;
        }
    }
    tx.commit()?;
    Ok(())
}
