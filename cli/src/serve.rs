//! `payhost serve`: the long-running host.

use super::{Exit, load_settings};
use anyhow::Context as _;
use clap::Args;
use payhost::{Host, Journal};
use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

/// Run the host: the HTTP API, the payment journal, and the plugin
/// directory watched so that a new, replaced or removed connector file takes
/// effect without a restart. It does not start when a configured
/// connector is not live or a file does not load (see `payhost config
/// check`), unless [host] start_degraded = true.
///
/// API: POST and GET /v1/payments, GET /v1/payments/{id}, POST
/// /v1/payments/{id}/resolve, GET /v1/connectors, GET /healthz, GET
/// /readyz, GET /metrics;
/// bearer tokens from [api] in payhost.toml (without any, it listens only
/// on loopback). SIGTERM or SIGINT stops it: no new connections, payments
/// in flight finish within [api] shutdown_grace; any still running then
/// are marked unknown, never retried on their own.
#[derive(Args)]
pub(crate) struct Serve {
    /// The address to listen on (default: [host] listen, else 127.0.0.1:8700).
    #[arg(long)]
    listen: Option<String>,
}

/// Gives up this host's lease in its journal.
async fn journal_close(host: &Host) -> Result<(), payhost::JournalError> {
    match host.journal() {
        Some(journal) => journal.close().await,
        None => Ok(()),
    }
}

/// Completes on SIGTERM or SIGINT (installed handlers: as PID 1 too).
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

impl Serve {
    /// Serving on `listen` (or as the configuration says).
    pub(crate) fn on(listen: Option<String>) -> Serve {
        Serve { listen }
    }

    pub(crate) async fn run(self, config: &Path) -> Result<u8, Exit> {
        let settings = load_settings(config)?;
        let listen = self.listen.unwrap_or_else(|| settings.host.listen.clone());
        let journal = Journal::open_target(&settings.journal_target(), settings.journal_options())
            .await
            .map_err(Exit::journal)?;
        let host = Host::serving(settings)
            .map_err(|e| anyhow::anyhow!("cannot start the WebAssembly engine: {e:#}"))?;
        let host = Arc::new(host.with_journal(journal));
        for c in host.load_plugins().await.into_iter().flatten() {
            tracing::info!(connector = %c.info.name, version = %c.info.version, "connector live");
        }
        // A host that is not whole does not start, unless asked to.
        let problems = host.problems();
        if !problems.is_empty() {
            if !host.settings().host.start_degraded {
                let list: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
                let _ = journal_close(&host).await;
                return Err(Exit::usage(anyhow::anyhow!(
                    "not starting: the configuration does not make a whole host ({} problem(s)):\n{}\nfix them (`payhost config check` lists them), or set `start_degraded = true` in [host] to serve what loads",
                    problems.len(),
                    list.join("\n")
                )));
            }
            for p in &problems {
                tracing::error!("starting degraded: {p}");
            }
        }
        let _watch = payhost::watch(host.registry().clone());
        // Connectors published to the journal by any host.
        let fleet = payhost::fleet::follow(host.clone());
        // Unknown and pending payments asked about, on each connector's schedule.
        let reconciler = tokio::spawn(payhost::reconcile::run(host.clone(), host.stopping()));
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .with_context(|| {
                format!("cannot listen on {listen}: pass another address with --listen")
            })
            .map_err(Exit::usage)?;
        let server = payhost::service::Server::new(host.clone(), listener).map_err(Exit::usage)?;
        let addr = server.local_addr().context("the listener has no address")?;
        let scheme = if host.settings().api.tls.is_some() {
            "https"
        } else {
            "http"
        };
        println!("payhost listening on {scheme}://{addr}");
        let _ = std::io::stdout().flush();
        // A second signal during the grace stops at once: what is still in
        // flight becomes unknown when the journal closes.
        let result = tokio::select! {
            result = server.run(stop_signal()) => result,
            () = async {
                stop_signal().await;
                stop_signal().await;
            } => {
                tracing::warn!("stopping now: a second signal came during the grace");
                // Clients still waiting are answered (unknown, with the
                // attempt's id) before the process ends.
                host.answer_waiting();
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                Ok(())
            }
        };
        fleet.abort();
        reconciler.abort();
        let closed = match host.journal() {
            Some(journal) => journal.close().await,
            None => Ok(()),
        };
        result.map_err(Exit::usage)?;
        if let Err(e) = closed {
            tracing::error!("closing the journal: {e}");
        }
        tracing::info!("stopped");
        Ok(super::exit::OK)
    }
}
