//! A supplier whose every answer the test chooses: for feeding connectors
//! arbitrary, mutated or hostile answers, or a sequence of answers (a
//! status call that knows nothing twice, then knows).

use crate::serve::{Answer, Recorded, Server, respond};
use std::collections::VecDeque;
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

impl Scripted {
    /// `status` with a JSON body.
    pub fn json(status: u16, body: &str) -> Scripted {
        Scripted {
            status,
            content_type: "application/json".into(),
            body: body.as_bytes().to_vec(),
        }
    }
}

/// What the scripted supplier holds: the answers still to give (the last
/// one is given again and again) and the requests it received.
#[derive(Default)]
struct Script {
    answers: VecDeque<Scripted>,
    received: Vec<Recorded>,
}

/// A running scripted supplier; it stops when dropped.
pub struct ScriptedSupplier {
    server: Server,
    script: Arc<Mutex<Script>>,
}

impl ScriptedSupplier {
    /// Starts on `127.0.0.1`, answering `200 {}` until told otherwise.
    pub async fn start() -> std::io::Result<ScriptedSupplier> {
        let script = Arc::new(Mutex::new(Script {
            answers: VecDeque::from([Scripted::json(200, "{}")]),
            received: Vec::new(),
        }));
        let shared = script.clone();
        let addr: SocketAddr = "127.0.0.1:0".parse().expect("a valid address");
        let server = Server::start(addr, move |req| {
            let shared = shared.clone();
            async move {
                // Read the whole request before answering, as a supplier would.
                let (_, recorded) = Recorded::read(req).await;
                let a = {
                    let mut script = shared.lock().unwrap_or_else(|e| e.into_inner());
                    script.received.push(recorded);
                    if script.answers.len() > 1 {
                        script.answers.pop_front()
                    } else {
                        script.answers.front().cloned()
                    }
                }
                .unwrap_or_else(|| Scripted::json(200, "{}"));
                Answer::Ok(respond(a.status, &a.content_type, a.body))
            }
        })
        .await?;
        Ok(ScriptedSupplier { server, script })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    /// Sets the answer to every following request.
    pub fn answer(&self, answer: Scripted) {
        self.answers(vec![answer]);
    }

    /// Sets the answers to the following requests, one each, in order; the
    /// last is given to every request after.
    pub fn answers(&self, answers: Vec<Scripted>) {
        self.script
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .answers = answers.into();
    }

    /// The requests received so far, as `METHOD /path?query`.
    pub fn received(&self) -> Vec<String> {
        self.requests()
            .iter()
            .map(|r| format!("{} {}", r.method, r.uri))
            .collect()
    }

    /// The requests received so far, whole.
    pub fn requests(&self) -> Vec<Recorded> {
        self.script
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .received
            .clone()
    }
}
