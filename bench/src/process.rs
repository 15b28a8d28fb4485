//! The baseline a platform team would pick instead of the sandbox: the
//! same connector crates compiled natively, in a process of their own
//! behind loopback HTTP, called once per payment (a connector per process
//! or container). The child serves `POST /pay`; the parent calls it with a
//! kept-alive reqwest client, as a platform would call a sidecar.

use crate::connectors::{CONNECTORS, pay_native};
use crate::native::native_host;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use payhost::PaymentRequest;
use std::io::BufRead as _;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

/// The request the parent sends.
#[derive(serde::Serialize, serde::Deserialize)]
struct Pay {
    connector: String,
    order_id: String,
    amount: String,
    currency: String,
    key: String,
}

/// The child: serves payments through the native connectors against the
/// simulator at `sim` until killed. Prints `listening PORT` first.
pub(crate) async fn child(sim: &str) -> anyhow::Result<()> {
    payhost_sdk::native::install(Arc::new(native_host(
        sim,
        &payhost_sandbox::sim::Credentials::default(),
    )));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("listening {}", listener.local_addr()?.port());
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        tokio::spawn(async move {
            let service = service_fn(
                |request: hyper::Request<hyper::body::Incoming>| async move {
                    let body = request.into_body().collect().await?.to_bytes();
                    let ok = match serde_json::from_slice::<Pay>(&body) {
                        Ok(p) => {
                            let connector = CONNECTORS
                                .iter()
                                .find(|c| **c == p.connector)
                                .copied()
                                .unwrap_or("atlas");
                            let mut r = crate::connectors::request(connector, 0);
                            r.order_id = p.order_id;
                            r.amount.amount = p.amount;
                            r.amount.currency = p.currency;
                            r.idempotency_key = p.key;
                            pay_native(connector, r).await
                        }
                        Err(_) => false,
                    };
                    let answer: &'static [u8] = if ok {
                        br#"{"state":"succeeded"}"#
                    } else {
                        br#"{"state":"failed"}"#
                    };
                    Ok::<_, hyper::Error>(hyper::Response::new(Full::new(Bytes::from_static(
                        answer,
                    ))))
                },
            );
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// The running child, killed when dropped.
pub(crate) struct Process {
    child: Child,
    url: String,
    client: reqwest::Client,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    /// Starts the child against the simulator at `sim`.
    pub(crate) fn start(sim: &str) -> anyhow::Result<Process> {
        let mut child = Command::new(std::env::current_exe()?)
            .args(["connector-process", "--sim", sim])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
        let mut line = String::new();
        std::io::BufReader::new(stdout).read_line(&mut line)?;
        let port = line
            .trim()
            .strip_prefix("listening ")
            .ok_or_else(|| anyhow::anyhow!("the connector process said {line:?}"))?;
        Ok(Process {
            child,
            url: format!("http://127.0.0.1:{port}/pay"),
            client: reqwest::Client::builder().tcp_nodelay(true).build()?,
        })
    }

    /// One payment through the process: whether it succeeded.
    pub(crate) async fn pay(&self, connector: &str, r: &PaymentRequest) -> bool {
        let body = Pay {
            connector: connector.to_owned(),
            order_id: r.order_id.clone(),
            amount: r.amount.amount.clone(),
            currency: r.amount.currency.clone(),
            key: r.idempotency_key.clone(),
        };
        match self.client.post(&self.url).json(&body).send().await {
            Ok(response) => response
                .bytes()
                .await
                .is_ok_and(|b| b.as_ref() == br#"{"state":"succeeded"}"#),
            Err(_) => false,
        }
    }
}
