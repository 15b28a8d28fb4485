//! The reconciler in a real `payhost serve`: a supplier with a status call
//! (the probe connector's `status` action against a scripted supplier)
//! leaves a payment unknown, knows nothing twice when asked, then says it
//! is paid; the host asks on its schedule, records each query, and
//! settles the payment on the definite answer only, once, with two hosts
//! sharing a PostgreSQL journal as with one on SQLite.

use crate::durability::get;
use crate::serve::Server;
use crate::support::probe;
use payhost_sandbox::pg::PgServer;
use payhost_sandbox::script::{Scripted, ScriptedSupplier};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The supplier's answers: the payment, then two status calls that know
/// nothing (a 503, then "processing"), then "paid".
fn unknown_twice_then_paid() -> Vec<Scripted> {
    vec![
        Scripted::json(503, r#"{"error": "try later"}"#),
        Scripted::json(503, r#"{"error": "try later"}"#),
        Scripted::json(200, r#"{"status": "processing", "code": "P1"}"#),
        Scripted::json(
            200,
            r#"{"status": "paid", "code": "0", "message": "paid at 10:02", "reference": "R-77"}"#,
        ),
    ]
}

/// The reconciler's settings for a test: a round every 200 ms, the first
/// query after 1 s and every second after.
const FAST: &str = "\n[reconcile]\nevery = \"200ms\"\nfirst = \"1s\"\nmax_interval = \"1s\"\n";

/// Pays through the probe's status supplier; the attempt's id.
async fn pay_unknown(client: &reqwest::Client, url: &str, order: &str) -> i64 {
    let answer: Value = client
        .post(format!("{url}/v1/payments"))
        .json(&json!({
            "connector": "probe", "order_id": order, "amount": "10.00", "currency": "USD",
            "idempotency_key": format!("k-{order}"), "attributes": { "action": "status" }
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["outcome"]["state"], "unknown", "{answer:#}");
    answer["id"].as_i64().unwrap()
}

/// The host's `/metrics`.
async fn metrics(client: &reqwest::Client, url: &str) -> String {
    let r = client.get(format!("{url}/metrics")).send().await.unwrap();
    r.text().await.unwrap()
}

/// Waits until attempt `id` is in `state` (at most 30 s); its answer.
async fn settled(client: &reqwest::Client, url: &str, id: i64, state: &str) -> Value {
    settled_in(client, url, id, state, None).await
}

/// [`settled`], showing the server's log (in `dir`) if it never is.
async fn settled_in(
    client: &reqwest::Client,
    url: &str,
    id: i64,
    state: &str,
    dir: Option<&std::path::Path>,
) -> Value {
    let started = Instant::now();
    loop {
        let (_, answer) = get(client, &format!("{url}/v1/payments/{id}")).await;
        if answer["state"] == state {
            return answer;
        }
        let log = || {
            dir.and_then(|d| std::fs::read_to_string(d.join("server.log")).ok())
                .unwrap_or_default()
        };
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "attempt {id} is not {state}: {answer:#}\n{}",
            log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What the journal must say once the reconciler settled attempt `id`.
fn assert_settled_by_the_reconciler(answer: &Value) {
    let queries = answer["queries"].as_array().unwrap();
    let answers: Vec<&str> = queries
        .iter()
        .map(|q| q["answer"].as_str().unwrap())
        .collect();
    assert_eq!(answers, ["unknown", "unknown", "succeeded"], "{answer:#}");
    let settled: Vec<bool> = queries.iter().map(|q| q["settled"] == true).collect();
    assert_eq!(settled, [false, false, true], "{answer:#}");
    for q in queries {
        assert!(
            q["by"].as_str().unwrap().starts_with("reconciler@"),
            "{answer:#}"
        );
    }
    assert_eq!(queries[2]["outcome"]["supplier_code"], "0", "{answer:#}");
    // Settled as a person's resolution is, the supplier's first answer
    // kept beside it.
    assert!(
        answer["resolved_by"]
            .as_str()
            .unwrap()
            .starts_with("reconciler@"),
        "{answer:#}"
    );
    assert!(answer["resolved_at"].is_i64(), "{answer:#}");
    assert_eq!(
        answer["outcome"]["supplier_reference"], "R-77",
        "{answer:#}"
    );
    assert_eq!(answer["supplier_outcome"]["state"], "unknown", "{answer:#}");
    assert_eq!(
        answer["supplier_outcome"]["error"]["kind"], "supplier-unavailable",
        "{answer:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_reconciler_settles_an_unknown_payment_once_the_supplier_knows() {
    let supplier = ScriptedSupplier::start().await.unwrap();
    supplier.answers(unknown_twice_then_paid());
    let (ws, _) = probe(&supplier.url(), &[&supplier.url()], FAST);
    let server = Server::start(ws.path());
    let client = reqwest::Client::new();
    let url = server.url.clone();

    // It says it can query; Atlas-like connectors say they cannot.
    let (_, connectors) = get(&client, &format!("{url}/v1/connectors")).await;
    assert_eq!(
        connectors["connectors"][0]["can_query"], true,
        "{connectors:#}"
    );

    let id = pay_unknown(&client, &url, "S-1").await;
    let answer = settled_in(&client, &url, id, "succeeded", Some(ws.path())).await;
    assert_settled_by_the_reconciler(&answer);
    // Nothing is asked once it is settled: one payment, three queries.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let received = supplier.received();
    assert_eq!(received.len(), 4, "{received:#?}");
    assert!(received[0].starts_with("POST /status-pay"), "{received:#?}");
    for r in &received[1..] {
        assert_eq!(r, "GET /status?order=S-1", "{received:#?}");
    }

    // A failed answer without the supplier saying no money moved settles
    // nothing; a declined one does.
    supplier.answers(vec![
        Scripted::json(503, "{}"),
        Scripted::json(500, "<html>oops</html>"),
        Scripted::json(
            200,
            r#"{"status": "declined", "code": "D5", "message": "insufficient funds"}"#,
        ),
    ]);
    let id = pay_unknown(&client, &url, "S-2").await;
    let answer = settled(&client, &url, id, "failed").await;
    let answers: Vec<&str> = answer["queries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["answer"].as_str().unwrap())
        .collect();
    assert_eq!(answers, ["unknown", "failed"], "{answer:#}");
    assert_eq!(answer["outcome"]["error"]["kind"], "declined", "{answer:#}");

    // The backlog and the queries are counted from the journal.
    let metrics = metrics(&client, &url).await;
    assert!(
        metrics.contains(r#"payhost_queries{connector="probe",answer="succeeded"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"payhost_queries{connector="probe",answer="unknown"} 3"#),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_reconciler_stops_at_the_horizon_and_leaves_the_payment_to_a_person() {
    let supplier = ScriptedSupplier::start().await.unwrap();
    supplier.answers(vec![
        Scripted::json(503, "{}"),
        Scripted::json(200, r#"{"status": "processing"}"#),
    ]);
    let extra = format!("{FAST}horizon = \"2s\"\n");
    let (ws, _) = probe(&supplier.url(), &[&supplier.url()], &extra);
    let server = Server::start(ws.path());
    let client = reqwest::Client::new();
    let url = server.url.clone();
    let id = pay_unknown(&client, &url, "H-1").await;
    let started = Instant::now();
    let answer = loop {
        let (_, answer) = get(&client, &format!("{url}/v1/payments/{id}")).await;
        let stopped = answer["queries"]
            .as_array()
            .is_some_and(|q| q.iter().any(|q| q["answer"] == "stopped"));
        if stopped {
            break answer;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "{answer:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(answer["state"], "unknown", "{answer:#}");
    let asked = supplier.received().len();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(supplier.received().len(), asked, "asked after the horizon");
    let metrics = metrics(&client, &url).await;
    assert!(
        metrics.contains(r#"payhost_reconciler_stopped{connector="probe"} 1"#),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_hosts_on_postgres_ask_about_each_payment_one_at_a_time() {
    let pg = PgServer::start().unwrap_or_else(|e| panic!("{e}"));
    let database = pg.database().unwrap();
    let supplier = ScriptedSupplier::start().await.unwrap();
    let (ws, config) = probe(&supplier.url(), &[&supplier.url()], FAST);
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replacen("[host]\n", &format!("[host]\njournal = {database:?}\n"), 1),
    )
    .unwrap();
    let first = Server::start(ws.path());
    let second = Server::start(ws.path());
    let client = reqwest::Client::new();
    let mut ids = Vec::new();
    // Three payments, each unknown twice then paid; whichever host asks,
    // each is asked exactly three times.
    for (n, order) in ["P-1", "P-2", "P-3"].into_iter().enumerate() {
        supplier.answers(unknown_twice_then_paid());
        let url = if n % 2 == 0 { &first.url } else { &second.url };
        let id = pay_unknown(&client, url, order).await;
        let answer = settled(&client, &first.url, id, "succeeded").await;
        assert_settled_by_the_reconciler(&answer);
        ids.push(id);
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let received = supplier.received();
    for order in ["P-1", "P-2", "P-3"] {
        let asked = received
            .iter()
            .filter(|r| **r == format!("GET /status?order={order}"))
            .count();
        assert_eq!(asked, 3, "{order}: {received:#?}");
    }
    // The history is the same from either host.
    let (_, one) = get(&client, &format!("{}/v1/payments/{}", first.url, ids[0])).await;
    let (_, two) = get(&client, &format!("{}/v1/payments/{}", second.url, ids[0])).await;
    assert_eq!(one["queries"], two["queries"]);
}
