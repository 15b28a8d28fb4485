//! A simulator of the four suppliers' payment APIs on one loopback port.
//!
//! Each supplier's endpoint checks credentials and signatures the way the
//! supplier does (independently of the connectors: it recomputes every
//! signature itself), keeps order state (an unpaid order pays once; paying it
//! again answers the supplier's "already paid"), counts payment calls per
//! order, and answers every documented code for documented test inputs.
//! The inputs are listed in `tests/sandbox/README.md`.
//!
//! Faults: an order id containing `FAULT-<kind>` makes any endpoint answer
//! with that fault instead (see [`Fault`]).
//!
//! Counters: `GET /_sim/calls?supplier=atlas&order=ORDER` answers
//! `{"supplier", "order", "pay_calls", "paid"}`: how many payment calls for
//! that order reached the supplier, and whether it is paid. `GET /_sim/calls`
//! lists every order seen.

mod aerohub;
mod atlas;
mod fault;
mod hkramble;
mod nemo;

pub use aerohub::sign as aerohub_signature;
pub use atlas::TEST_CARDS as ATLAS_TEST_CARDS;
pub use fault::Fault;

use crate::serve::{Answer, Recorded, Server, query_param, respond};
use hyper::Request;
use hyper::body::Incoming;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// The four suppliers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Supplier {
    /// Atlas (atriptech), `POST /pay.do`.
    Atlas,
    /// HK Ramble, `POST /json/pay`.
    HkRamble,
    /// AeroHub, `POST /flight/booking`.
    AeroHub,
    /// Nemo.Travel, SOAP under `/wsdev/` and `/nemoflights/`, and `GET /index.php?go=payment/bill`.
    Nemo,
}

/// The credentials the simulator accepts. The defaults are the sandbox's
/// published test credentials (see the sandbox README).
#[derive(Debug, Clone)]
pub struct Credentials {
    /// Atlas `x-atlas-client-id`.
    pub atlas_client_id: String,
    /// Atlas `x-atlas-client-secret`.
    pub atlas_client_secret: String,
    /// HK Ramble `partnerId`.
    pub hk_partner_id: String,
    /// HK Ramble secret key for `sign`.
    pub hk_secret_key: String,
    /// AeroHub API key (`key`).
    pub aerohub_key: String,
    /// AeroHub API secret (the AES key), 32 bytes.
    pub aerohub_secret: String,
    /// Nemo `ClientId`.
    pub nemo_client_id: String,
    /// Nemo `APIKey`.
    pub nemo_api_key: String,
    /// Nemo security key for `payment/bill`'s `sig`.
    pub nemo_security_key: String,
}

impl Default for Credentials {
    fn default() -> Self {
        Credentials {
            atlas_client_id: "NAR65434_api_1".into(),
            atlas_client_secret: "atlas-sandbox-secret-7Qk2".into(),
            hk_partner_id: "9y1hYW6AQv4QcCs95wsuMNSzHwc=".into(),
            hk_secret_key: "hk-sandbox-key-Xv81".into(),
            aerohub_key: "ctPJAIdxUA3ptaWC".into(),
            aerohub_secret: "024sYXZXMlFKaiAa65IYuMCB0hE2CgaP".into(),
            nemo_client_id: "4417".into(),
            nemo_api_key: "nemo-sandbox-api-key-&<1>".into(),
            nemo_security_key: "12345".into(),
        }
    }
}

/// One order's state at one supplier.
#[derive(Debug, Clone, Default)]
struct Order {
    paid: bool,
    pay_calls: u32,
}

/// A request the simulator received, and the supplier whose endpoint it reached.
#[derive(Debug, Clone)]
pub struct Received {
    /// The supplier.
    pub supplier: Supplier,
    /// The request.
    pub request: Recorded,
}

pub(crate) struct State {
    pub(crate) credentials: Credentials,
    orders: Mutex<HashMap<(Supplier, String), Order>>,
    received: Mutex<Vec<Received>>,
}

impl State {
    /// Marks `order` paid; `true` if it already was.
    pub(crate) fn settle(&self, supplier: Supplier, order: &str) -> bool {
        let mut orders = self.orders.lock().unwrap_or_else(|e| e.into_inner());
        let entry = orders.entry((supplier, order.to_owned())).or_default();
        std::mem::replace(&mut entry.paid, true)
    }

    /// Counts a payment call for `order` that reached the endpoint.
    pub(crate) fn count(&self, supplier: Supplier, order: &str) {
        let mut orders = self.orders.lock().unwrap_or_else(|e| e.into_inner());
        orders
            .entry((supplier, order.to_owned()))
            .or_default()
            .pay_calls += 1;
    }
}

/// A running simulator; it stops when dropped.
pub struct Simulator {
    server: Server,
    state: Arc<State>,
}

impl Simulator {
    /// Starts the simulator on `127.0.0.1`, on a free port, with the default credentials.
    pub async fn start() -> std::io::Result<Simulator> {
        Self::start_with(
            "127.0.0.1:0".parse().expect("a valid address"),
            Credentials::default(),
        )
        .await
    }

    /// Starts the simulator on `addr` with `credentials`.
    pub async fn start_with(
        addr: SocketAddr,
        credentials: Credentials,
    ) -> std::io::Result<Simulator> {
        let state = Arc::new(State {
            credentials,
            orders: Mutex::new(HashMap::new()),
            received: Mutex::new(Vec::new()),
        });
        let shared = state.clone();
        let server = Server::start(addr, move |req| route(req, shared.clone())).await?;
        Ok(Simulator { server, state })
    }

    /// `http://127.0.0.1:PORT`: the base URL of every supplier.
    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    /// Its address.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    /// The credentials it accepts.
    pub fn credentials(&self) -> &Credentials {
        &self.state.credentials
    }

    /// How many payment calls reached `supplier` for `order`.
    pub fn pay_calls(&self, supplier: Supplier, order: &str) -> u32 {
        let orders = self.state.orders.lock().unwrap_or_else(|e| e.into_inner());
        orders
            .get(&(supplier, order.to_owned()))
            .map_or(0, |o| o.pay_calls)
    }

    /// Every request received so far.
    pub fn received(&self) -> Vec<Received> {
        self.state
            .received
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.server.connections()
    }
}

impl Supplier {
    /// Its name in the counters' answers: `atlas`, `hkramble`, `aerohub`, `nemo`.
    pub fn name(self) -> &'static str {
        match self {
            Supplier::Atlas => "atlas",
            Supplier::HkRamble => "hkramble",
            Supplier::AeroHub => "aerohub",
            Supplier::Nemo => "nemo",
        }
    }

    /// The supplier of that name.
    pub fn from_name(name: &str) -> Option<Supplier> {
        [
            Supplier::Atlas,
            Supplier::HkRamble,
            Supplier::AeroHub,
            Supplier::Nemo,
        ]
        .into_iter()
        .find(|s| s.name() == name)
    }
}

/// `GET /_sim/calls`: the per-order counters, as JSON.
fn counters(state: &State, uri: &hyper::Uri) -> Answer {
    let orders = state.orders.lock().unwrap_or_else(|e| e.into_inner());
    let row = |supplier: Supplier, order: &str, o: &Order| {
        serde_json::json!({
            "supplier": supplier.name(),
            "order": order,
            "pay_calls": o.pay_calls,
            "paid": o.paid,
        })
    };
    let body = match (query_param(uri, "supplier"), query_param(uri, "order")) {
        (Some(supplier), Some(order)) => {
            let Some(supplier) = Supplier::from_name(&supplier) else {
                return Ok(respond(
                    400,
                    "application/json",
                    serde_json::json!({"error": "supplier is one of atlas, hkramble, aerohub, nemo"})
                        .to_string(),
                ));
            };
            let empty = Order::default();
            let o = orders.get(&(supplier, order.clone())).unwrap_or(&empty);
            row(supplier, &order, o)
        }
        _ => {
            let mut all: Vec<_> = orders
                .iter()
                .map(|((supplier, order), o)| row(*supplier, order, o))
                .collect();
            all.sort_by_key(|v| v.to_string());
            serde_json::Value::Array(all)
        }
    };
    Ok(respond(200, "application/json", body.to_string()))
}

/// Answers each supplier documents, success and failure, as (HTTP status,
/// body): seeds for feeding connectors mutated answers.
pub fn samples(supplier: Supplier) -> Vec<(u16, String)> {
    match supplier {
        Supplier::Atlas => vec![
            (200, serde_json::json!({"status": 0, "msg": "Success", "orderNo": "ATL-1", "paymentMethod": 1}).to_string()),
            (200, serde_json::json!({"status": 404, "msg": "The order is already paid", "orderNo": "ATL-1", "paymentMethod": 1}).to_string()),
        ],
        Supplier::HkRamble => vec![
            (200, hkramble::success("HKR-1", "USD")),
            (200, serde_json::json!({"errorCode": "B112", "errorMsg": "The order has been paid before"}).to_string()),
        ],
        Supplier::AeroHub => vec![
            (200, aerohub::SUCCESS.to_owned()),
            (200, serde_json::json!({"status": 1000, "msg": "Letslfy flight internal error"}).to_string()),
        ],
        Supplier::Nemo => vec![
            (200, nemo::pay_order_success("100001")),
            (200, nemo::envelope("PayOrder", "nemoflights", "<Error><NewPrice/><Message>You have not enough money to pay</Message></Error>")),
        ],
    }
}

async fn route(req: Request<Incoming>, state: Arc<State>) -> Answer {
    let (parts, request) = Recorded::read(req).await;
    let path = parts.uri.path().to_owned();
    let for_op = query_param(&parts.uri, "for").unwrap_or_default();
    let supplier = match (parts.method.as_str(), path.as_str()) {
        ("GET", "/_sim/calls") => return counters(&state, &parts.uri),
        ("POST", "/pay.do") => Supplier::Atlas,
        ("POST", "/json/pay") => Supplier::HkRamble,
        ("POST", "/flight/booking") => Supplier::AeroHub,
        ("POST", "/wsdev/" | "/nemoflights/") | ("GET", "/index.php") => Supplier::Nemo,
        _ => {
            return Ok(respond(
                404,
                "text/html",
                "<html><body><h1>404 Not Found</h1></body></html>",
            ));
        }
    };
    let body = request.body.clone();
    state
        .received
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(Received { supplier, request });
    match supplier {
        Supplier::Atlas => atlas::handle(&state, &parts.headers, &body).await,
        Supplier::HkRamble => hkramble::handle(&state, &body).await,
        Supplier::AeroHub => aerohub::handle(&state, &body).await,
        Supplier::Nemo if path == "/index.php" => nemo::bill(&state, &parts.uri).await,
        Supplier::Nemo => nemo::soap(&state, &for_op, &body).await,
    }
}
