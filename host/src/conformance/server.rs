//! The scripted supplier: a loopback HTTP server that records every request
//! and answers with the scenario's answer or fault.

use super::scenario::{Answer, Fault};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use parking_lot::Mutex;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// A request as the supplier received it.
#[derive(Debug, Clone)]
pub struct Received {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query string, undecoded.
    pub query: String,
    /// Headers, names lower-case, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

#[derive(Default)]
struct Script {
    /// The answers still to give, one per request; the last is given again.
    answers: std::collections::VecDeque<Answer>,
    received: Vec<Received>,
}

/// The running server; stops when dropped.
pub struct Supplier {
    addr: SocketAddr,
    script: Arc<Mutex<Script>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Supplier {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Supplier {
    /// Starts on 127.0.0.1 on a free port. `oversized` is the body size the
    /// oversized fault sends.
    pub async fn start(oversized: usize) -> std::io::Result<Supplier> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let script = Arc::new(Mutex::new(Script::default()));
        let shared = script.clone();
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                let script = shared.clone();
                connections.spawn(async move {
                    let service = service_fn(move |request| {
                        let script = script.clone();
                        async move { answer(request, &script, addr, oversized).await }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Supplier { addr, script, task })
    }

    /// The base URL connectors are configured with.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Scripts the next answers, one per request in order (the last to
    /// every request after), and forgets what was received.
    pub fn script(&self, answers: Vec<Answer>) {
        let mut script = self.script.lock();
        script.answers = answers.into();
        script.received.clear();
    }

    /// What was received since the last [`Supplier::script`].
    pub fn received(&self) -> Vec<Received> {
        self.script.lock().received.clone()
    }
}

/// The error that makes hyper drop a connection without answering.
#[derive(Debug)]
struct Hangup;

impl std::fmt::Display for Hangup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the scripted supplier hangs up")
    }
}

impl std::error::Error for Hangup {}

async fn answer(
    request: hyper::Request<hyper::body::Incoming>,
    script: &Mutex<Script>,
    addr: SocketAddr,
    oversized: usize,
) -> Result<hyper::Response<Full<Bytes>>, Hangup> {
    let (parts, body) = request.into_parts();
    // A body that cannot be read is recorded as empty.
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    let received = Received {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
    };
    let answer = {
        let mut script = script.lock();
        script.received.push(received);
        if script.answers.len() > 1 {
            script.answers.pop_front().unwrap_or_default()
        } else {
            script.answers.front().cloned().unwrap_or_default()
        }
    };
    let response = |status: u16, content_type: &str, body: Vec<u8>| {
        let mut response = hyper::Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() =
            hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::OK);
        if let Ok(v) = hyper::header::HeaderValue::from_str(content_type) {
            response
                .headers_mut()
                .insert(hyper::header::CONTENT_TYPE, v);
        }
        response
    };
    match answer.fault {
        Some(Fault::Timeout) => {
            // Longer than any call may last; the connector's timeout ends it.
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Err(Hangup)
        }
        Some(Fault::Reset) => Err(Hangup),
        Some(Fault::Oversized) => Ok(response(
            200,
            "application/json",
            format!("{{\"padding\":\"{}\"}}", "x".repeat(oversized)).into_bytes(),
        )),
        Some(Fault::Redirect) => {
            let mut r = response(302, "text/plain", b"moved".to_vec());
            if let Ok(v) = hyper::header::HeaderValue::from_str(&format!("http://{addr}/elsewhere"))
            {
                r.headers_mut().insert(hyper::header::LOCATION, v);
            }
            Ok(r)
        }
        Some(Fault::Html5xx) => Ok(response(
            502,
            "text/html",
            b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
                .to_vec(),
        )),
        Some(Fault::NotJsonOrXml) => Ok(response(
            200,
            "text/plain",
            b"upstream said: try again later".to_vec(),
        )),
        None => {
            let mut r = response(
                answer.status.unwrap_or(200),
                "application/json",
                answer.body.into_bytes(),
            );
            for (k, v) in &answer.headers {
                if let (Ok(k), Ok(v)) = (
                    hyper::header::HeaderName::from_bytes(k.as_bytes()),
                    hyper::header::HeaderValue::from_str(v),
                ) {
                    r.headers_mut().insert(k, v);
                }
            }
            Ok(r)
        }
    }
}
