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
/// effect without a restart.
///
/// API: POST /v1/payments, GET /v1/payments/{id}, GET /v1/connectors,
/// GET /healthz, GET /metrics. Stop it with Ctrl-C (or SIGTERM through your
/// service manager); payments in flight when it is killed are marked
/// unknown at the next start, never retried on their own.
#[derive(Args)]
pub(crate) struct Serve {
    /// The address to listen on (default: [host] listen, else 127.0.0.1:8700).
    #[arg(long)]
    listen: Option<String>,
}

impl Serve {
    pub(crate) async fn run(self, config: &Path) -> Result<u8, Exit> {
        let settings = load_settings(config)?;
        let listen = self.listen.unwrap_or_else(|| settings.host.listen.clone());
        let journal = Journal::open(&settings.journal_path()).map_err(Exit::usage)?;
        let host = Host::from_settings(settings)
            .map_err(|e| anyhow::anyhow!("cannot start the WebAssembly engine: {e:#}"))?;
        let host = Arc::new(host.with_journal(journal));
        for result in host.load_plugins().await {
            match result {
                Ok(c) => {
                    tracing::info!(connector = %c.info.name, version = %c.info.version, "connector live")
                }
                Err(e) => tracing::error!("{e}"),
            }
        }
        let _watch = payhost::watch(host.registry().clone());
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .with_context(|| {
                format!("cannot listen on {listen}: pass another address with --listen")
            })
            .map_err(Exit::usage)?;
        let addr = listener
            .local_addr()
            .context("the listener has no address")?;
        println!("payhost listening on http://{addr}");
        let _ = std::io::stdout().flush();
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        payhost::service::serve(host, listener, shutdown)
            .await
            .context("the server stopped")?;
        Ok(super::exit::OK)
    }
}
