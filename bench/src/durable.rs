//! Section 5: durable payments, journaled, through `payhost serve` over
//! HTTP, on SQLite and on PostgreSQL, beside `Host::pay` with no journal.

use crate::connectors::order;
use crate::report::{Report, median, turns};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use payhost::{Host, Journal, JournalTarget};
use payhost_sandbox::demo;
use payhost_sandbox::pg::PgServer;
use payhost_sandbox::sim::{Credentials, Simulator};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The connectors with string order ids that pay once each (Nemo's ids
/// are numbers that would repeat over a long run).
const DURABLE: [&str; 3] = ["atlas", "hkramble", "aerohub"];
const LEVELS: [usize; 4] = [1, 16, 64, 256];
/// Rounds per level: each measures every column once, the columns in
/// another order each round, so that a slow second of the shared machine
/// falls on one round of each rather than on one column's only window.
const ROUNDS: usize = 3;
/// One column's window in a round.
const WINDOW: Duration = Duration::from_millis(1500);

/// One kept-alive HTTP/1.1 connection to the API, the way a load
/// generator such as wrk holds one per client: no pool, no URL parsing per
/// request, so the figure is the server's and not the client library's.
async fn connect(addr: SocketAddr) -> anyhow::Result<SendRequest<Full<Bytes>>> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

/// One payment over `sender`: whether it succeeded.
async fn pay_once(
    sender: &mut SendRequest<Full<Bytes>>,
    addr: SocketAddr,
    body: String,
) -> anyhow::Result<bool> {
    #[derive(serde::Deserialize)]
    struct Answer {
        outcome: Outcome,
    }
    #[derive(serde::Deserialize)]
    struct Outcome {
        state: String,
    }
    sender.ready().await?;
    let request = hyper::Request::post("/v1/payments")
        .header(hyper::header::HOST, addr.to_string())
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))?;
    let response = sender.send_request(request).await?;
    let ok = response.status().is_success();
    let body = response.into_body().collect().await?.to_bytes();
    Ok(ok && serde_json::from_slice::<Answer>(&body).is_ok_and(|a| a.outcome.state == "succeeded"))
}

/// Payments/s through the API at `concurrency`, and how many did not succeed.
async fn over_http(addr: SocketAddr, concurrency: usize, seq: &Arc<AtomicU64>) -> (f64, u64) {
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + WINDOW;
    let mut tasks = Vec::new();
    for t in 0..concurrency {
        let (done, failed, seq) = (done.clone(), failed.clone(), seq.clone());
        tasks.push(tokio::spawn(async move {
            let mut k = t;
            let mut sender = None;
            while Instant::now() < deadline {
                let connector = DURABLE[k % DURABLE.len()];
                let n = seq.fetch_add(1, Ordering::Relaxed);
                let body = format!(
                    r#"{{"connector":"{connector}","order_id":"{}","amount":"312.99","currency":"USD","idempotency_key":"durable-{n}"}}"#,
                    order(connector, n)
                );
                let ok = match &mut sender {
                    Some(s) => pay_once(s, addr, body).await,
                    None => match connect(addr).await {
                        Ok(s) => pay_once(sender.insert(s), addr, body).await,
                        Err(e) => Err(e),
                    },
                };
                match ok {
                    Ok(true) => {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(false) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(_) => {
                        // The connection is gone: a new one for the next.
                        sender = None;
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
                k += 1;
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    (
        done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64(),
        failed.load(Ordering::Relaxed),
    )
}

/// Payments/s through `Host::pay`, no journal, same connectors.
async fn direct(host: &Arc<Host>, concurrency: usize, seq: &Arc<AtomicU64>) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + WINDOW;
    let mut tasks = Vec::new();
    for t in 0..concurrency {
        let (host, done, seq) = (host.clone(), done.clone(), seq.clone());
        tasks.push(tokio::spawn(async move {
            let mut k = t;
            while Instant::now() < deadline {
                let connector = DURABLE[k % DURABLE.len()];
                let r = crate::connectors::request(connector, seq.fetch_add(1, Ordering::Relaxed));
                if matches!(host.pay(connector, r).await, Ok(o) if o.state == payhost::PaymentState::Succeeded)
                {
                    done.fetch_add(1, Ordering::Relaxed);
                }
                k += 1;
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

/// A host serving the API on loopback with its journal at `target`: its URL.
async fn serving(
    sim: &Simulator,
    plugins: &[PathBuf],
    cache: &Path,
    target: Option<&JournalTarget>,
) -> anyhow::Result<(tempfile::TempDir, SocketAddr)> {
    let (dir, host) =
        demo::host_at(&sim.url(), plugins, cache, "", &Credentials::default()).await?;
    let host = match target {
        Some(target) => {
            let journal = Journal::open_target(target, host.settings().journal_options())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            host.with_journal(journal)
        }
        None => host,
    };
    let host = Arc::new(host);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let server = payhost::service::Server::new(host, listener)?;
    let addr = server.local_addr()?;
    tokio::spawn(server.run(std::future::pending()));
    Ok((dir, addr))
}

/// Section 5.
pub(crate) async fn section(
    report: &mut Report,
    plugins: &[PathBuf],
    cache: &Path,
    sim: &Simulator,
    host: &Arc<Host>,
    seq: &Arc<AtomicU64>,
) -> anyhow::Result<()> {
    report.line(format!(
        "\n## 5. Durable payments: journaled, through `payhost serve` over HTTP, beside `Host::pay` ({ROUNDS} rounds of {} ms per column, the columns in turns, each round in another order; medians)\n",
        WINDOW.as_millis()
    ));
    report.line("Atlas, HK Ramble and AeroHub in turn, each payment a new order and key, over HTTP on loopback (the load generator holds one kept-alive connection per client, as wrk does); every attempt is written before the supplier call and after it. SQLite: WAL, synchronous = FULL, group commit. PostgreSQL: the test harness's own server on loopback, which runs with fsync off, so its figures are an upper bound.");
    report.line("");
    let sqlite_dir = tempfile::tempdir()?;
    let unjournaled = serving(sim, plugins, cache, None).await?;
    let sqlite = serving(
        sim,
        plugins,
        cache,
        Some(&JournalTarget::Sqlite(sqlite_dir.path().join("journal.db"))),
    )
    .await?;
    let pg = PgServer::start();
    let postgres = match &pg {
        Ok(pg) => Some(
            serving(
                sim,
                plugins,
                cache,
                Some(&JournalTarget::Postgres(
                    pg.database().map_err(|e| anyhow::anyhow!(e))?,
                )),
            )
            .await?,
        ),
        Err(e) => {
            report.line(format!("PostgreSQL is not measured here: {e}"));
            None
        }
    };
    report.line("| connections | `Host::pay`, no journal | `payhost serve`, no journal | `payhost serve`, SQLite journal | `payhost serve`, PostgreSQL journal |");
    report.line("|---|---|---|---|---|");
    let servers = [
        Some(unjournaled.1),
        Some(sqlite.1),
        postgres.as_ref().map(|(_, addr)| *addr),
    ];
    for c in LEVELS {
        // Per round, per column: `Host::pay`, then the three servers.
        let mut rates = [[0f64; 4]; ROUNDS];
        let mut failed = [0u64; 4];
        for (round, column) in turns(ROUNDS, 4) {
            let (rate, lost) = match column {
                0 => (direct(host, c, seq).await, 0),
                _ => match servers[column - 1] {
                    Some(addr) => over_http(addr, c, seq).await,
                    None => continue,
                },
            };
            rates[round][column] = rate;
            failed[column] += lost;
        }
        let text = |column: usize| {
            if column > 0 && servers[column - 1].is_none() {
                return "—".to_owned();
            }
            format!(
                "{:.0}/s{}",
                median(&mut rates.map(|row| row[column])),
                failed_text(failed[column])
            )
        };
        report.line(format!(
            "| {c} | {} | {} | {} | {} |",
            text(0),
            text(1),
            text(2),
            text(3)
        ));
    }
    Ok(())
}

fn failed_text(failed: u64) -> String {
    if failed == 0 {
        String::new()
    } else {
        format!(" ({failed} not succeeded)")
    }
}
