//! No payment stuck, lost or doubled on one host: `payhost serve` as a real
//! process (as PID 1 of its own PID namespace where the machine allows it),
//! a real SQLite journal shared with `payhost pay` processes and with a
//! process that holds its write lock, and the simulator's own counters read
//! over HTTP.

use crate::serve::{Server, body, post, workspace};
use payhost_sandbox::pg::PgServer;
use payhost_sandbox::sim::{Simulator, Supplier};
use payhost_tests::{artifacts, payhost_bin};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The simulator's count of payment calls for `order`, read over HTTP.
async fn sim_calls(client: &reqwest::Client, sim: &Simulator, supplier: &str, order: &str) -> u64 {
    let answer: Value = client
        .get(format!("{}/_sim/calls", sim.url()))
        .query(&[("supplier", supplier), ("order", order)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["pay_calls"].as_u64().unwrap()
}

/// Waits until `check` holds, at most `limit`.
async fn eventually<F: Future<Output = bool>>(
    what: &str,
    limit: Duration,
    mut check: impl FnMut() -> F,
) {
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(crate) async fn get(client: &reqwest::Client, url: &str) -> (u16, Value) {
    let r = client.get(url).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Adds lines to `[host]` of the workspace's payhost.toml.
fn host_settings(dir: &Path, lines: &str) {
    let config = dir.join("payhost.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replacen("[host]\n", &format!("[host]\n{lines}\n"), 1),
    )
    .unwrap();
}

/// Posts a payment for `order` under `key` to `server` in a task of its
/// own, and returns it once the payment has reached the supplier.
async fn paying_at_the_supplier(
    client: &reqwest::Client,
    server: &Server,
    sim: &Simulator,
    order: &'static str,
    key: &str,
) -> tokio::task::JoinHandle<(u16, Value)> {
    let (url, c, b) = (
        server.url.clone(),
        client.clone(),
        body("atlas", order, key),
    );
    let paying = tokio::spawn(async move { post(&c, &url, &b).await });
    eventually(
        "the payment reaching the supplier",
        Duration::from_secs(10),
        || async { sim_calls(client, sim, "atlas", order).await == 1 },
    )
    .await;
    paying
}

/// Sends `signal` (`-STOP`, `-CONT`) to process `pid`.
fn signal(pid: &str, signal: &str) {
    assert!(
        Command::new("kill")
            .args([signal, pid])
            .status()
            .unwrap()
            .success()
    );
}

/// `POST /v1/payments/{id}/resolve` on `server` as `state` with `note`:
/// the status and the answer.
async fn resolve(
    client: &reqwest::Client,
    server: &str,
    id: i64,
    state: &str,
    note: &str,
) -> (u16, Value) {
    let r = client
        .post(format!("{server}/v1/payments/{id}/resolve"))
        .json(&json!({"state": state, "note": note}))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_hangs_up_does_not_strand_its_payment() {
    let sim = Simulator::start().await.unwrap();
    let dir = workspace(&sim, &[artifacts::PAYHOST_ATLAS]);
    let server = Server::start(dir.path());
    let client = reqwest::Client::new();
    let order = "FAULT-delay-hangup";
    let b = body("atlas", order, "hangup-1");

    // The client gives up long before the supplier answers (2 s).
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    assert!(
        impatient
            .post(format!("{}/v1/payments", server.url))
            .json(&b)
            .send()
            .await
            .is_err()
    );
    // The payment runs on, reaches its end and is journaled.
    eventually(
        "the attempt's final state",
        Duration::from_secs(10),
        || async {
            get(&client, &format!("{}/v1/payments/1", server.url))
                .await
                .1["state"]
                == "succeeded"
        },
    )
    .await;
    let (status, answer) = post(&client, &server.url, &b).await;
    assert_eq!(
        (
            status,
            answer["replayed"].as_bool(),
            answer["outcome"]["state"].as_str()
        ),
        (200, Some(true), Some("succeeded")),
        "{answer:#}"
    );
    assert_eq!(sim_calls(&client, &sim, "atlas", order).await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_lets_payments_in_flight_finish_and_then_the_host_exits() {
    let sim = Simulator::start().await.unwrap();
    let dir = workspace(&sim, &[artifacts::PAYHOST_ATLAS]);
    let mut server = Server::start(dir.path());
    let client = reqwest::Client::new();
    let mut calls = Vec::new();
    for i in 0..3 {
        let (c, url) = (client.clone(), server.url.clone());
        let b = body(
            "atlas",
            &format!("FAULT-delay-term-{i}"),
            &format!("term-{i}"),
        );
        calls.push(tokio::spawn(async move { post(&c, &url, &b).await }));
    }
    for i in 0..3 {
        let order = format!("FAULT-delay-term-{i}");
        eventually(
            "the payments reaching the supplier",
            Duration::from_secs(10),
            || {
                let (client, sim, order) = (&client, &sim, order.clone());
                async move { sim_calls(client, sim, "atlas", &order).await == 1 }
            },
        )
        .await;
    }
    server.terminate();
    for call in calls {
        let (status, answer) = call.await.unwrap();
        assert_eq!(
            (status, answer["outcome"]["state"].as_str()),
            (200, Some("succeeded")),
            "{answer:#}"
        );
    }
    let started = Instant::now();
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the host did not exit"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    let list = crate::serve::payments_list(&dir.path().join("payhost.toml"));
    assert_eq!(
        list.lines().filter(|l| l.contains("succeeded")).count(),
        3,
        "{list}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_host_killed_as_pid_1_leaves_its_payment_unknown_and_resolvable() {
    let sim = Simulator::start().await.unwrap();
    let dir = workspace(&sim, &[artifacts::PAYHOST_ATLAS]);
    host_settings(dir.path(), "lease = \"2s\"\njournal_wait = \"500ms\"");
    // PID 1 of a PID namespace of its own, where the machine allows it.
    let namespaced = Command::new("unshare")
        .args(["--pid", "--fork", "true"])
        .status()
        .is_ok_and(|s| s.success());
    let wrapper: &[&str] = if namespaced {
        &["unshare", "--pid", "--fork", "--kill-child"]
    } else {
        println!(
            "note: no PID namespace here (unshare refused); the host runs as an ordinary process"
        );
        &[]
    };
    let mut server = Server::start_under(dir.path(), wrapper);
    let client = reqwest::Client::new();
    let order = "FAULT-slow-pid1";
    let b = body("atlas", order, "pid1-1");
    let (url, c, b2) = (server.url.clone(), client.clone(), b.clone());
    let pending =
        tokio::spawn(async move { c.post(format!("{url}/v1/payments")).json(&b2).send().await });
    eventually(
        "the payment reaching the supplier",
        Duration::from_secs(10),
        || async { sim_calls(&client, &sim, "atlas", order).await == 1 },
    )
    .await;
    // SIGKILL to unshare; --kill-child passes it to the host, PID 1 inside.
    server.kill();
    assert!(
        pending.await.unwrap().is_err(),
        "a killed host cannot have answered"
    );

    // The new host is PID 1 too: a PID says nothing; the lease does.
    let server = Server::start_under(dir.path(), wrapper);
    let (status, answer) = post(&client, &server.url, &b).await;
    assert_eq!(
        (status, answer["outcome"]["state"].as_str()),
        (200, Some("unknown")),
        "{answer:#}"
    );
    let (status, answer) = resolve(
        &client,
        &server.url,
        1,
        "failed",
        "Atlas support: no charge",
    )
    .await;
    assert_eq!(status, 200, "{answer:#}");
    assert_eq!(answer["state"], "failed");
    assert_eq!(answer["resolved_by"], "api:loopback");
    assert_eq!(sim_calls(&client, &sim, "atlas", order).await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_journal_locked_by_another_process_delays_payments_but_never_fakes_one() {
    let sim = Simulator::start().await.unwrap();
    let dir = workspace(&sim, &[artifacts::PAYHOST_ATLAS]);
    host_settings(dir.path(), "journal_wait = \"1s\"\nlease = \"3s\"");
    let server = Server::start(dir.path());
    let client = reqwest::Client::new();
    let order = "FAULT-delay-locked";
    let (url, c, b) = (
        server.url.clone(),
        client.clone(),
        body("atlas", order, "locked-1"),
    );
    let paying = tokio::spawn(async move { post(&c, &url, &b).await });
    eventually(
        "the payment reaching the supplier",
        Duration::from_secs(10),
        || async { sim_calls(&client, &sim, "atlas", order).await == 1 },
    )
    .await;

    // Another process takes the write lock for 4 s, across the supplier's answer.
    let journal = dir.path().join("payhost.db");
    let locker = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(&journal).unwrap();
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        // Longer than the lease: the outcome cannot be recorded while the
        // client waits (within the lease it would be, and reported so).
        std::thread::sleep(Duration::from_secs(7));
        conn.execute_batch("ROLLBACK").unwrap();
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    // /healthz answers while the lock is held, and says the journal cannot
    // be written once a renewal has failed.
    let mut slowest = Duration::ZERO;
    let mut unwritable = false;
    for _ in 0..10 {
        let started = Instant::now();
        let (status, health) = get(&client, &format!("{}/healthz", server.url)).await;
        slowest = slowest.max(started.elapsed());
        unwritable |= status == 503 && health["status"] == "journal_unwritable";
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // The client was not told `succeeded` for a row still in flight.
    let (status, answer) = paying.await.unwrap();
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (500, Some("not_recorded")),
        "{answer:#}"
    );
    locker.join().unwrap();
    assert!(
        slowest < Duration::from_secs(1),
        "/healthz took {slowest:?}"
    );
    assert!(
        unwritable,
        "/healthz never said the journal could not be written"
    );
    // Once the lock is gone, the outcome is recorded and replayed.
    eventually("the outcome recorded", Duration::from_secs(10), || async {
        get(&client, &format!("{}/v1/payments/1", server.url))
            .await
            .1["state"]
            == "succeeded"
    })
    .await;
    let (status, answer) = post(&client, &server.url, &body("atlas", order, "locked-1")).await;
    assert_eq!(
        (
            status,
            answer["replayed"].as_bool(),
            answer["outcome"]["state"].as_str()
        ),
        (200, Some(true), Some("succeeded")),
        "{answer:#}"
    );
    eventually("/healthz ok again", Duration::from_secs(5), || async {
        get(&client, &format!("{}/healthz", server.url)).await.0 == 200
    })
    .await;
    assert_eq!(sim_calls(&client, &sim, "atlas", order).await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn eight_pay_commands_and_a_server_share_one_journal_file() {
    let sim = Simulator::start().await.unwrap();
    let dir = workspace(&sim, &[artifacts::PAYHOST_ATLAS]);
    let server = Server::start(dir.path());
    let config = dir.path().join("payhost.toml");
    let children: Vec<_> = (0..8)
        .map(|i| {
            Command::new(payhost_bin())
                .args(["pay", "--config"])
                .arg(&config)
                .args([
                    "--connector",
                    "atlas",
                    "--order",
                    &format!("ATL-OK-cli{i}"),
                    "--amount",
                    "10.00",
                    "--currency",
                    "USD",
                    "--idempotency-key",
                    &format!("cli-{i}"),
                ])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let (status, answer) = post(
        &reqwest::Client::new(),
        &server.url,
        &body("atlas", "ATL-OK-server", "server-1"),
    )
    .await;
    assert_eq!(status, 200, "{answer:#}");
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(0), "pay {i}: {text}");
        assert!(!text.contains("locked"), "pay {i}: {text}");
    }
    let list = crate::serve::payments_list(&config);
    assert_eq!(
        list.lines().filter(|l| l.contains("succeeded")).count(),
        9,
        "{list}"
    );
    // The journal and its WAL are the operator's alone.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        for name in ["payhost.db", "payhost.db-wal"] {
            let path = dir.path().join(name);
            if let Ok(meta) = std::fs::metadata(&path) {
                assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{name}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_host_whose_lease_lapsed_cannot_overwrite_the_operators_resolution_on_both_backends() {
    let pg = PgServer::start().unwrap_or_else(|e| panic!("{e}"));
    let url = pg.database().unwrap();
    // SQLite (the workspace's file), then the PostgreSQL database.
    for journal in [String::new(), format!("journal = {url:?}\n")] {
        lease_lapsed_while_paused(&journal).await;
    }
}

/// The host pauses (SIGSTOP) mid-payment past its lease; the operator
/// resolves the attempt from the CLI; the host wakes and its answer does
/// not overwrite the resolution. `journal` is the `[host]` line naming
/// the journal, or nothing for the workspace's SQLite file.
async fn lease_lapsed_while_paused(journal: &str) {
    let sim = Simulator::start().await.unwrap();
    let dir = workspace(&sim, &[artifacts::PAYHOST_ATLAS]);
    host_settings(
        dir.path(),
        &format!("{journal}lease = \"1s\"\njournal_wait = \"300ms\""),
    );
    let server = Server::start(dir.path());
    let client = reqwest::Client::new();
    let paying =
        paying_at_the_supplier(&client, &server, &sim, "FAULT-delay-stale", "stale-1").await;
    // The host stops (a long pause), its lease lapses, and another process
    // marks the attempt unknown; the operator resolves it.
    let pid = server.child.id().to_string();
    signal(&pid, "-STOP");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let resolved = Command::new(payhost_bin())
        .args([
            "payments",
            "resolve",
            "1",
            "--as",
            "failed",
            "--note",
            "supplier: no charge",
            "--config",
        ])
        .arg(dir.path().join("payhost.toml"))
        .output()
        .unwrap();
    signal(&pid, "-CONT");
    assert!(
        resolved.status.success(),
        "{journal}: {}",
        String::from_utf8_lossy(&resolved.stderr)
    );
    // The host wakes, the supplier's answer comes: the resolution stands.
    let (status, answer) = paying.await.unwrap();
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (409, Some("superseded")),
        "{journal}: {answer:#}"
    );
    let (_, attempt) = get(&client, &format!("{}/v1/payments/1", server.url)).await;
    assert_eq!(attempt["state"], "failed", "{attempt:#}");
    // The command line records the operating system's user.
    let by = attempt["resolved_by"].as_str().unwrap_or_default();
    assert!(by.starts_with("cli:") && by.len() > 4, "{attempt:#}");
    assert_eq!(attempt["late_outcome"]["state"], "succeeded", "{attempt:#}");
}

/// The probe (`base_url`, `allowed` and `extra` as `support::probe`
/// takes them) through a host whose SQLite journal, opened with
/// `options`, is a file in the workspace: the workspace, the host and the
/// file.
async fn probe_journaled(
    base_url: &str,
    allowed: &[&str],
    extra: &str,
    options: payhost::JournalOptions,
) -> (payhost_tests::Workspace, payhost::Host, PathBuf) {
    let (ws, _) = crate::support::probe(base_url, allowed, extra);
    let file = ws.path().join("journal.db");
    let host = ws
        .host()
        .await
        .with_journal(payhost::Journal::open_with(&file, options).unwrap());
    (ws, host, file)
}

/// Waits until `host`'s first attempt is written `unknown`.
async fn first_attempt_written_unknown(host: &payhost::Host) {
    let journal = host.journal().unwrap();
    eventually(
        "the attempt written unknown",
        Duration::from_secs(5),
        || async { journal.get(1).await.unwrap().state == payhost::AttemptState::Unknown },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_payment_whose_future_is_dropped_mid_call_is_unknown_not_in_flight() {
    // A library user who drops `Host::execute` (a timeout of their own)
    // leaves no attempt in flight for the life of the process.
    let (_ws, host, _) = probe_journaled(
        "https://probe.example.com",
        &[],
        "cpu = \"5s\"",
        payhost::JournalOptions::default(),
    )
    .await;
    let dropped = tokio::time::timeout(
        Duration::from_millis(300),
        host.execute("probe", payhost_tests::request(&[("action", "loop")])),
    )
    .await;
    assert!(dropped.is_err(), "the call was meant to be cut");
    first_attempt_written_unknown(&host).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_host_does_not_resolve_through_its_own_api_an_attempt_it_is_still_running() {
    // The host pauses past its lease; another process opens the journal
    // and marks the attempt unknown; the host wakes, still waiting for the
    // supplier. Its own API must not settle the attempt meanwhile (as
    // `failed`, the order could be paid again while the first call may
    // still charge): the supplier's answer comes first.
    let sim = Simulator::start().await.unwrap();
    let dir = workspace(&sim, &[artifacts::PAYHOST_ATLAS]);
    host_settings(dir.path(), "lease = \"1s\"\njournal_wait = \"300ms\"");
    // The supplier never answers; the call ends at its 8 s limit, well
    // after the host is paused and woken.
    let config = dir.path().join("payhost.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("timeout = \"3s\"", "timeout = \"8s\""),
    )
    .unwrap();
    let server = Server::start(dir.path());
    let client = reqwest::Client::new();
    let order = "FAULT-slow-own";
    let paying = paying_at_the_supplier(&client, &server, &sim, order, "own-1").await;
    let pid = server.child.id().to_string();
    // Past the lease.
    signal(&pid, "-STOP");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let listed = Command::new(payhost_bin())
        .args(["payments", "list", "--config"])
        .arg(dir.path().join("payhost.toml"))
        .output()
        .unwrap();
    signal(&pid, "-CONT");
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let (status, answer) = resolve(&client, &server.url, 1, "failed", "supplier: no charge").await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (409, Some("still_running")),
        "{answer:#}"
    );
    // The call ends (late: the attempt was marked unknown), its outcome
    // kept beside it; then the operator may settle it.
    let (status, answer) = paying.await.unwrap();
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (409, Some("superseded")),
        "{answer:#}"
    );
    let (status, answer) = resolve(&client, &server.url, 1, "failed", "supplier: no charge").await;
    assert_eq!(status, 200, "{answer:#}");
    assert_eq!(answer["late_outcome"]["state"], "unknown", "{answer:#}");
    assert_eq!(sim_calls(&client, &sim, "atlas", order).await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_payment_dropped_while_the_journal_is_locked_is_written_unknown_once_it_is_free() {
    // The write that makes an abandoned attempt unknown meets a lock held
    // past the journal's wait: it is tried again until it goes through,
    // not tried once and the attempt left in flight for the life of the
    // process.
    let options = payhost::JournalOptions {
        lease: Duration::from_secs(3),
        busy_timeout: Duration::from_millis(200),
    };
    let (_ws, host, journal_file) =
        probe_journaled("https://probe.example.com", &[], "cpu = \"5s\"", options).await;
    let paying = host.execute("probe", payhost_tests::request(&[("action", "loop")]));
    let locked = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        hold_lock(&journal_file, Duration::from_millis(1500))
    };
    // The lock is taken, then the payment's future is dropped under it.
    let (dropped, locker) = tokio::join!(
        tokio::time::timeout(Duration::from_millis(400), paying),
        locked
    );
    assert!(dropped.is_err(), "the call was meant to be cut");
    tokio::task::spawn_blocking(move || locker.join().unwrap())
        .await
        .unwrap();
    first_attempt_written_unknown(&host).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_payment_sends_nothing_more_once_its_hosts_lease_may_have_lapsed() {
    // Mid-payment the host cannot renew its lease (another process holds
    // the journal's lock past it; a long pause or a cut to PostgreSQL does
    // the same): another host may mark the attempt unknown and a person
    // settle it, so the payment's requests still to go are not sent, not
    // even once the lease is held again. The probe sends eight requests
    // 400 ms apart, the last ones after the lock is let go.
    let recorder = payhost_sandbox::recorder::Recorder::start().await.unwrap();
    let options = payhost::JournalOptions {
        lease: Duration::from_secs(1),
        busy_timeout: Duration::from_millis(200),
    };
    let (_ws, host, journal_file) =
        probe_journaled(&recorder.url(), &[&recorder.url()], "", options).await;
    let url = format!("{}/ok", recorder.url());
    let paying = host.execute(
        "probe",
        payhost_tests::request(&[
            ("action", "burst"),
            ("url", &url),
            ("count", "8"),
            ("gap_ms", "400"),
        ]),
    );
    let locked = async {
        eventually(
            "the first request at the supplier",
            Duration::from_secs(10),
            || async { !recorder.requests().is_empty() },
        )
        .await;
        hold_lock(&journal_file, Duration::from_secs(2))
    };
    let (_, locker) = tokio::join!(paying, locked);
    tokio::task::spawn_blocking(move || locker.join().unwrap())
        .await
        .unwrap();
    let journal = host.journal().unwrap();
    eventually("the outcome recorded", Duration::from_secs(10), || async {
        journal.get(1).await.unwrap().state != payhost::AttemptState::InFlight
    })
    .await;
    let attempt = journal.get(1).await.unwrap();
    let outcome = attempt.outcome.expect("an outcome");
    let results: Vec<String> = (0..8)
        .map(|i| {
            let name = format!("request-{i}");
            outcome
                .details
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        })
        .collect();
    let sent = recorder.requests().len();
    // Sent while the lease held (its first 0.9 s), refused from the
    // moment it may have lapsed, nothing sent after, though the lease is
    // held again from about 2 s on.
    assert!((1..8).contains(&sent), "{sent} sent: {results:?}");
    assert!(
        results[..sent].iter().all(|r| r == "ok") && results[sent..].iter().all(|r| r == "denied"),
        "{sent} sent: {results:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_attempt_postgresql_confirms_too_late_is_settled_as_never_sent_not_left_in_flight() {
    // PostgreSQL takes a payment's attempt and answers only after the host
    // has given up waiting (here a row another session holds; a server
    // that stalls, or a reply lost, does the same): the caller hears the
    // journal did not answer, the connector is never called, and the
    // attempt the server wrote afterwards is settled `failed` (never
    // sent), not left in flight under the host's live lease, holding its
    // key and its order for as long as the host runs.
    let pg = PgServer::start().unwrap_or_else(|e| panic!("{e}"));
    let url = pg.database().unwrap();
    let (ws, _) = crate::support::probe("https://probe.example.com", &[], "");
    let options = payhost::JournalOptions {
        lease: Duration::from_secs(2),
        busy_timeout: Duration::from_millis(500),
    };
    let host = ws
        .host()
        .await
        .with_journal(payhost::Journal::connect(&url, options).await.unwrap());
    // Another session has an attempt under the same key written and not
    // committed: the payment's insert waits on it (reads go on), past
    // the host's limit, and goes through once it is rolled back.
    let mut holder = pg
        .session(
            &url,
            "BEGIN;
             INSERT INTO attempts (idempotency_key, fingerprint, connector, order_id, method, amount,
                                   currency, state, created_at, updated_at)
             VALUES ('confirmed-late', '-', 'probe', 'O-held', 'balance', '1', 'USD', 'failed', 0, 0);
             SELECT pg_sleep(4);
             ROLLBACK;",
        )
        .unwrap();
    eventually(
        "the other session's insert",
        Duration::from_secs(10),
        || async {
            pg.query(
                &url,
                "SELECT count(*) FROM pg_stat_activity
             WHERE state = 'active' AND query LIKE '%pg_sleep(4)%' AND pid <> pg_backend_pid()",
            )
            .unwrap()
                == "1"
        },
    )
    .await;
    let mut request = payhost_tests::request(&[("action", "config")]);
    request.idempotency_key = "confirmed-late".into();
    let answer = tokio::time::timeout(Duration::from_secs(60), host.execute("probe", request))
        .await
        .expect("the caller is answered while the journal does not answer");
    match answer {
        Err(payhost::PayError::Journal(payhost::JournalError::Unanswered { .. })) => {}
        other => panic!("expected the journal's silence, got {other:?}"),
    }
    tokio::task::spawn_blocking(move || holder.wait().unwrap())
        .await
        .unwrap();
    let journal = host.journal().unwrap();
    eventually(
        "the attempt written late settled as never sent",
        Duration::from_secs(15),
        || async {
            journal
                .by_key("confirmed-late")
                .await
                .ok()
                .flatten()
                .is_some_and(|a| a.state == payhost::AttemptState::Failed)
        },
    )
    .await;
    let attempt = journal.by_key("confirmed-late").await.unwrap().unwrap();
    let error = attempt.outcome.and_then(|o| o.error).unwrap();
    assert!(error.message.contains("never sent"), "{error:?}");
}

/// Holds `journal`'s write lock from another process's connection for
/// `held`, from a thread; returns once the lock is taken.
fn hold_lock(journal: &Path, held: Duration) -> std::thread::JoinHandle<()> {
    let journal = journal.to_owned();
    let (taken, told) = std::sync::mpsc::channel();
    let holder = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(&journal).unwrap();
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        taken.send(()).unwrap();
        std::thread::sleep(held);
        conn.execute_batch("ROLLBACK").unwrap();
    });
    told.recv().unwrap();
    holder
}

/// `payhost pay` for `order` at Atlas with `key`: its exit code, standard
/// output and standard error.
fn pay_command(dir: &Path, order: &str, key: &str) -> (i32, String, String) {
    let out = Command::new(payhost_bin())
        .args(["pay", "--connector", "atlas", "--order", order])
        .args([
            "--amount",
            "312.99",
            "--currency",
            "USD",
            "--idempotency-key",
            key,
        ])
        .arg("--config")
        .arg(dir.join("payhost.toml"))
        .env("PAYHOST_LOG", "info")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_busy_journal_is_busy_for_the_cli_and_an_outcome_recorded_after_a_wait_is_reported_as_recorded()
 {
    let sim = Simulator::start().await.unwrap();
    let dir = workspace(&sim, &[artifacts::PAYHOST_ATLAS]);
    host_settings(dir.path(), "journal_wait = \"1s\"");
    let journal = dir.path().join("payhost.db");
    // The journal exists before anyone holds it.
    let (code, _, stderr) = pay_command(dir.path(), "ATL-OK-first", "busy-0");
    assert_eq!(code, 0, "{stderr}");

    // Locked past the wait from the start: busy (5), nothing sent.
    let holder = hold_lock(&journal, Duration::from_secs(3));
    let (code, _, stderr) = pay_command(dir.path(), "ATL-OK-busy", "busy-1");
    holder.join().unwrap();
    assert_eq!(code, 5, "{stderr}");
    assert!(stderr.contains("busy"), "{stderr}");
    assert_eq!(sim.pay_calls(Supplier::Atlas, "ATL-OK-busy"), 0);

    // Locked while the supplier answers, past the wait but within the
    // lease: the outcome is recorded once the lock is free, and reported
    // as what was recorded; no line says nothing was sent.
    let order = "FAULT-delay-busy";
    let paying = {
        let dir = dir.path().to_owned();
        std::thread::spawn(move || pay_command(&dir, order, "busy-2"))
    };
    while sim.pay_calls(Supplier::Atlas, order) == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let holder = hold_lock(&journal, Duration::from_millis(3500));
    let (code, stdout, stderr) = paying.join().unwrap();
    holder.join().unwrap();
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("succeeded"), "{stdout}");
    assert!(!stderr.contains("nothing was sent"), "{stderr}");
    let list = crate::serve::payments_list(&dir.path().join("payhost.toml"));
    assert!(
        list.lines()
            .any(|l| l.contains("FAULT-delay-busy") && l.contains("succeeded")),
        "{list}"
    );
    assert_eq!(sim.pay_calls(Supplier::Atlas, order), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_waiting_past_the_shutdown_grace_is_answered_with_its_attempt_id() {
    let sim = Simulator::start().await.unwrap();
    let dir = workspace(&sim, &[artifacts::PAYHOST_ATLAS]);
    let config = dir.path().join("payhost.toml");
    // The payment outlives the grace and the moment after it in which
    // answers are sent: the connector's call may take 20 s, the supplier
    // takes 30.
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("timeout = \"3s\"", "timeout = \"20s\"");
    std::fs::write(&config, format!("{text}\n[api]\nshutdown_grace = \"1s\"\n")).unwrap();
    let mut server = Server::start(dir.path());
    let client = reqwest::Client::new();
    let order = "FAULT-slow-drain";
    let (c, url) = (client.clone(), server.url.clone());
    let waiting =
        tokio::spawn(async move { post(&c, &url, &body("atlas", order, "drain-1")).await });
    while sim.pay_calls(Supplier::Atlas, order) == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.terminate();
    let (status, answer) = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("the client was not answered")
        .unwrap();
    assert_eq!(
        (status, answer["outcome"]["state"].as_str()),
        (200, Some("unknown")),
        "{answer:#}"
    );
    let id = answer["id"].as_i64().expect("the attempt's id");
    let exited = server.child.wait().unwrap();
    assert!(exited.success(), "{exited:?}");
    // What the journal says of it, read by a new host: unknown, to resolve.
    let server = Server::start(dir.path());
    let (status, attempt) = get(&client, &format!("{}/v1/payments/{id}", server.url)).await;
    assert_eq!(
        (status, attempt["state"].as_str()),
        (200, Some("unknown")),
        "{attempt:#}"
    );
    assert_eq!(sim.pay_calls(Supplier::Atlas, order), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_journal_deleted_under_a_serving_host_stops_its_payments_and_loses_none() {
    let sim = Simulator::start().await.unwrap();
    let dir = workspace(&sim, &[artifacts::PAYHOST_ATLAS]);
    let mut server = Server::start(dir.path());
    let client = reqwest::Client::new();
    let (status, answer) = post(
        &client,
        &server.url,
        &body("atlas", "ATL-OK-kept", "kept-1"),
    )
    .await;
    assert_eq!(
        (status, answer["outcome"]["state"].as_str()),
        (200, Some("succeeded")),
        "{answer:#}"
    );
    // An attempt whose outcome is unknown (the supplier hung up).
    let (status, answer) = post(
        &client,
        &server.url,
        &body("atlas", "ATL-FAULT-drop-kept", "drop-1"),
    )
    .await;
    assert_eq!(
        (
            status,
            answer["outcome"]["state"].as_str(),
            answer["id"].as_i64()
        ),
        (200, Some("unknown"), Some(2)),
        "{answer:#}"
    );
    let journal = dir.path().join("payhost.db");
    for file in ["payhost.db", "payhost.db-wal"] {
        std::fs::remove_file(dir.path().join(file)).unwrap();
    }
    // The next payment is refused before anything is sent.
    let (status, answer) = post(
        &client,
        &server.url,
        &body("atlas", "ATL-OK-after", "after-1"),
    )
    .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (503, Some("journal_unwritable")),
        "{answer:#}"
    );
    assert_eq!(sim.pay_calls(Supplier::Atlas, "ATL-OK-after"), 0);
    let (status, health) = get(&client, &format!("{}/healthz", server.url)).await;
    assert_eq!(
        (status, health["status"].as_str()),
        (503, Some("journal_unwritable"))
    );
    // Nor is a settlement taken into the file that is gone (it would be
    // answered as recorded and lost with it).
    let (status, answer) = resolve(
        &client,
        &server.url,
        2,
        "failed",
        "Atlas support: no charge",
    )
    .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (503, Some("journal_unwritable")),
        "{answer:#}"
    );
    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
    assert!(log.contains("deleted or renamed"), "{log}");
    server.kill();

    // Every attempt it had written is back at the path: a retry with the
    // same key replays, a new key for the paid order is refused.
    assert!(journal.exists());
    let server = Server::start(dir.path());
    let (status, answer) = post(
        &client,
        &server.url,
        &body("atlas", "ATL-OK-kept", "kept-1"),
    )
    .await;
    assert_eq!(
        (
            status,
            answer["replayed"].as_bool(),
            answer["outcome"]["state"].as_str()
        ),
        (200, Some(true), Some("succeeded")),
        "{answer:#}"
    );
    let (status, answer) = post(
        &client,
        &server.url,
        &body("atlas", "ATL-OK-kept", "kept-2"),
    )
    .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (409, Some("order_busy")),
        "{answer:#}"
    );
    let (_, attempt) = get(&client, &format!("{}/v1/payments/2", server.url)).await;
    assert_eq!(attempt["state"], "unknown", "{attempt:#}");
    assert_eq!(sim.pay_calls(Supplier::Atlas, "ATL-OK-kept"), 1);
}
