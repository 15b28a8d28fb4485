//! An HTTP/1.1 server on loopback that records what reaches it.
//!
//! Routes: `/echo` answers 200 with a JSON copy of the request; `/redirect?to=URL`
//! answers 302 to URL; `/big?bytes=N` answers N bytes (`/big-chunked`: chunked,
//! with no length); `/slow?ms=N` waits N
//! milliseconds first; anything else answers 200 `ok`.

use crate::serve::{Answer, Server, chunked, full, query_param};
use bytes::Bytes;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use crate::serve::Recorded;

#[derive(Default)]
struct Log {
    requests: Mutex<Vec<Recorded>>,
}

/// A running recorder; it stops when dropped.
pub struct Recorder {
    server: Server,
    log: Arc<Log>,
}

impl Recorder {
    /// Starts a recorder on `127.0.0.1`, on a free port.
    pub async fn start() -> std::io::Result<Recorder> {
        Self::start_on("127.0.0.1:0".parse().expect("a valid address")).await
    }

    /// Starts a recorder on `addr` (port 0 picks a free one).
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<Recorder> {
        let log = Arc::new(Log::default());
        let shared = log.clone();
        let server = Server::start(addr, move |req| handle(req, shared.clone())).await?;
        Ok(Recorder { server, log })
    }

    /// Its address.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.server.connections()
    }

    /// Requests received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.log
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

async fn handle(req: Request<Incoming>, log: Arc<Log>) -> Answer {
    let (parts, recorded) = Recorded::read(req).await;
    log.requests
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(recorded.clone());
    let response = match parts.uri.path() {
        "/echo" => {
            let json = serde_json::json!({
                "method": recorded.method,
                "uri": recorded.uri,
                "headers": recorded.headers,
                "body": String::from_utf8_lossy(&recorded.body),
            });
            Response::builder()
                .header("content-type", "application/json")
                .body(full(Bytes::from(json.to_string())))
        }
        "/redirect" => Response::builder()
            .status(StatusCode::FOUND)
            .header(
                "location",
                query_param(&parts.uri, "to").unwrap_or_default(),
            )
            .body(full(Bytes::new())),
        "/big" => {
            let n: usize = query_param(&parts.uri, "bytes")
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            Response::builder().body(full(Bytes::from(vec![b'x'; n])))
        }
        "/big-chunked" => {
            let n: usize = query_param(&parts.uri, "bytes")
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            Response::builder().body(chunked(n.div_ceil(1024), 1024))
        }
        "/slow" => {
            let ms: u64 = query_param(&parts.uri, "ms")
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Response::builder().body(full(Bytes::from_static(b"slow ok")))
        }
        _ => Response::builder().body(full(Bytes::from_static(b"ok"))),
    };
    Ok(response.unwrap_or_else(|_| Response::new(full(Bytes::new()))))
}
