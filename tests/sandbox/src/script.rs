//! A supplier whose every answer the test chooses: for feeding connectors
//! arbitrary, mutated or hostile answers.

use crate::serve::{Answer, Recorded, Server, respond};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// One answer: status, content type, body.
#[derive(Debug, Clone)]
pub struct Scripted {
    /// HTTP status.
    pub status: u16,
    /// `content-type`.
    pub content_type: String,
    /// Body.
    pub body: Vec<u8>,
}

/// A running scripted supplier; it stops when dropped.
pub struct ScriptedSupplier {
    server: Server,
    answer: Arc<Mutex<Scripted>>,
}

impl ScriptedSupplier {
    /// Starts on `127.0.0.1`, answering `200 {}` until told otherwise.
    pub async fn start() -> std::io::Result<ScriptedSupplier> {
        let answer = Arc::new(Mutex::new(Scripted {
            status: 200,
            content_type: "application/json".into(),
            body: b"{}".to_vec(),
        }));
        let shared = answer.clone();
        let addr: SocketAddr = "127.0.0.1:0".parse().expect("a valid address");
        let server = Server::start(addr, move |req| {
            let shared = shared.clone();
            async move {
                // Read the whole request before answering, as a supplier would.
                let _ = Recorded::read(req).await;
                let a = shared.lock().unwrap_or_else(|e| e.into_inner()).clone();
                Answer::Ok(respond(a.status, &a.content_type, a.body))
            }
        })
        .await?;
        Ok(ScriptedSupplier { server, answer })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    /// Sets the answer to every following request.
    pub fn answer(&self, answer: Scripted) {
        *self.answer.lock().unwrap_or_else(|e| e.into_inner()) = answer;
    }
}
