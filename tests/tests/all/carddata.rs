//! Card data never leaves the host unmasked: payments with test cards
//! through every connector and path (success, refusal, faults, a connector
//! that tries to echo the card, invalid cards refused before any connector
//! runs, the CLI in both output forms) are scanned: the host's log at TRACE
//! level, every outcome and error text, the CLI's output, and every file the
//! host wrote. No card number may appear unmasked, and no CVV at all.

use payhost::{Card, PaymentMethod, PaymentState};
use payhost_sandbox::demo::{Case, Setup};
use payhost_sandbox::sim::{ATLAS_TEST_CARDS, Fault};
use payhost_tests::{LogCapture, artifacts, cache_dir, request};
use std::path::{Path, PathBuf};

/// The 19 sandbox test cards of Atlas's page, plus one that is not a test card.
fn cards() -> Vec<&'static str> {
    let mut cards = ATLAS_TEST_CARDS.to_vec();
    cards.push("4111111111111111");
    cards
}
/// The CVVs used: four digits, unlikely to stand alone anywhere else.
const CVVS: [&str; 2] = ["8264", "5731"];

fn card(number: &str, cvv: &str) -> Card {
    Card {
        number: number.into(),
        expiry_month: 11,
        expiry_year: 2031,
        cvv: Some(cvv.into()),
        holder_first_name: "Grace".into(),
        holder_last_name: "Hopper".into(),
        billing_address: None,
        reusable: false,
    }
}

/// Every place in `haystack` where card data stands unmasked.
fn leaks(haystack: &str) -> Vec<String> {
    let mut found = Vec::new();
    for number in cards() {
        let spaced: String = number
            .chars()
            .collect::<Vec<_>>()
            .chunks(4)
            .map(|c| c.iter().collect::<String>())
            .collect::<Vec<_>>()
            .join(" ");
        for form in [number.to_owned(), spaced] {
            if haystack.contains(&form) {
                found.push(format!("card {form}"));
            }
        }
    }
    for cvv in CVVS {
        let bytes = haystack.as_bytes();
        let mut from = 0;
        while let Some(pos) = haystack[from..].find(cvv) {
            let start = from + pos;
            let end = start + cvv.len();
            // A decimal fraction (`0.8264 s`) is a figure, not a CVV.
            let digit_before =
                start > 0 && (bytes[start - 1].is_ascii_digit() || bytes[start - 1] == b'.');
            let digit_after = end < bytes.len() && bytes[end].is_ascii_digit();
            // A timing the log measures (`wall_us=5731`, `ms=8264`) is a
            // figure too: any four digits come up there by chance.
            let token = haystack[..start]
                .rsplit([' ', '\n', '\t'])
                .next()
                .unwrap_or_default();
            let timing = token == "ms=" || token.ends_with("_us=") || token.ends_with("_ms=");
            if !digit_before && !digit_after && !timing {
                let context: String =
                    haystack[start.saturating_sub(40)..(end + 40).min(haystack.len())].to_owned();
                found.push(format!("CVV {cvv} in …{context}…"));
            }
            from = end;
        }
    }
    found
}

fn files_below(dir: &Path, out: &mut Vec<PathBuf>) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                files_below(&path, out)
            } else {
                out.push(path)
            }
        }
    }
}

fn run_cli(args: &[&str], stdin: &str) -> String {
    crate::support::text(&crate::support::run_payhost(
        args,
        Some(stdin),
        &[("PAYHOST_LOG", "trace")],
    ))
}

#[tokio::test(flavor = "current_thread")]
async fn no_card_number_or_cvv_leaves_the_host_unmasked() {
    let plugins: Vec<PathBuf> = [
        artifacts::PAYHOST_ATLAS,
        artifacts::PAYHOST_HKRAMBLE,
        artifacts::PAYHOST_AEROHUB,
        artifacts::PAYHOST_NEMO,
        artifacts::PROBE,
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    let setup = Setup::start(&plugins, &cache_dir(), "timeout = \"1500ms\"")
        .await
        .unwrap();
    let logs = LogCapture::start();
    let mut texts = Vec::new();

    // Every test card through Atlas (VCC and MoR) and AeroHub, with refusals and faults.
    for (i, number) in cards().iter().enumerate() {
        let cvv = CVVS[i % 2];
        for (connector, order, method) in [
            (
                "atlas",
                format!("ATL-OK-card{i}"),
                PaymentMethod::Card(card(number, cvv)),
            ),
            (
                "atlas",
                format!("ATL-OK-mor{i}"),
                PaymentMethod::MerchantOfRecord(card(number, cvv)),
            ),
            (
                "atlas",
                format!("ATL-414-{i}"),
                PaymentMethod::Card(card(number, cvv)),
            ),
            (
                "aerohub",
                format!("AH-OK-card{i}"),
                PaymentMethod::Card(card(number, cvv)),
            ),
        ] {
            let case = Case::new(
                connector,
                "",
                order,
                method,
                (PaymentState::Succeeded, None, None),
            );
            // Four of the page's test cards fail the Luhn check: refused before any connector runs.
            match setup.host.pay(connector, case.request()).await {
                Ok(outcome) => texts.push(format!(
                    "{outcome:?}\n{}",
                    serde_json::to_string(&outcome).unwrap()
                )),
                Err(error) => texts.push(format!("{error}\n{error:?}")),
            }
        }
    }
    for (_, marker) in Fault::ALL.iter().filter(|(f, _)| *f != Fault::Slow) {
        let case = Case::new(
            "atlas",
            "",
            format!("{marker}-card"),
            PaymentMethod::Card(card(cards()[0], CVVS[0])),
            (PaymentState::Unknown, None, None),
        );
        texts.push(format!(
            "{:?}",
            setup.host.pay("atlas", case.request()).await.unwrap()
        ));
    }
    // A connector that tries to log, print and return the card.
    let mut echo = request(&[("action", "card-echo")]);
    echo.method = PaymentMethod::Card(card(cards()[5], CVVS[1]));
    let outcome = setup.host.pay("probe", echo).await.unwrap();
    assert_eq!(outcome.state, PaymentState::Succeeded, "{outcome:#?}");
    texts.push(format!("{outcome:?}"));
    // Cards refused before any connector runs: the error texts.
    for bad in [
        card("4532015112830367", "8264"),
        Card {
            expiry_year: 2001,
            ..card(cards()[1], "8264")
        },
        card(cards()[2], "91x"),
    ] {
        let case = Case::new(
            "atlas",
            "",
            "ATL-OK-bad",
            PaymentMethod::Card(bad.clone()),
            (PaymentState::Failed, None, None),
        );
        let error = setup.host.pay("atlas", case.request()).await.unwrap_err();
        texts.push(format!("{error}\n{error:?}\n{bad:?}"));
    }

    // The CLI, human and JSON, success and failure, at TRACE level.
    let config = setup.dir.path().join("payhost.toml");
    let config = config.to_str().unwrap();
    for (order, json) in [
        ("ATL-OK-cli1", true),
        ("ATL-OK-cli2", false),
        ("ATL-411-cli", false),
    ] {
        let card_json = format!(
            r#"{{"number": "{}", "expiry_month": 11, "expiry_year": 2031, "cvv": "{}", "holder_first_name": "Grace", "holder_last_name": "Hopper"}}"#,
            cards()[3],
            CVVS[0]
        );
        let mut args = vec![
            "pay",
            "--config",
            config,
            "--connector",
            "atlas",
            "--order",
            order,
            "--amount",
            "5",
            "--currency",
            "USD",
            "--method",
            "card",
            "--card-file",
            "-",
        ];
        if json {
            args.push("--json");
        }
        texts.push(run_cli(&args, &card_json));
    }
    let bad_card = format!(
        r#"{{"number": "{}1", "expiry_month": 11, "expiry_year": 2031, "cvv": "{}", "holder_first_name": "G", "holder_last_name": "H"}}"#,
        cards()[3],
        CVVS[0]
    );
    texts.push(run_cli(
        &[
            "pay",
            "--config",
            config,
            "--connector",
            "atlas",
            "--order",
            "ATL-OK-x",
            "--amount",
            "5",
            "--currency",
            "USD",
            "--method",
            "card",
            "--card-file",
            "-",
        ],
        &bad_card,
    ));
    texts.push(run_cli(&["plugins", "list", "--config", config], ""));

    // Every file the host wrote: its directory and the compile cache.
    let mut files = Vec::new();
    files_below(setup.dir.path(), &mut files);
    files_below(&cache_dir(), &mut files);
    let mut scanned_bytes = 0usize;
    let mut binary_leaks = Vec::new();
    for file in &files {
        let bytes = std::fs::read(file).unwrap_or_default();
        scanned_bytes += bytes.len();
        match String::from_utf8(bytes) {
            Ok(text) => texts.push(text),
            // Compiled code: a three-digit CVV stands somewhere by chance, a card number does not.
            Err(e) => {
                let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
                binary_leaks.extend(
                    leaks(&text)
                        .into_iter()
                        .filter(|l| l.starts_with("card"))
                        .map(|l| format!("{}: {l}", file.display())),
                );
            }
        }
    }

    let log = logs.text();
    assert!(
        log.contains("453201******0366") || log.contains("paying with card"),
        "the log was captured"
    );
    texts.push(log);
    let leaked: Vec<String> = texts
        .iter()
        .flat_map(|t| leaks(t))
        .chain(binary_leaks)
        .collect();
    let total: usize = texts.iter().map(String::len).sum();
    println!(
        "card-data scan: {total} bytes of logs, outcomes, errors, CLI output and {} files ({scanned_bytes} bytes); {} leaks",
        files.len(),
        leaked.len()
    );
    assert!(leaked.is_empty(), "card data leaked: {leaked:#?}");
    // The scan itself finds what it looks for, and passes over timings.
    assert_eq!(leaks(&format!("x {} y 8264.", cards()[7])).len(), 2);
    assert_eq!(leaks("cvv=8264 wall_us=5731 ms=8264").len(), 1);
}
