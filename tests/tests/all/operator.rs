//! The operator's day: unknown payments found through the API and the
//! CLI, page by page, and settled with a record of who did it and what
//! the supplier had said.

use crate::durability::get;
use crate::serve::{Server, body, post, workspace};
use payhost_sandbox::sim::Simulator;
use payhost_tests::{artifacts, payhost_bin};
use serde_json::{Value, json};
use std::process::Command;

#[tokio::test(flavor = "multi_thread")]
async fn unknown_payments_are_found_page_by_page_and_settled_with_who_and_what_the_supplier_said() {
    let sim = Simulator::start().await.unwrap();
    let dir = workspace(&sim, &[artifacts::PAYHOST_ATLAS]);
    let server = Server::start(dir.path());
    let client = reqwest::Client::new();
    let url = server.url.clone();
    for (order, key) in [
        ("ATL-OK-find1", "f-1"),
        ("FAULT-drop-find2", "f-2"),
        ("FAULT-drop-find3", "f-3"),
    ] {
        let (status, answer) = post(&client, &url, &body("atlas", order, key)).await;
        assert_eq!(status, 200, "{answer:#}");
    }

    // The unknowns, newest first, one page at a time.
    let (status, page) = get(&client, &format!("{url}/v1/payments?state=unknown&limit=1")).await;
    assert_eq!(status, 200, "{page:#}");
    assert_eq!(
        page["attempts"][0]["order_id"], "FAULT-drop-find3",
        "{page:#}"
    );
    let cursor = page["next"].as_i64().expect("a next page");
    let (_, page) = get(
        &client,
        &format!("{url}/v1/payments?state=unknown&limit=1&cursor={cursor}"),
    )
    .await;
    assert_eq!(
        page["attempts"][0]["order_id"], "FAULT-drop-find2",
        "{page:#}"
    );
    let unknown_id = page["attempts"][0]["id"].as_i64().unwrap();
    let (_, all) = get(
        &client,
        &format!("{url}/v1/payments?state=unknown,succeeded"),
    )
    .await;
    assert_eq!(all["attempts"].as_array().map(Vec::len), Some(3), "{all:#}");
    assert_eq!(all["next"], Value::Null, "{all:#}");

    // A careless query is refused with the form, not echoed.
    for query in [
        "state=4111111111111111",
        "since=soon",
        "limit=0",
        "colour=red",
    ] {
        let (status, answer) = get(&client, &format!("{url}/v1/payments?{query}")).await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (400, Some("invalid_request")),
            "{query}: {answer:#}"
        );
        let text = answer.to_string();
        assert!(
            !text.contains("4111111111111111") && !text.contains("colour"),
            "{text}"
        );
    }

    // The command line finds the same, with times.
    let config = dir.path().join("payhost.toml");
    let out = Command::new(payhost_bin())
        .args(["payments", "list", "--state", "unknown", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("CREATED (UTC)"), "{text}");
    assert_eq!(text.matches("FAULT-drop-find").count(), 2, "{text}");
    assert!(!text.contains("ATL-OK-find1"), "{text}");
    let out = Command::new(payhost_bin())
        .args(["payments", "list", "--since", "yesterday", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is not a time"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Paying a paid order again from the command line: refused by the
    // journal (exit 6), nothing sent.
    let out = Command::new(payhost_bin())
        .args([
            "pay",
            "--connector",
            "atlas",
            "--order",
            "ATL-OK-find1",
            "--amount",
            "312.99",
            "--currency",
            "USD",
            "--config",
        ])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(6),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        sim.pay_calls(payhost_sandbox::sim::Supplier::Atlas, "ATL-OK-find1"),
        1
    );
    let out = Command::new(payhost_bin())
        .args([
            "pay",
            "--connector",
            "atlas",
            "--order",
            "ATL-OK-find4",
            "--amount",
            "312.99",
            "--currency",
            "USD",
            "--config",
        ])
        .arg(&config)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.lines().any(|l| l.starts_with("attempt ")), "{text}");

    // Settled through the API: who and when are kept, and the supplier's
    // own outcome beside the resolution.
    let answer: Value = client
        .post(format!("{url}/v1/payments/{unknown_id}/resolve"))
        .json(&json!({"state": "failed", "note": "Atlas support: no charge"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["resolved_by"], "api:loopback", "{answer:#}");
    let (_, attempt) = get(&client, &format!("{url}/v1/payments/{unknown_id}")).await;
    assert_eq!(attempt["state"], "failed", "{attempt:#}");
    assert!(attempt["resolved_at"].as_i64().is_some(), "{attempt:#}");
    assert_eq!(
        attempt["supplier_outcome"]["state"], "unknown",
        "{attempt:#}"
    );
    assert!(
        attempt["supplier_outcome"]["error"]["kind"].is_string(),
        "{attempt:#}"
    );
    assert_eq!(
        attempt["history"].as_array().map(Vec::len),
        Some(1),
        "{attempt:#}"
    );
    let (_, settled) = get(&client, &format!("{url}/v1/payments?resolved=true")).await;
    assert_eq!(
        settled["attempts"][0]["id"].as_i64(),
        Some(unknown_id),
        "{settled:#}"
    );
}

/// `payhost config check` on the workspace: exit code and standard output.
fn config_check(config: &std::path::Path) -> (Option<i32>, String) {
    let out = Command::new(payhost_bin())
        .args(["config", "check", "--config"])
        .arg(config)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// The line (from 1) of the first line of `text` that starts with `start`.
fn line_of(text: &str, start: &str) -> usize {
    text.lines().position(|l| l.starts_with(start)).unwrap() + 1
}

#[tokio::test(flavor = "multi_thread")]
async fn a_configuration_that_does_not_make_a_whole_host_is_refused_at_start_with_its_lines() {
    let sim = Simulator::start().await.unwrap();
    let dir = workspace(
        &sim,
        &[
            artifacts::PAYHOST_ATLAS,
            artifacts::PAYHOST_HKRAMBLE,
            artifacts::PAYHOST_AEROHUB,
            artifacts::PAYHOST_NEMO,
        ],
    );
    let config = dir.path().join("payhost.toml");
    let whole = std::fs::read_to_string(&config)
        .unwrap()
        .replace("start_degraded = true\n", "");
    std::fs::write(&config, &whole).unwrap();
    let (code, text) = config_check(&config);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("a whole host; 4 connector(s) live"), "{text}");

    // A misspelt section: refused by the check and by serve, at its line.
    let misspelt = whole.replace("[connectors.nemo]", "[connectors.nemoo]");
    std::fs::write(&config, &misspelt).unwrap();
    let line = line_of(&misspelt, "[connectors.nemoo]");
    let (code, text) = config_check(&config);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains(&format!("line {line}")), "{text}");
    assert!(text.contains("did you mean `nemo`"), "{text}");
    // Spawned and waited for with a deadline: a host that starts anyway
    // would otherwise be waited for forever.
    let mut serve = Command::new(payhost_bin())
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while serve.try_wait().unwrap().is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = serve.kill();
    let serve = serve.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&serve.stderr);
    assert_eq!(serve.status.code(), Some(2), "{said}");
    assert!(
        said.contains("not starting") && said.contains(&format!("line {line}")),
        "{said}"
    );
    assert!(!String::from_utf8_lossy(&serve.stdout).contains("listening"));

    // A secret that is not there: the connector that needs it is named.
    std::fs::write(&config, &whole).unwrap();
    std::fs::remove_file(dir.path().join("secrets/aerohub-api_secret")).unwrap();
    let (code, text) = config_check(&config);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("aerohub") && text.contains("secret"),
        "{text}"
    );
    assert!(
        text.contains("[connectors.aerohub] names no live connector"),
        "{text}"
    );
    std::fs::write(dir.path().join("secrets/aerohub-api_secret"), "x").unwrap();

    // A call that may take no time: refused at its line.
    let zero = whole.replacen("timeout = \"3s\"", "timeout = \"0s\"", 1);
    std::fs::write(&config, &zero).unwrap();
    let (code, text) = config_check(&config);
    let out = Command::new(payhost_bin())
        .args(["config", "check", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(code, Some(2), "{text}{said}");
    assert!(said.contains("more than 0s"), "{said}");
    assert!(
        said.contains(&format!("line {}", line_of(&zero, "timeout = \"0s\""))),
        "{said}"
    );

    // Asked to start degraded, it serves what loads and is not ready.
    std::fs::write(
        &config,
        misspelt.replacen("[host]\n", "[host]\nstart_degraded = true\n", 1),
    )
    .unwrap();
    let server = Server::start(dir.path());
    let client = reqwest::Client::new();
    let (status, ready) = get(&client, &format!("{}/readyz", server.url)).await;
    assert_eq!(
        (status, ready["not_live"].as_u64()),
        (503, Some(1)),
        "{ready:#}"
    );
    let (status, _) = get(&client, &format!("{}/healthz", server.url)).await;
    assert_eq!(status, 200);
    let (status, answer) = post(
        &client,
        &server.url,
        &body("atlas", "ATL-OK-degraded", "d-1"),
    )
    .await;
    assert_eq!(
        (status, answer["outcome"]["state"].as_str()),
        (200, Some("succeeded")),
        "{answer:#}"
    );
}

/// `payhost ARGS` with `--server` and the given options: exit code, output
/// and errors.
fn remote_cli(args: &[&str], server: &str, options: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(payhost_bin())
        .args(args)
        .args(["--server", server])
        .args(options)
        .env_remove("PAYHOST_TOKEN")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_reads_and_settles_a_production_host_with_a_token_and_a_ca() {
    let sim = Simulator::start().await.unwrap();
    let dir = workspace(&sim, &[artifacts::PAYHOST_ATLAS]);
    let key = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let cert_pem = key.cert.pem();
    std::fs::write(dir.path().join("cert.pem"), &cert_pem).unwrap();
    std::fs::write(dir.path().join("key.pem"), key.key_pair.serialize_pem()).unwrap();
    use payhost::Scope::{Admin, Pay, Read, Resolve};
    let (ops, ops_line) = payhost::new_token("ops", &[Read, Resolve, Admin]);
    let (shop, shop_line) = payhost::new_token("shop", &[Pay]);
    std::fs::write(dir.path().join("ops.token"), &ops).unwrap();
    std::fs::write(dir.path().join("shop.token"), &shop).unwrap();
    let config = dir.path().join("payhost.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "\n[api]\ntls = {{ cert = \"cert.pem\", key = \"key.pem\" }}\ntokens = [{ops_line}, {shop_line}]\n"
    ));
    std::fs::write(&config, text).unwrap();
    let server = Server::start(dir.path());
    let url = server.url.clone();
    assert!(url.starts_with("https://"), "{url}");
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let answer: Value = client
        .post(format!("{url}/v1/payments"))
        .bearer_auth(&shop)
        .json(&body("atlas", "FAULT-drop-remote", "r-1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["outcome"]["state"], "unknown", "{answer:#}");
    let id = answer["id"].as_i64().unwrap().to_string();

    let ca = dir.path().join("cert.pem");
    let ca = ca.to_str().unwrap();
    let ops_file = dir.path().join("ops.token");
    let ops_file = ops_file.to_str().unwrap();
    let shop_file = dir.path().join("shop.token");
    let shop_file = shop_file.to_str().unwrap();
    let trusted = ["--cacert", ca, "--token-file", ops_file];

    // Found from the operator's machine.
    let (code, out, err) = remote_cli(&["payments", "list", "--state", "unknown"], &url, &trusted);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("FAULT-drop-remote"), "{out}");
    let (code, out, err) = remote_cli(&["payments", "show", &id], &url, &trusted);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("FAULT-drop-remote") && out.contains("(this one)"),
        "{out}"
    );
    let (code, out, err) = remote_cli(&["plugins", "list"], &url, &trusted);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("atlas"), "{out}");
    let (code, out, err) = remote_cli(&["plugins", "inspect", "atlas"], &url, &trusted);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("sha256"), "{out}");

    // Each refusal says what to do.
    let (code, _, err) = remote_cli(&["payments", "list"], &url, &["--cacert", ca]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("401") && err.contains("--token-file"), "{err}");
    let (code, _, err) = remote_cli(
        &["payments", "list"],
        &url,
        &["--cacert", ca, "--token-file", shop_file],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("403") && err.contains("scope"), "{err}");
    let (code, _, err) = remote_cli(&["payments", "list"], &url, &["--token-file", ops_file]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--cacert"), "{err}");

    // Settled on the host, which records the token's name; Atlas cannot
    // be asked, and says so.
    let (code, _, err) = remote_cli(&["payments", "resolve", &id, "--query"], &url, &trusted);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("cannot query"), "{err}");
    let (code, out, err) = remote_cli(
        &[
            "payments",
            "resolve",
            &id,
            "--as",
            "failed",
            "--note",
            "Atlas support: no charge",
        ],
        &url,
        &trusted,
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("api:ops"), "{out}");
    let (code, _, err) = remote_cli(
        &[
            "payments", "resolve", &id, "--as", "failed", "--note", "again",
        ],
        &url,
        &trusted,
    );
    assert_eq!(code, Some(6), "{err}");
    assert!(err.contains("not_unknown"), "{err}");
    // A settled attempt's supplier is not asked again.
    let (code, _, err) = remote_cli(&["payments", "resolve", &id, "--query"], &url, &trusted);
    assert_eq!(code, Some(6), "{err}");
    assert!(err.contains("not_unknown"), "{err}");
    // A token crosses the network only over https.
    let (code, _, err) = remote_cli(
        &["payments", "list"],
        "http://payhost.example:8700",
        &["--token-file", ops_file],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("only over https"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn each_payment_leaves_one_json_log_line_with_its_attempt_and_the_request_id() {
    let sim = Simulator::start().await.unwrap();
    let dir = workspace(&sim, &[artifacts::PAYHOST_ATLAS]);
    let config = dir.path().join("payhost.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replacen("[host]\n", "[host]\nlog_format = \"json\"\n", 1),
    )
    .unwrap();
    let server = Server::start(dir.path());
    let client = reqwest::Client::new();
    let answer = client
        .post(format!("{}/v1/payments", server.url))
        .header("x-request-id", "req-7f3a")
        .json(&body("atlas", "ATL-OK-logged", "log-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.headers()["x-request-id"], "req-7f3a");
    let answer: Value = answer.json().await.unwrap();
    let id = answer["id"].as_i64().unwrap();
    // A request without an id, or with one that is not a plain token, gets
    // a new one.
    let other = client
        .get(format!("{}/healthz", server.url))
        .header("x-request-id", "bad id with spaces and {braces}")
        .send()
        .await
        .unwrap();
    let made = other.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(made.len() == 36 && !made.contains(' '), "{made}");

    let mut payment_lines = Vec::new();
    for _ in 0..50 {
        let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
        payment_lines = log
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .filter(|l| l["fields"]["message"] == "payment")
            .collect();
        if !payment_lines.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(payment_lines.len(), 1, "{payment_lines:#?}");
    let line = &payment_lines[0];
    assert_eq!(line["level"], "INFO", "{line:#}");
    assert_eq!(line["fields"]["attempt"].as_i64(), Some(id), "{line:#}");
    assert_eq!(line["fields"]["order"], "ATL-OK-logged", "{line:#}");
    assert_eq!(line["fields"]["connector"], "atlas", "{line:#}");
    assert_eq!(line["fields"]["state"], "succeeded", "{line:#}");
    assert!(line["fields"]["ms"].as_u64().is_some(), "{line:#}");
    assert_eq!(line["span"]["request_id"], "req-7f3a", "{line:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_come_from_the_journal_and_a_scraper_sees_nothing_else() {
    let sim = Simulator::start().await.unwrap();
    let dir = workspace(&sim, &[artifacts::PAYHOST_ATLAS]);
    use payhost::Scope::{Metrics, Pay};
    let (scraper, scraper_line) = payhost::new_token("prometheus", &[Metrics]);
    let (shop, shop_line) = payhost::new_token("shop", &[Pay]);
    let config = dir.path().join("payhost.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "\n[api]\ntokens = [{scraper_line}, {shop_line}]\n"
    ));
    std::fs::write(&config, text).unwrap();
    let server = Server::start(dir.path());
    let client = reqwest::Client::new();
    let url = &server.url;
    let pay = |order: &str, key: &str| {
        client
            .post(format!("{url}/v1/payments"))
            .bearer_auth(&shop)
            .json(&body("atlas", order, key))
            .send()
    };
    assert_eq!(pay("ATL-OK-m1", "m-1").await.unwrap().status(), 200);
    assert_eq!(pay("ATL-OK-m1", "m-2").await.unwrap().status(), 409);
    // An unknown payment made by the command line, not by this host.
    let out = Command::new(payhost_bin())
        .args([
            "pay",
            "--connector",
            "atlas",
            "--order",
            "FAULT-drop-m3",
            "--amount",
            "1.00",
            "--currency",
            "USD",
            "--config",
        ])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A file that does not load, counted by file and kind.
    std::fs::write(dir.path().join("plugins/broken.wasm"), [0x5a; 64]).unwrap();
    let mut failing = false;
    for _ in 0..100 {
        let text = client
            .get(format!("{url}/metrics"))
            .bearer_auth(&scraper)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if text.contains("payhost_file_load_failures{file=\"broken.wasm\"") {
            failing = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(failing, "broken.wasm was never counted");
    let scrape = client
        .get(format!("{url}/metrics"))
        .bearer_auth(&scraper)
        .send()
        .await
        .unwrap();
    assert_eq!(scrape.status(), 200);
    let metrics = scrape.text().await.unwrap();
    for line in [
        "payhost_payments_total{connector=\"atlas\",state=\"succeeded\"} 1",
        "payhost_attempts_unsettled{connector=\"atlas\",state=\"unknown\"} 1",
        "payhost_refusals_total{code=\"order_busy\"} 1",
        "payhost_http_requests_total{route=\"/v1/payments\",status=\"200\"} 1",
        "payhost_http_requests_total{route=\"/v1/payments\",status=\"409\"} 1",
        "payhost_payments_in_flight 0",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "{line} is missing from:\n{metrics}"
        );
    }
    assert!(
        metrics.lines().any(|l| l.starts_with(
            "payhost_attempts_unsettled_oldest_age_seconds{connector=\"atlas\",state=\"unknown\"} "
        )),
        "{metrics}"
    );
    assert!(metrics.contains("payhost_build_info{version="), "{metrics}");
    assert!(!metrics.contains("kind=\"none\""), "{metrics}");
    // The journal's writes (two payments' begin and finish, at least) and
    // how long they waited for its lock.
    let waits: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("payhost_journal_lock_wait_seconds_count "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no lock waits in:\n{metrics}"));
    assert!(waits >= 2, "{metrics}");
    assert!(metrics.contains("payhost_journal_readable 1"), "{metrics}");
    // The scraper sees no grant and no payment.
    for path in ["/v1/connectors", "/v1/payments", "/v1/payments/1"] {
        let status = client
            .get(format!("{url}{path}"))
            .bearer_auth(&scraper)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 403, "{path}");
    }
}
