//! The HTTP/1.1 plumbing the recorder and the simulator share: accept on a
//! loopback listener, count connections, hand each request to a handler.

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::net::TcpListener;

/// Why a streamed body stops early (a fault the server injects on purpose).
pub type BodyError = Box<dyn std::error::Error + Send + Sync>;

/// A response body: whole, or streamed in chunks without a length.
pub type Body = BoxBody<Bytes, BodyError>;

/// What a handler answers: a response, or `Err` to drop the connection
/// without one.
pub type Answer = Result<Response<Body>, Dropped>;

/// A whole body.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// A body that sends `bytes` and then breaks off, as a connection cut in
/// the middle of an answer does.
pub fn cut_after(bytes: impl Into<Bytes>) -> Body {
    let frames: Vec<Result<hyper::body::Frame<Bytes>, BodyError>> = vec![
        Ok(hyper::body::Frame::data(bytes.into())),
        Err("the answer is cut short on purpose".into()),
    ];
    http_body_util::StreamBody::new(futures::stream::iter(frames)).boxed()
}

/// A body sent in `chunks` pieces of `size` bytes, chunked, with no length.
pub fn chunked(chunks: usize, size: usize) -> Body {
    let frames =
        (0..chunks).map(move |_| Ok(hyper::body::Frame::data(Bytes::from(vec![b'x'; size]))));
    http_body_util::StreamBody::new(futures::stream::iter(frames)).boxed()
}

/// The connection is closed without an answer.
#[derive(Debug)]
pub struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped on purpose")
    }
}

impl std::error::Error for Dropped {}

/// A running server; it stops when dropped.
pub struct Server {
    pub(crate) addr: SocketAddr,
    connections: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Serves `handler` on `addr` (port 0 picks a free one).
    pub async fn start<H, F>(addr: SocketAddr, handler: H) -> std::io::Result<Server>
    where
        H: Fn(Request<Incoming>) -> F + Send + Sync + Clone + 'static,
        F: Future<Output = Answer> + Send + 'static,
    {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let connections = Arc::new(AtomicU64::new(0));
        let counter = connections.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                counter.fetch_add(1, Ordering::SeqCst);
                let handler = handler.clone();
                tokio::spawn(async move {
                    let service = service_fn(handler);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Server {
            addr,
            connections,
            task,
        })
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One request as a server received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The method.
    pub method: String,
    /// Path and query.
    pub uri: String,
    /// Headers, names lower case.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Recorded {
    /// Reads a request's head and whole body.
    pub async fn read(req: Request<Incoming>) -> (hyper::http::request::Parts, Recorded) {
        let (parts, body) = req.into_parts();
        let body = body
            .collect()
            .await
            .map(|b| b.to_bytes().to_vec())
            .unwrap_or_default();
        let recorded = Recorded {
            method: parts.method.to_string(),
            uri: parts.uri.to_string(),
            headers: parts
                .headers
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body,
        };
        (parts, recorded)
    }

    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON (`null` if it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// The value of a query parameter, decoded.
pub fn query_param(uri: &hyper::Uri, key: &str) -> Option<String> {
    url::form_urlencoded::parse(uri.query()?.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// A response with a status, a content type and a body.
pub fn respond(status: u16, content_type: &str, body: impl Into<Bytes>) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(full(body))
        .unwrap_or_else(|_| Response::new(full(Bytes::new())))
}
