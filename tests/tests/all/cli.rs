//! The `payhost` command as an operator runs it.

use crate::support::{probe, run_payhost, text};
use payhost_sandbox::recorder::Recorder;
use payhost_tests::{Workspace, artifacts, payhost_bin};
use std::process::{Command, Output, Stdio};

/// Runs `payhost` in a fresh temporary directory, so that nothing it writes
/// by default (compile cache, journal) lands in the source tree.
fn run(args: &[&str], stdin: Option<&str>) -> Output {
    run_payhost(args, stdin, &[])
}

#[test]
fn inspect_shows_info_requested_and_granted() {
    let (ws, config) = probe(
        "http://127.0.0.1:9",
        &["http://127.0.0.1:9", "https://elsewhere.example.com"],
        "",
    );
    let out = run(
        &[
            "plugins",
            "inspect",
            "probe",
            "--config",
            config.to_str().unwrap(),
        ],
        None,
    );
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    for line in [
        "name                   probe",
        "version                0.3.1",
        "supplier               Probe test supplier",
        "contract               payhost:connector@0.3.0",
        "methods                balance, card",
        "requested (by the connector's info())",
        "  hosts                config:base_url, https://probe.example.com",
        "  secrets              token, aes_key, nemo_key, hmac_key",
        "granted (requested ∩ allowed in [connectors.probe])",
        "  hosts                http://127.0.0.1:9",
        "  not allowed          https://probe.example.com",
        "  not requested        https://elsewhere.example.com",
    ] {
        assert!(t.contains(line), "missing `{line}` in:\n{t}");
    }
    let out = run(
        &["plugins", "list", "--config", config.to_str().unwrap()],
        None,
    );
    assert!(
        text(&out).contains("probe        0.3.1    Probe test supplier"),
        "{}",
        text(&out)
    );
    drop(ws);
}

#[tokio::test(flavor = "multi_thread")]
async fn pay_reads_the_card_from_stdin_prints_it_masked_and_exits_by_outcome() {
    let server = Recorder::start().await.unwrap();
    let (_ws, config) = probe(&server.url(), &[&server.url()], "");
    let config = config.to_str().unwrap().to_owned();
    let card = r#"{"number": "4532015112830366", "expiry_month": 12, "expiry_year": 2099, "cvv": "737",
                   "holder_first_name": "Ada", "holder_last_name": "Lovelace"}"#;
    let args = [
        "pay",
        "--config",
        &config,
        "--connector",
        "probe",
        "--order",
        "O-7",
        "--amount",
        "10.00",
        "--currency",
        "EUR",
        "--method",
        "card",
        "--card-file",
        "-",
        "--attr",
        "action=card-echo",
        "--json",
    ];
    let out = run(&args, Some(card));
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["outcome"]["state"], "succeeded");
    // The connector never held the number: it saw the last four digits.
    // (The CVV as a run of digits of its own: a log line's timestamp may
    // hold 737 among its microseconds.)
    let cvv_shown = t
        .split(|c: char| !c.is_ascii_digit())
        .any(|digits| digits == "737");
    assert!(
        t.contains("ref-0366") && !t.contains("4532015112830366") && !cvv_shown,
        "{t}"
    );

    // A failure exits 3, an unknown outcome 4.
    let out = run(
        &[
            "pay",
            "--config",
            &config,
            "--connector",
            "probe",
            "--order",
            "O-8",
            "--amount",
            "1",
            "--currency",
            "EUR",
            "--attr",
            "action=trap",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("connector-fault"), "{}", text(&out));
    let target = format!("url={}/ok", server.url());
    let out = run(
        &[
            "pay",
            "--config",
            &config,
            "--connector",
            "probe",
            "--order",
            "O-9",
            "--amount",
            "1",
            "--currency",
            "EUR",
            "--attr",
            "action=fetch-then-trap",
            "--attr",
            &target,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(
        text(&out).contains("Do not pay again before checking with the supplier"),
        "{}",
        text(&out)
    );
}

#[test]
fn usage_and_config_errors_exit_2_with_a_clear_message() {
    let ws = Workspace::new();
    let config = ws.config("[connectors.probe]\nallowed_hosts = \"https://x.example.com\"\n");
    let out = run(
        &["plugins", "list", "--config", config.to_str().unwrap()],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains(
            "`allowed_hosts` must be a list of origins like [\"https://api.example.com\"]"
        ),
        "{}",
        text(&out)
    );

    let config = ws.config("");
    let out = run(
        &[
            "pay",
            "--config",
            config.to_str().unwrap(),
            "--connector",
            "probe",
            "--order",
            "1",
            "--amount",
            "12,50",
            "--currency",
            "EUR",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("the amount is not a plain decimal"),
        "{}",
        text(&out)
    );
}

#[test]
fn check_refuses_a_file_that_is_not_a_connector() {
    let ws = Workspace::new();
    let file = ws.path().join("x.wasm");
    std::fs::write(&file, b"\0asm\x01\0\0\0").unwrap();
    let out = run(&["plugins", "check", file.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out).contains("is a core WebAssembly module, not a component"),
        "{}",
        text(&out)
    );
    let good = ws.plugin(artifacts::PROBE);
    let out = run(&["plugins", "check", good.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("ok: probe 0.3.1 (Probe test supplier) is a valid payhost connector"),
        "{}",
        text(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn text_from_a_connector_cannot_forge_a_row_or_a_log_line() {
    let (_ws, config) = probe("https://probe.example.com", &[], "");
    let config = config.to_str().unwrap().to_owned();
    let out = run(
        &[
            "pay",
            "--config",
            &config,
            "--connector",
            "probe",
            "--order",
            "O-9",
            "--amount",
            "1.00",
            "--currency",
            "USD",
            "--attr",
            "action=inject",
            "-v",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // No escape sequence, carriage return or bidi override reaches the terminal.
    for forbidden in ['\u{1b}', '\r', '\u{202e}'] {
        assert!(
            !stdout.contains(forbidden) && !stderr.contains(forbidden),
            "{stdout}{stderr}"
        );
    }
    // One `state` row, the host's; the connector's detail has its own heading.
    let states: Vec<&str> = stdout.lines().filter(|l| l.starts_with("state")).collect();
    assert_eq!(states, ["state              failed"], "{stdout}");
    assert!(stdout.contains("detail state"), "{stdout}");
    // The connector's newline did not start a log line of its own.
    assert!(stderr.contains("honest line"), "{stderr}");
    assert!(
        !stderr.lines().any(|l| l.starts_with("2099-01-01")),
        "a forged log line: {stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn pay_loads_only_the_connector_it_is_asked_for() {
    let server = Recorder::start().await.unwrap();
    let (ws, config) = probe(&server.url(), &[&server.url()], "");
    // Another file in the directory that would fail to load, and would be
    // reported, if `pay` loaded the whole directory.
    std::fs::write(
        ws.path().join("plugins").join("unrelated.wasm"),
        b"not a component",
    )
    .unwrap();
    let out = run(
        &[
            "pay",
            "-v",
            "--config",
            config.to_str().unwrap(),
            "--connector",
            "probe",
            "--order",
            "O-1",
            "--amount",
            "1.00",
            "--currency",
            "EUR",
            "--attr",
            "action=clock",
        ],
        None,
    );
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(
        !t.contains("unrelated.wasm"),
        "the whole directory was loaded: {t}"
    );
}

#[test]
fn with_payhost_perf_map_set_the_connectors_functions_are_listed_for_perf() {
    let ws = Workspace::new();
    let good = ws.plugin(artifacts::PROBE);
    let cwd = tempfile::tempdir().expect("a temporary directory");
    let listed = |set: bool| {
        let mut cmd = Command::new(payhost_bin());
        cmd.current_dir(cwd.path())
            .args(["plugins", "check", good.to_str().unwrap()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if set {
            cmd.env(payhost::PERF_MAP_ENV, "1");
        } else {
            cmd.env_remove(payhost::PERF_MAP_ENV);
        }
        let child = cmd.spawn().expect("running payhost");
        let map = std::path::PathBuf::from(format!("/tmp/perf-{}.map", child.id()));
        let out = child.wait_with_output().expect("payhost finishes");
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let listed = std::fs::read_to_string(&map).ok();
        let _ = std::fs::remove_file(&map);
        listed
    };
    let map = listed(true).expect("a perf map written with PAYHOST_PERF_MAP=1");
    assert!(
        map.lines().any(|l| l.contains("wasm[0]::function")),
        "the map names the connector's compiled functions: {}",
        &map[..map.len().min(400)]
    );
    assert!(listed(false).is_none(), "no perf map unless asked for");
}
