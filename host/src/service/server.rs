//! Serving the API: connections accepted up to `[api] max_connections`,
//! headers (and idle keep-alive) bounded by `header_timeout`, optional TLS,
//! and a graceful stop that lets payments finish within `shutdown_grace`.

use super::routes::router;
use crate::host::Host;
use crate::policy::settings::TlsSettings;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// How long, once the shutdown grace is over, the clients still waiting
/// are given to receive their answers before the host stops.
const ANSWERING: Duration = Duration::from_secs(2);

/// Why the API could not be served.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// No token is configured and the address is not loopback.
    #[error(
        "refusing to serve on {addr} with no API token: anyone who reaches it could pay. Add tokens to [api] in payhost.toml (`payhost token new --name NAME --scopes pay,read` makes one), or listen on 127.0.0.1 for development"
    )]
    Unprotected {
        /// The address.
        addr: SocketAddr,
    },
    /// The TLS files could not be used.
    #[error("[api] tls: {0}")]
    Tls(String),
    /// The listener failed.
    #[error("the listener failed: {0}")]
    Io(#[from] std::io::Error),
}

fn tls_config(tls: &TlsSettings, host: &Host) -> Result<tokio_rustls::TlsAcceptor, ServeError> {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let settings = host.settings();
    let (cert, key) = (settings.resolve(&tls.cert), settings.resolve(&tls.key));
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert)
        .and_then(|i| i.collect())
        .map_err(|e| {
            ServeError::Tls(format!(
                "cannot read certificates from {}: {e}",
                cert.display()
            ))
        })?;
    if certs.is_empty() {
        return Err(ServeError::Tls(format!(
            "{} holds no PEM certificate",
            cert.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(&key).map_err(|e| {
        ServeError::Tls(format!(
            "cannot read a private key from {}: {e}",
            key.display()
        ))
    })?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| ServeError::Tls(e.to_string()))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| {
        ServeError::Tls(format!(
            "the certificate and key do not make a server identity: {e}"
        ))
    })?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// The API, checked and ready to serve on its listener.
pub struct Server {
    host: Arc<Host>,
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
}

impl Server {
    /// Checks what would make serving unsafe or impossible: no token off
    /// loopback, TLS files that cannot be used.
    pub fn new(host: Arc<Host>, listener: TcpListener) -> Result<Server, ServeError> {
        let api = &host.settings().api;
        let addr = listener.local_addr()?;
        if api.tokens.is_empty() && !addr.ip().is_loopback() {
            return Err(ServeError::Unprotected { addr });
        }
        let tls = api.tls.as_ref().map(|t| tls_config(t, &host)).transpose()?;
        Ok(Server {
            host,
            listener,
            tls,
        })
    }

    /// Where it listens.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes (see [`serve`]).
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        run(self, shutdown).await
    }
}

/// Serves the API on `listener` until `shutdown` completes; then stops
/// accepting, lets requests under way end and payments in flight finish
/// within `[api] shutdown_grace`, and returns.
pub async fn serve(
    host: Arc<Host>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    Server::new(host, listener)?.run(shutdown).await
}

async fn run(
    server: Server,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let Server {
        host,
        listener,
        tls,
    } = server;
    let api = host.settings().api.clone();
    let app = router(host.clone());
    let slots = Arc::new(tokio::sync::Semaphore::new(api.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(api.header_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        // A slot first: past the limit, connections wait in the backlog.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors, most likely: wait, do not spin.
                    tracing::warn!("cannot accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = TowerToHyperService::new(app.clone());
        let http = http.clone();
        let watcher = graceful.watcher();
        let tls = tls.clone();
        let handshake = api.header_timeout;
        tokio::spawn(async move {
            let _slot = slot;
            match tls {
                Some(acceptor) => {
                    let Ok(Ok(stream)) =
                        tokio::time::timeout(handshake, acceptor.accept(stream)).await
                    else {
                        return;
                    };
                    let _ = watcher
                        .watch(http.serve_connection(TokioIo::new(stream), service))
                        .await;
                }
                None => {
                    let _ = watcher
                        .watch(http.serve_connection(TokioIo::new(stream), service))
                        .await;
                }
            }
        });
    }
    drop(listener);
    let grace = api.shutdown_grace;
    let deadline = tokio::time::Instant::now() + grace;
    tracing::info!(
        in_flight = host.in_flight(),
        "stopping: no new connections; payments in flight may take up to {grace:?}"
    );
    // Requests under way end (their payments run in tasks of their own);
    // idle connections close.
    let ended = graceful.shutdown();
    tokio::pin!(ended);
    if tokio::time::timeout_at(deadline, &mut ended).await.is_err() {
        // The grace is over: every client still waiting for a payment is
        // answered (unknown, with the attempt's id) before its connection
        // closes, and no new attempt begins.
        host.answer_waiting();
        let _ = tokio::time::timeout(ANSWERING, &mut ended).await;
    }
    // Payments whose clients went away finish too, within the grace.
    let left = deadline.saturating_duration_since(tokio::time::Instant::now());
    if !host.wait_idle(left).await {
        tracing::warn!(
            in_flight = host.in_flight(),
            "the shutdown grace of {grace:?} ended with payments in flight: they become unknown"
        );
    }
    Ok(())
}
