//! `payhost plugins test`: each shipped connector passes its scenarios file
//! (every code its supplier documents) and the built-in scenarios; a
//! connector that reads a fault as a payment fails them; a scenario that
//! expects what the connector does not do fails and says why.

use crate::support::text;
use payhost_tests::{Workspace, artifacts, payhost_bin};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `payhost plugins test WASM --scenarios FILE` (with `--json`): its output.
pub(crate) fn plugins_test(wasm: &str, scenarios: &Path, json: bool) -> Output {
    let mut command = Command::new(payhost_bin());
    command
        .args(["plugins", "test", wasm, "--scenarios"])
        .arg(scenarios);
    if json {
        command.arg("--json");
    }
    command.output().expect("running payhost plugins test")
}

fn scenarios_file(connector: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../plugins")
        .join(connector)
        .join("scenarios.toml")
}

#[test]
fn every_shipped_connector_passes_its_scenarios_and_the_built_in_ones() {
    for (connector, wasm) in [
        ("atlas", artifacts::PAYHOST_ATLAS),
        ("hkramble", artifacts::PAYHOST_HKRAMBLE),
        ("aerohub", artifacts::PAYHOST_AEROHUB),
        ("nemo", artifacts::PAYHOST_NEMO),
    ] {
        let file = scenarios_file(connector);
        let written = std::fs::read_to_string(&file)
            .unwrap()
            .matches("[[scenario]]")
            .count();
        let out = plugins_test(wasm, &file, true);
        assert_eq!(out.status.code(), Some(0), "{connector}: {}", text(&out));
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        let results = report["results"].as_array().unwrap();
        // The file's scenarios, then the six built-in ones.
        assert_eq!(results.len(), written + 6, "{connector}");
        assert!(
            results.iter().all(|r| r["passed"] == true),
            "{connector}: {report:#}"
        );
        assert!(
            results
                .iter()
                .any(|r| r["name"] == "built-in: a timeout after sending is unknown"),
            "{connector}"
        );
    }
}

#[test]
fn a_connector_that_reads_faults_as_payments_fails_the_built_in_scenarios() {
    // The probe's `fetch` calls every answer a success and every transport
    // error a failure: what a careless connector does.
    let ws = Workspace::new();
    let scenarios = ws.path().join("scenarios.toml");
    std::fs::write(
        &scenarios,
        "[connector]\nunpinned = true\n[request]\nattributes = { action = \"fetch\" }\n",
    )
    .unwrap();
    let out = plugins_test(artifacts::PROBE, &scenarios, false);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(3), "{t}");
    for line in [
        "FAIL  built-in: a 5xx HTML page is never succeeded",
        "state: must not be succeeded",
        "FAIL  built-in: an unreadable answer after sending is unknown",
        "state: expected unknown, got succeeded",
    ] {
        assert!(t.contains(line), "missing {line:?} in:\n{t}");
    }
}

#[test]
fn a_scenario_checks_the_outcome_and_the_request_and_says_what_differs() {
    let ws = Workspace::new();
    let scenarios = ws.path().join("scenarios.toml");
    std::fs::write(
        &scenarios,
        r#"
[connector]
config = { request_source = "payhost-test" }
secrets = { client_id = "test-client-id", client_secret = "test-client-secret" }
{placements}
[request]
order_id = "ATL-9"

[[scenario]]
name = "411 read as something else"
answer = { body = '{"status":411,"msg":"declined"}' }
expect = { state = "failed", kind = "card-rejected", code = "411", retryable = true }
[scenario.sent]
method = "GET"
path = "/other.do"
headers = { "x-atlas-client-id" = "another-id", "x-atlas-client-secret" = "not-the-secret" }
json = { "/orderNo" = "ATL-10", "/nothing" = 1 }
"#
        .replace("{placements}", &payhost_sandbox::demo::placements("atlas")),
    )
    .unwrap();
    let out = plugins_test(artifacts::PAYHOST_ATLAS, &scenarios, false);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(3), "{t}");
    for line in [
        "FAIL  411 read as something else",
        "kind: expected card-rejected, got declined",
        "retryable: expected true, got false",
        "method: expected GET, got POST",
        "path: expected /other.do, got /pay.do",
        "header x-atlas-client-id: expected \"another-id\", got \"<secret client_id>\"",
        "header x-atlas-client-secret: expected \"not-the-secret\", got \"<secret client_secret>\"",
        "JSON /orderNo: expected \"ATL-10\", got \"ATL-9\"",
        "JSON /nothing: missing",
        "1 failed",
    ] {
        assert!(t.contains(line), "missing {line:?} in:\n{t}");
    }
    // The test secrets never show in the report: they are named.
    assert!(
        !t.contains("test-client-secret") && !t.contains("test-client-id"),
        "{t}"
    );

    // A timeout the built-in timeout scenario would wait out for hours.
    std::fs::write(&scenarios, "[connector]\ntimeout = \"100y\"\n").unwrap();
    let out = plugins_test(artifacts::PAYHOST_ATLAS, &scenarios, false);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("at most 60s"), "{}", text(&out));

    // A file that is not a scenarios file is a usage error that says where.
    std::fs::write(&scenarios, "[[scenario]]\nname = 3\n").unwrap();
    let out = plugins_test(artifacts::PAYHOST_ATLAS, &scenarios, false);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("scenarios.toml"), "{}", text(&out));
}

#[test]
fn scenarios_pin_the_clock_call_query_and_check_the_reference_headers_and_message() {
    let ws = Workspace::new();
    let scenarios = ws.path().join("scenarios.toml");
    let file = |extra: &str| {
        format!(
            r#"
[connector]
secrets = {{ token = "test-token", aes_key = "024sYXZXMlFKaiAa65IYuMCB0hE2CgaP", nemo_key = "test-nemo-key", hmac_key = "test-hmac-key" }}
unpinned = true
clock = 1700000000

[request]
order_id = "ORD-7"
attributes = {{ action = "status" }}

[[scenario]]
name = "pay: the supplier fails, the payment is unknown"
answer = {{ status = 503, body = "{{}}" }}
expect = {{ state = "unknown", kind = "supplier-unavailable", message = "HTTP 503" }}
[scenario.sent]
headers = {{ "x-time" = "1700000000" }}
headers_present = ["content-type"]
headers_match = {{ "x-time" = "[0-9]{{10}}" }}

[[scenario]]
name = "query: still processing, then paid"
call = "query"
clock = 1800000000
answers = [{{ status = 200, body = '{{"status":"paid","code":"0","reference":"R-77","message":"paid at 10:02"}}' }}]
expect = {{ state = "succeeded", reference = "R-77", message = "paid at" }}
[scenario.sent]
method = "GET"
path = "/status"
query = {{ order = "ORD-7" }}
{extra}
"#
        )
    };
    std::fs::write(&scenarios, file("")).unwrap();
    let out = plugins_test(artifacts::PROBE, &scenarios, false);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(
        t.contains("ok    query: still processing, then paid"),
        "{t}"
    );

    // What differs is said, the message beside the kind.
    std::fs::write(
        &scenarios,
        file(
            r#"
[[scenario]]
name = "wrong on purpose"
clock = 1234567890
answer = { status = 503, body = "{}" }
expect = { kind = "declined", reference = "R-1", message = "no such text" }
[scenario.sent]
headers = { "x-time" = "1700000000" }
headers_present = ["x-signature"]
headers_match = { "x-time" = "[a-z]+" }
"#,
        ),
    )
    .unwrap();
    let out = plugins_test(artifacts::PROBE, &scenarios, false);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(3), "{t}");
    for line in [
        "FAIL  wrong on purpose",
        "kind: expected declined, got supplier-unavailable (\"the supplier answered HTTP 503\")",
        "reference: expected \"R-1\", got none",
        "message: expected one holding \"no such text\"",
        "header x-time: expected \"1700000000\", got \"1234567890\"",
        "header x-signature: missing",
        "header x-time: \"1234567890\" does not match \"[a-z]+\"",
    ] {
        assert!(t.contains(line), "missing {line:?} in:\n{t}");
    }

    // One answer or a list of them, never both; a pattern that is none.
    std::fs::write(
        &scenarios,
        "[[scenario]]\nname = \"both\"\nanswer = { status = 200 }\nanswers = [{ status = 200 }]\nexpect = {}\n",
    )
    .unwrap();
    let out = plugins_test(artifacts::PROBE, &scenarios, false);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("one of the two"), "{}", text(&out));
}

/// The JavaScript connector `cargo xtask test` builds with componentize-qjs.
fn atlas_js() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/plugins-js/atlas-js.wasm");
    assert!(
        path.is_file(),
        "{} is missing: `cargo xtask test` builds it (it needs Node.js and npm)",
        path.display()
    );
    path.to_str().unwrap().to_owned()
}

#[test]
fn the_javascript_connector_passes_the_rust_connectors_scenarios() {
    let out = plugins_test(&atlas_js(), &scenarios_file("atlas"), true);
    let report: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out)));
    assert_eq!(report["connector"], "atlas-js");
    let results = report["results"].as_array().unwrap();
    let failed: Vec<&Value> = results.iter().filter(|r| r["passed"] != true).collect();
    // Every one of Atlas's scenarios, the card's included, and the built-in ones.
    assert!(failed.is_empty(), "{report:#}");
    assert_eq!(results.len(), 34, "{report:#}");
    let card = results
        .iter()
        .find(|r| r["name"] == "a VCC passthrough sends the card for the host to write")
        .expect("the card scenario");
    assert_eq!(card["outcome"]["state"], "succeeded", "{report:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_javascript_connector_pays_through_the_simulator() {
    let sim = payhost_sandbox::sim::Simulator::start().await.unwrap();
    let dir = crate::serve::workspace(&sim, &[]);
    std::fs::copy(atlas_js(), dir.path().join("plugins/atlas-js.wasm")).unwrap();
    // The Atlas section, under the JavaScript connector's name.
    let config = dir.path().join("payhost.toml");
    let text_config = std::fs::read_to_string(&config).unwrap();
    let atlas = &text_config[text_config.find("[connectors.atlas]").unwrap()..];
    let section = &atlas[..atlas.find("\n[").unwrap_or(atlas.len())];
    std::fs::write(
        &config,
        format!(
            "{text_config}\n{}\n",
            section.replace("[connectors.atlas]", "[connectors.atlas-js]")
        ),
    )
    .unwrap();
    let config_arg = config.to_str().unwrap().to_owned();
    let pay_with = |order: &str, card: Option<&str>| {
        let mut args = vec![
            "pay",
            "--connector",
            "atlas-js",
            "--order",
            order,
            "--amount",
            "312.99",
            "--currency",
            "USD",
            "--json",
            "--config",
            &config_arg,
        ];
        if card.is_some() {
            args.extend(["--method", "card", "--card-file", "-"]);
        }
        crate::support::run_payhost(&args, card, &[])
    };
    let pay = |order: &str| pay_with(order, None);
    let out = pay("ATL-OK-JS1");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // The simulator answers success only to the credentials it issued,
    // which the host wrote into the headers the connector named.
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["outcome"]["state"], "succeeded", "{answer:#}");
    assert_eq!(answer["outcome"]["supplier_reference"], "ATL-OK-JS1");
    // A documented refusal from the same simulator: failed, declined.
    let out = pay("ATL-411-JS");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    // A card: its number and CVV placed by the connector as sealed values
    // and written by the host; the simulator pays only a complete card.
    let out = pay_with(
        "ATL-OK-JS-CARD",
        Some(
            r#"{"number": "4532015112830366", "expiry_month": 12, "expiry_year": 2030, "cvv": "123", "holder_first_name": "Ada", "holder_last_name": "Lovelace"}"#,
        ),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["outcome"]["state"], "succeeded", "{answer:#}");
    assert!(!text(&out).contains("4532015112830366"), "{}", text(&out));
}
