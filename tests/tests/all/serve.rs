//! `payhost serve` as a real process with a real SQLite journal, against the
//! simulator: hot add, replace, remove and broken files; idempotency; a
//! SIGKILL in the middle of a payment; no card data in what it keeps.

use payhost_sandbox::demo;
use payhost_sandbox::sim::{Credentials, Simulator, Supplier};
use payhost_tests::{artifacts, cache_dir, payhost_bin};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A directory with the plugins, secrets and payhost.toml for a host
/// against `sim`.
pub(crate) fn workspace(sim: &Simulator, plugins: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("plugins")).unwrap();
    for p in plugins {
        let name = Path::new(p)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .replace("payhost_", "");
        std::fs::copy(p, dir.path().join("plugins").join(name)).unwrap();
    }
    demo::write_secrets(dir.path(), &Credentials::default()).unwrap();
    // Sections for all four suppliers whatever the directory holds, so
    // that tests can add files while serving: a host that is not whole
    // starts only when asked to (`operator` tests the refusal).
    std::fs::write(
        dir.path().join("payhost.toml"),
        demo::config(&sim.url(), &cache_dir(), "timeout = \"3s\"").replacen(
            "[host]\n",
            "[host]\nstart_degraded = true\n",
            1,
        ),
    )
    .unwrap();
    dir
}

/// `payhost payments list` against the workspace's journal: its standard output.
pub(crate) fn payments_list(config: &Path) -> String {
    let out = Command::new(payhost_bin())
        .args(["payments", "list", "--config"])
        .arg(config)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A running `payhost serve`; killed (SIGKILL) when dropped.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) url: String,
}

impl Server {
    pub(crate) fn start(dir: &Path) -> Server {
        Server::start_under(dir, &[])
    }

    /// Starts it under `wrapper` (a command that runs the rest, such as
    /// `unshare --pid --fork`).
    pub(crate) fn start_under(dir: &Path, wrapper: &[&str]) -> Server {
        let bin = payhost_bin();
        let mut command = match wrapper.split_first() {
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg(&bin);
                c
            }
            None => Command::new(&bin),
        };
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(dir.join("payhost.toml"))
            .env("PAYHOST_LOG", "info");
        Server::spawn(command, &dir.join("server.log"))
    }

    /// Starts `command`, a `payhost` that serves on `127.0.0.1:0` and
    /// prints where as its first line, its standard error appended to `log`.
    pub(crate) fn spawn(mut command: Command, log: &Path) -> Server {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let mut child = command.stdout(Stdio::piped()).stderr(file).spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let Some(url) = line.trim().strip_prefix("payhost listening on ") else {
            let _ = child.kill();
            let _ = child.wait();
            let log = std::fs::read_to_string(log).unwrap_or_default();
            panic!("unexpected first line {line:?}; its log:\n{log}")
        };
        Server {
            url: url.to_owned(),
            child,
        }
    }

    /// Asks it to stop, as a service manager does (SIGTERM).
    pub(crate) fn terminate(&self) {
        let term = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(term.success());
    }

    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

pub(crate) fn body(connector: &str, order: &str, key: &str) -> Value {
    let currency = if connector == "nemo" { "RUB" } else { "USD" };
    json!({ "connector": connector, "order_id": order, "amount": "312.99", "currency": currency, "idempotency_key": key })
}

pub(crate) async fn post(client: &reqwest::Client, server: &str, body: &Value) -> (u16, Value) {
    let r = client
        .post(format!("{server}/v1/payments"))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

pub(crate) async fn connectors(client: &reqwest::Client, server: &str) -> Value {
    client
        .get(format!("{server}/v1/connectors"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Waits until `check` holds for `/v1/connectors`, or fails after 20 s.
async fn until(
    client: &reqwest::Client,
    server: &str,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> Duration {
    let started = Instant::now();
    loop {
        let c = connectors(client, server).await;
        if check(&c) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{what} did not happen within 20 s: {c:#}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(crate) fn sha_of(c: &Value, name: &str) -> Option<String> {
    c["connectors"]
        .as_array()?
        .iter()
        .find(|x| x["name"] == name)
        .map(|x| x["sha256"].as_str().unwrap_or("").to_owned())
}

/// Writes `bytes` to `file` the way an operator should: beside it, then renamed over it.
fn drop_in(file: &Path, bytes: &[u8]) {
    let tmp = file.with_extension("partial");
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, file).unwrap();
}

/// The component with a custom section appended: the same code, another SHA-256.
fn variant(path: &str) -> Vec<u8> {
    let mut bytes = std::fs::read(path).unwrap();
    let name = b"payhost-test-variant";
    let payload = b"2";
    bytes.push(0);
    bytes.push((1 + name.len() + payload.len()) as u8);
    bytes.push(name.len() as u8);
    bytes.extend_from_slice(name);
    bytes.extend_from_slice(payload);
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connectors_are_added_replaced_and_removed_while_serving() {
    let sim = Simulator::start().await.unwrap();
    let dir = workspace(
        &sim,
        &[artifacts::PAYHOST_ATLAS, artifacts::PAYHOST_HKRAMBLE],
    );
    let server = Server::start(dir.path());
    let client = reqwest::Client::new();
    let url = server.url.clone();
    until(&client, &url, "the two connectors", |c| {
        c["connectors"].as_array().is_some_and(|a| a.len() == 2)
    })
    .await;

    // Add: a new file goes live without a restart.
    drop_in(
        &dir.path().join("plugins/aerohub.wasm"),
        &std::fs::read(artifacts::PAYHOST_AEROHUB).unwrap(),
    );
    let took = until(&client, &url, "aerohub going live", |c| {
        sha_of(c, "aerohub").is_some()
    })
    .await;
    println!("a new connector went live {took:?} after its file appeared");
    let (status, answer) = post(&client, &url, &body("aerohub", "AH-OK-hot1", "hot-1")).await;
    assert_eq!(
        (status, answer["outcome"]["state"].as_str()),
        (200, Some("succeeded")),
        "{answer:#}"
    );

    // Replace under steady traffic: not one request fails.
    let old_sha = sha_of(&connectors(&client, &url).await, "atlas").unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let counter = Arc::new(AtomicU64::new(0));
    let mut traffic = Vec::new();
    for t in 0..4 {
        let (client, url, stop, counter) =
            (client.clone(), url.clone(), stop.clone(), counter.clone());
        traffic.push(tokio::spawn(async move {
            let mut failures = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let (status, answer) = post(
                    &client,
                    &url,
                    &body(
                        "atlas",
                        &format!("ATL-OK-swap{t}-{n}"),
                        &format!("swap-{t}-{n}"),
                    ),
                )
                .await;
                if status != 200 || answer["outcome"]["state"] != "succeeded" {
                    failures.push(format!("{status} {answer}"));
                }
            }
            failures
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop_in(
        &dir.path().join("plugins/atlas.wasm"),
        &variant(artifacts::PAYHOST_ATLAS),
    );
    until(&client, &url, "the new atlas", |c| {
        sha_of(c, "atlas").is_some_and(|s| s != old_sha)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let mut failures = Vec::new();
    for t in traffic {
        failures.extend(t.await.unwrap());
    }
    let total = counter.load(Ordering::Relaxed);
    println!(
        "{total} payments during the replacement, {} failed",
        failures.len()
    );
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(total > 20, "too little traffic to prove anything: {total}");

    // A broken file: reported, and the previous version keeps serving.
    let serving = sha_of(&connectors(&client, &url).await, "atlas").unwrap();
    drop_in(
        &dir.path().join("plugins/atlas.wasm"),
        b"\0asm\x01\0\0\0 not a component",
    );
    let c = {
        until(&client, &url, "the failure reported", |c| {
            c["failed"].as_array().is_some_and(|f| !f.is_empty())
        })
        .await;
        connectors(&client, &url).await
    };
    assert!(
        c["failed"][0]["error"]
            .as_str()
            .unwrap()
            .contains("core WebAssembly module"),
        "{c:#}"
    );
    assert_eq!(sha_of(&c, "atlas").as_deref(), Some(serving.as_str()));
    let (status, answer) = post(
        &client,
        &url,
        &body("atlas", "ATL-OK-after-broken", "broken-1"),
    )
    .await;
    assert_eq!(
        (status, answer["outcome"]["state"].as_str()),
        (200, Some("succeeded")),
        "{answer:#}"
    );
    let metrics = client
        .get(format!("{url}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("payhost_reload_failures_total ")
                && l != "payhost_reload_failures_total 0"),
        "{metrics}"
    );
    assert!(
        metrics.contains("payhost_payments_total{connector=\"atlas\",state=\"succeeded\"}"),
        "{metrics}"
    );

    // Remove: the connector retires.
    std::fs::remove_file(dir.path().join("plugins/hkramble.wasm")).unwrap();
    until(&client, &url, "hkramble retiring", |c| {
        sha_of(c, "hkramble").is_none()
    })
    .await;
    let (status, answer) = post(&client, &url, &body("hkramble", "HKR-OK-gone", "gone-1")).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (404, Some("unknown_connector")),
        "{answer:#}"
    );

    // The CLI sees the live set of the running host.
    let out = Command::new(payhost_bin())
        .args(["plugins", "list", "--server", &url])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("aerohub") && text.contains("atlas") && !text.contains("hkramble "),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_makes_one_supplier_call_and_unknown_is_never_retried() {
    let sim = Simulator::start().await.unwrap();
    let dir = workspace(
        &sim,
        &[artifacts::PAYHOST_ATLAS, artifacts::PAYHOST_HKRAMBLE],
    );
    let server = Server::start(dir.path());
    let client = reqwest::Client::new();
    let url = server.url.clone();

    // The same key replays the stored outcome.
    let (s1, a1) = post(&client, &url, &body("atlas", "ATL-OK-idem1", "k-1")).await;
    let (s2, a2) = post(&client, &url, &body("atlas", "ATL-OK-idem1", "k-1")).await;
    assert_eq!((s1, s2), (200, 200));
    assert_eq!(
        (a1["replayed"].as_bool(), a2["replayed"].as_bool()),
        (Some(false), Some(true))
    );
    assert_eq!(a1["id"], a2["id"]);
    assert_eq!(a1["outcome"], a2["outcome"]);
    assert_eq!(sim.pay_calls(Supplier::Atlas, "ATL-OK-idem1"), 1);

    // The same key with other parameters is refused.
    let mut other = body("atlas", "ATL-OK-idem1", "k-1");
    other["amount"] = json!("1.00");
    let (status, answer) = post(&client, &url, &other).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (409, Some("idempotency_key_reused")),
        "{answer:#}"
    );

    // Two at once with one key: one supplier call.
    let b = body("hkramble", "HKR-OK-idem2", "k-2");
    let (x, y) = tokio::join!(post(&client, &url, &b), post(&client, &url, &b));
    assert_eq!((x.0, y.0), (200, 200), "{x:?} {y:?}");
    assert_eq!(x.1["id"], y.1["id"]);
    assert!(x.1["replayed"] != y.1["replayed"], "{x:?} {y:?}");
    assert_eq!(sim.pay_calls(Supplier::HkRamble, "HKR-OK-idem2"), 1);

    // A new key for a paid order is refused before any supplier call.
    let (status, answer) = post(&client, &url, &body("atlas", "ATL-OK-idem1", "k-3")).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (409, Some("order_busy")),
        "{answer:#}"
    );
    assert_eq!(sim.pay_calls(Supplier::Atlas, "ATL-OK-idem1"), 1);

    // Unknown is never retried: not with its key, not with a new one.
    let (_, u1) = post(&client, &url, &body("atlas", "FAULT-drop-idem", "k-4")).await;
    assert_eq!(u1["outcome"]["state"], "unknown", "{u1:#}");
    let (_, u2) = post(&client, &url, &body("atlas", "FAULT-drop-idem", "k-4")).await;
    assert_eq!(
        (u2["replayed"].as_bool(), u2["outcome"]["state"].as_str()),
        (Some(true), Some("unknown"))
    );
    let (status, answer) = post(&client, &url, &body("atlas", "FAULT-drop-idem", "k-5")).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (409, Some("order_busy")),
        "{answer:#}"
    );
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("resolve it first"),
        "{answer:#}"
    );
    assert_eq!(sim.pay_calls(Supplier::Atlas, "FAULT-drop-idem"), 1);

    // The operator resolves it; then a new attempt may go.
    let id = u1["id"].as_i64().unwrap().to_string();
    let config = dir.path().join("payhost.toml");
    let out = Command::new(payhost_bin())
        .args([
            "payments",
            "resolve",
            &id,
            "--as",
            "failed",
            "--note",
            "supplier confirmed no charge",
            "--config",
        ])
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown: Value = client
        .get(format!("{url}/v1/payments/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["state"], "failed", "{shown:#}");
    assert!(
        shown["resolution"]
            .as_str()
            .unwrap()
            .contains("supplier confirmed no charge")
    );

    // Bad requests are refused before any connector runs, with a stable code.
    let card = json!({"number": "4532015112830367", "expiry_month": 12, "expiry_year": 2030, "cvv": "8264", "holder_first_name": "A", "holder_last_name": "B"});
    let mut bad = body("atlas", "ATL-OK-bad", "k-6");
    bad["method"] = json!("card");
    bad["card"] = card;
    let (status, answer) = post(&client, &url, &bad).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (400, Some("invalid_request")),
        "{answer:#}"
    );
    let mut unknown_field = body("atlas", "ATL-OK-bad", "k-7");
    unknown_field["amout"] = json!("1");
    let (status, answer) = post(&client, &url, &unknown_field).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (400, Some("bad_json")),
        "{answer:#}"
    );
    let (status, answer) = post(&client, &url, &body("nobody", "X", "k-8")).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (404, Some("unknown_connector")),
        "{answer:#}"
    );

    // A card payment; then no full card number or CVV anywhere the host keeps or says.
    let mut paid = body("atlas", "ATL-OK-card", "k-9");
    paid["method"] = json!("card");
    paid["card"] = json!({"number": "4532015112830366", "expiry_month": 12, "expiry_year": 2030, "cvv": "8264", "holder_first_name": "A", "holder_last_name": "B"});
    let (status, answer) = post(&client, &url, &paid).await;
    assert_eq!(
        (status, answer["outcome"]["state"].as_str()),
        (200, Some("succeeded")),
        "{answer:#}"
    );
    let shown = client
        .get(format!("{url}/v1/payments/{}", answer["id"]))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(shown.contains("453201******0366"), "{shown}");
    let listed = Command::new(payhost_bin())
        .args(["payments", "list", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let mut everything = format!(
        "{answer}{shown}{}{}",
        String::from_utf8_lossy(&listed.stdout),
        String::from_utf8_lossy(&listed.stderr)
    );
    drop(server);
    for file in ["payhost.db", "payhost.db-wal"] {
        if let Ok(bytes) = std::fs::read(dir.path().join(file)) {
            everything.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
    // The log's lines without their timestamps, whose microseconds may
    // hold any four digits.
    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
    for line in log.lines() {
        everything.push_str(line.split_once(' ').map_or(line, |(_, rest)| rest));
        everything.push('\n');
    }
    for secret in ["4532015112830366", "4532015112830367", "8264"] {
        assert!(!everything.contains(secret), "`{secret}` was kept or shown");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_killed_mid_payment_leaves_it_unknown_and_sends_no_second_payment() {
    let sim = Simulator::start().await.unwrap();
    let dir = workspace(&sim, &[artifacts::PAYHOST_ATLAS]);
    // A short lease: the killed host's attempt is unknown 2 s after it died.
    let config = dir.path().join("payhost.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replacen(
            "[host]\n",
            "[host]\nlease = \"2s\"\njournal_wait = \"500ms\"\n",
            1,
        ),
    )
    .unwrap();
    let mut server = Server::start(dir.path());
    let client = reqwest::Client::new();
    let order = "FAULT-slow-kill";
    let b = body("atlas", order, "kill-1");
    let (url, c, b2) = (server.url.clone(), client.clone(), b.clone());
    let in_flight =
        tokio::spawn(async move { c.post(format!("{url}/v1/payments")).json(&b2).send().await });
    // The simulator holds the answer; kill the host while it waits.
    let started = Instant::now();
    while sim.pay_calls(Supplier::Atlas, order) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the payment never reached the supplier"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Another process opening the journal meanwhile (the CLI) leaves the live
    // host's attempt in flight.
    let text = payments_list(&dir.path().join("payhost.toml"));
    assert!(
        text.lines()
            .any(|l| l.contains(order) && l.contains("in-flight")),
        "{text}"
    );
    server.kill();
    assert!(
        in_flight.await.unwrap().is_err(),
        "the killed host cannot have answered"
    );

    let server = Server::start(dir.path());
    let (status, answer) = post(&client, &server.url, &b).await;
    assert_eq!(status, 200, "{answer:#}");
    assert_eq!(
        (
            answer["replayed"].as_bool(),
            answer["outcome"]["state"].as_str()
        ),
        (Some(true), Some("unknown")),
        "{answer:#}"
    );
    assert!(
        answer["outcome"]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("host stopped during this payment"),
        "{answer:#}"
    );
    let (status, answer) = post(&client, &server.url, &body("atlas", order, "kill-2")).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (409, Some("order_busy")),
        "{answer:#}"
    );
    assert_eq!(
        sim.pay_calls(Supplier::Atlas, order),
        1,
        "a second payment reached the supplier"
    );
    let text = payments_list(&dir.path().join("payhost.toml"));
    assert!(
        text.lines()
            .any(|l| l.contains(order) && l.contains("unknown")),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_answers_while_connectors_burn_cpu_and_crypto() {
    let sim = Simulator::start().await.unwrap();
    let dir = workspace(&sim, &[artifacts::PAYHOST_ATLAS, artifacts::HOSTILE]);
    std::fs::write(dir.path().join("secrets/token"), "a-token").unwrap();
    let config = dir.path().join("payhost.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "\n[connectors.hostile]\nbase_url = \"{url}\"\nallowed_hosts = [\"{url}\"]\n\
         secrets = {{ token = {{ file = \"secrets/token\" }} }}\nunpinned = true\ntimeout = \"4s\"\ncpu = \"4s\"\n",
        url = sim.url()
    ));
    std::fs::write(&config, text).unwrap();
    let server = Server::start(dir.path());
    let client = reqwest::Client::new();

    // Three calls in crypto for ever, three spinning, on a two-core machine.
    let mut burning = Vec::new();
    for (i, attack) in ["crypto-forever", "spin"]
        .iter()
        .cycle()
        .take(6)
        .enumerate()
    {
        let (c, url) = (client.clone(), server.url.clone());
        let mut b = body("hostile", &format!("BURN-{i}"), &format!("burn-{i}"));
        b["attributes"] = json!({ "attack": attack });
        burning.push(tokio::spawn(async move { post(&c, &url, &b).await }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut slowest = Duration::ZERO;
    for _ in 0..5 {
        let started = Instant::now();
        let r = client
            .get(format!("{}/healthz", server.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        slowest = slowest.max(started.elapsed());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // An honest payment goes through meanwhile.
    let (status, answer) = post(
        &client,
        &server.url,
        &body("atlas", "ATL-OK-BURN", "burn-ok"),
    )
    .await;
    assert_eq!(
        (status, answer["outcome"]["state"].as_str()),
        (200, Some("succeeded")),
        "{answer}"
    );
    assert!(
        slowest < Duration::from_secs(2),
        "/healthz took {slowest:?} while connectors burned CPU"
    );
    for call in burning {
        let (_, answer) = call.await.unwrap();
        assert_eq!(answer["outcome"]["state"], "failed", "{answer}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_connector_serves_on_baseline_code_until_its_optimised_code_is_swapped_in() {
    let sim = Simulator::start().await.unwrap();
    let dir = workspace(&sim, &[]);
    // A compile cache of its own, empty: nothing compiled before.
    let cache = tempfile::tempdir().unwrap();
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(cache.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let config = dir.path().join("payhost.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let text = text.replacen(
        &format!("cache = {:?}", cache_dir().display().to_string()),
        &format!("cache = {:?}", cache.path().display().to_string()),
        1,
    );
    assert!(text.contains(&cache.path().display().to_string()), "{text}");
    std::fs::write(&config, text).unwrap();
    let server = Server::start(dir.path());
    let client = reqwest::Client::new();
    let url = server.url.clone();

    drop_in(
        &dir.path().join("plugins/atlas.wasm"),
        &std::fs::read(artifacts::PAYHOST_ATLAS).unwrap(),
    );
    // It serves as soon as it is loaded, whichever code it runs on.
    until(&client, &url, "atlas going live", |c| {
        sha_of(c, "atlas").is_some()
    })
    .await;
    let (status, answer) = post(&client, &url, &body("atlas", "ATL-OK-tier1", "tier-1")).await;
    assert_eq!(
        (status, answer["outcome"]["state"].as_str()),
        (200, Some("succeeded")),
        "{answer:#}"
    );
    // Then its optimised code, from the cache, swapped in by a scan.
    until(&client, &url, "the optimised code swapped in", |c| {
        c["connectors"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["name"] == "atlas"))
            .is_some_and(|x| x["cache"] == "hit")
    })
    .await;
    let (status, answer) = post(&client, &url, &body("atlas", "ATL-OK-tier2", "tier-2")).await;
    assert_eq!(
        (status, answer["outcome"]["state"].as_str()),
        (200, Some("succeeded")),
        "{answer:#}"
    );
    // The other three shipped connectors (built with WebAssembly SIMD) go
    // the same way: Winch compiles each, or it would be compiled by
    // Cranelift before serving and go live once.
    for (name, file) in [
        ("hkramble", artifacts::PAYHOST_HKRAMBLE),
        ("aerohub", artifacts::PAYHOST_AEROHUB),
        ("nemo", artifacts::PAYHOST_NEMO),
    ] {
        drop_in(
            &dir.path().join(format!("plugins/{name}.wasm")),
            &std::fs::read(file).unwrap(),
        );
        until(&client, &url, &format!("{name}'s optimised code"), |c| {
            c["connectors"]
                .as_array()
                .and_then(|a| a.iter().find(|x| x["name"] == name))
                .is_some_and(|x| x["cache"] == "hit")
        })
        .await;
    }
    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
    assert!(log.contains("optimised code compiled"), "{log}");
    for name in ["atlas", "hkramble", "aerohub", "nemo"] {
        assert_eq!(
            log.matches(&format!("connector live connector={name} "))
                .count(),
            2,
            "{name} loaded on baseline code, then swapped: {log}"
        );
    }
}
