//! The clients: a careful one that retries with the same idempotency key
//! until it has a final answer, one that hangs up, and the body they send.

use super::Ctx;
use super::ledger::{Answer, Ledger, Sent};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// One payment a client asks for.
#[derive(Debug, Clone)]
pub(crate) struct Pay {
    /// The connector.
    pub(crate) connector: &'static str,
    /// The order, one its supplier accepts.
    pub(crate) order: String,
    /// The idempotency key.
    pub(crate) key: String,
}

impl Pay {
    /// A new order at `connector`; `slow` makes the supplier take 2 s to
    /// accept it (Nemo's order ids are numbers and take no fault marker).
    pub(crate) fn new(ctx: &Ctx, connector: &'static str, slow: bool) -> Pay {
        let n = ctx.unique();
        let delay = if slow { "FAULT-delay-" } else { "" };
        let order = match connector {
            "atlas" => format!("ATL-OK-{delay}s{n}"),
            "hkramble" => format!("HKR-OK-{delay}s{n}"),
            "aerohub" => format!("AH-OK-{delay}s{n}"),
            _ => format!("{}", 110_000 + n % 89_999),
        };
        Pay {
            connector,
            order,
            key: format!("soak-{n}"),
        }
    }

    /// A new order at one of the four connectors, in turn; one in `slow_in`
    /// takes 2 s at its supplier (0: none).
    pub(crate) fn any(ctx: &Ctx, slow_in: u64) -> Pay {
        let connector = super::stage::CONNECTORS[ctx.below(4) as usize];
        let slow = slow_in > 0 && connector != "nemo" && ctx.below(slow_in) == 0;
        Pay::new(ctx, connector, slow)
    }

    /// The same order under another key (another client racing for it).
    pub(crate) fn rekeyed(&self, ctx: &Ctx) -> Pay {
        Pay {
            key: format!("soak-{}", ctx.unique()),
            ..self.clone()
        }
    }

    /// The API's body.
    pub(crate) fn body(&self) -> Value {
        let (amount, currency) = match self.connector {
            "aerohub" => ("31299", "JPY"),
            "nemo" => ("312.99", "RUB"),
            _ => ("312.99", "USD"),
        };
        json!({
            "connector": self.connector, "order_id": self.order, "amount": amount,
            "currency": currency, "idempotency_key": self.key,
        })
    }
}

/// An HTTP client for the soak: no pooling surprises across restarts.
pub(crate) fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_idle_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(60))
        .build()
        .expect("an HTTP client")
}

/// One request; the answer, or `None` when the connection failed.
async fn once(http: &reqwest::Client, base: &str, body: &Value) -> Option<(u16, Value)> {
    let r = http
        .post(format!("{base}/v1/payments"))
        .json(body)
        .send()
        .await
        .ok()?;
    let status = r.status().as_u16();
    let value = r.json().await.unwrap_or(Value::Null);
    Some((status, value))
}

/// Whether an answer is final for a careful client: an outcome other than
/// "still in flight", or a refusal that will not change by asking again.
fn is_final(status: u16, answer: &Value) -> bool {
    match status {
        200 => {
            !(answer["replayed"] == true
                && answer["outcome"]["state"] == "unknown"
                && answer["outcome"]["error"]["kind"] == "in-progress")
        }
        409 => answer["error"]["code"] != "still_running",
        400..=499 => status != 408 && status != 429,
        _ => false,
    }
}

/// What an HTTP answer means for the ledger.
fn answer_of(status: u16, answer: &Value) -> Answer {
    if status == 200 {
        Answer::Outcome {
            state: answer["outcome"]["state"]
                .as_str()
                .unwrap_or("?")
                .to_owned(),
        }
    } else {
        Answer::Refused {
            status,
            code: answer["error"]["code"].as_str().unwrap_or("?").to_owned(),
        }
    }
}

/// A careful client: asks, and on a failed connection, a 5xx or "still in
/// flight" asks again with the same key, until a final answer or `until`.
/// `hosts` are the hosts it may ask, in turn after a failure.
pub(crate) async fn pay(
    http: &reqwest::Client,
    hosts: &[String],
    pay: &Pay,
    until: Instant,
    ledger: &Ledger,
) {
    let body = pay.body();
    let mut requests = 0;
    let mut last = Answer::Unanswered;
    let mut turn = 0;
    loop {
        requests += 1;
        if let Some((status, answer)) = once(http, &hosts[turn % hosts.len()], &body).await {
            last = answer_of(status, &answer);
            if let Answer::Refused { code, .. } = &last {
                ledger.saw(code);
            } else if !is_final(status, &answer) {
                ledger.saw("in-progress (replayed)");
            }
            if is_final(status, &answer) {
                break;
            }
        } else {
            ledger.saw("connection failed");
            turn += 1;
        }
        if Instant::now() >= until {
            break;
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    ledger.push(Sent {
        pay: pay.clone(),
        answer: last,
        requests,
        promised: false,
    });
}

/// One request, no retry; `promised` says the host owes it an answer.
pub(crate) async fn pay_once(
    http: &reqwest::Client,
    host: &str,
    pay: &Pay,
    promised: bool,
    ledger: &Ledger,
) {
    let answer = match once(http, host, &pay.body()).await {
        Some((status, answer)) => answer_of(status, &answer),
        None => Answer::Unanswered,
    };
    ledger.push(Sent {
        pay: pay.clone(),
        answer,
        requests: 1,
        promised,
    });
}

/// A client that hangs up after `after`, whatever the state of its payment.
pub(crate) async fn hang_up(
    http: &reqwest::Client,
    host: &str,
    pay: &Pay,
    after: Duration,
    ledger: &Ledger,
) {
    let answer = match tokio::time::timeout(after, once(http, host, &pay.body())).await {
        Ok(Some((status, answer))) => answer_of(status, &answer),
        _ => Answer::HungUp,
    };
    ledger.push(Sent {
        pay: pay.clone(),
        answer,
        requests: 1,
        promised: false,
    });
}

/// Workers paying new orders from `next` back to back against `hosts` until
/// `stop` says so; each payment's retries last until `until`.
pub(crate) async fn load(
    ctx: &Ctx,
    hosts: &[String],
    workers: usize,
    stop: &tokio::sync::watch::Receiver<bool>,
    until: Instant,
    slow_in: u64,
    ledger: &Ledger,
) {
    let http = http();
    let each = (0..workers).map(|_| {
        let (http, stop) = (http.clone(), stop.clone());
        async move {
            while !*stop.borrow() {
                let p = Pay::any(ctx, slow_in);
                pay(&http, hosts, &p, until, ledger).await;
            }
        }
    });
    futures::future::join_all(each).await;
}
