//! The attack corpus: hostile connectors try every way out of the sandbox
//! while two honest connectors (Atlas, HK Ramble) serve steady traffic on
//! the same host. Every attempt must be refused with the named error or
//! stopped within its limit; the host must keep serving; no connection may
//! reach a listener outside the allowlist; no secret may come out. The
//! honest connectors' latency with and without the attack is printed.

use payhost::{ErrorKind, Host, PaymentOutcome, PaymentState};
use payhost_sandbox::demo::{self, Case};
use payhost_sandbox::recorder::Recorder;
use payhost_sandbox::sim::{Credentials, Simulator};
use payhost_tests::{LogCapture, Workspace, artifacts, cache_dir, request};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The probe's token: a newline makes it unusable in a header, so the
/// host's refusal must not quote it.
const TOKEN: &str = "TOPSECRET-7f3a\nsecond-line";

struct Arena {
    host: Arc<Host>,
    sim: Simulator,
    allowed: Recorder,
    /// Listeners nothing may reach: another port, another loopback address, IPv6 loopback.
    forbidden: Vec<Recorder>,
    _ws: Workspace,
}

async fn arena() -> Arena {
    let sim = Simulator::start().await.unwrap();
    let allowed = Recorder::start().await.unwrap();
    let mut forbidden = vec![
        Recorder::start().await.unwrap(),
        Recorder::start_on("127.0.0.2:0".parse().unwrap())
            .await
            .unwrap(),
    ];
    if let Ok(v6) = Recorder::start_on("[::1]:0".parse().unwrap()).await {
        forbidden.push(v6);
    }
    let ws = Workspace::new();
    for artifact in [
        artifacts::PROBE,
        artifacts::HOSTILE,
        artifacts::PAYHOST_ATLAS,
        artifacts::PAYHOST_HKRAMBLE,
    ] {
        ws.plugin(artifact);
    }
    demo::write_secrets(ws.path(), &Credentials::default()).unwrap();
    std::fs::write(ws.path().join("secrets/token"), TOKEN).unwrap();
    let pa = allowed.addr().port();
    ws.config(&format!(
        "{}\n\
         [connectors.probe]\nbase_url = \"http://127.0.0.1:{pa}\"\nallowed_hosts = [\"http://127.0.0.1:{pa}\"]\n\
         cpu = \"300ms\"\nmemory = \"32MiB\"\ntimeout = \"3s\"\nsecrets = {{ token = {{ file = \"secrets/token\" }} }}\nunpinned = true\n\n\
         [connectors.hostile]\nbase_url = \"http://localhost:{pa}\"\nallowed_hosts = [\"http://localhost:{pa}\", \"https://*.example.com\"]\n\
         cpu = \"2s\"\nmemory = \"48MiB\"\ntimeout = \"3s\"\nsecrets = {{ token = {{ file = \"secrets/token\" }} }}\nunpinned = true\n",
        demo::config(&sim.url(), &cache_dir(), "")
    ));
    let host = Arc::new(ws.host().await);
    Arena {
        host,
        sim,
        allowed,
        forbidden,
        _ws: ws,
    }
}

/// An attack, and what the host must answer.
struct Vector {
    name: String,
    connector: &'static str,
    attributes: Vec<(String, String)>,
    check: fn(&PaymentOutcome) -> Result<(), String>,
}

fn v(
    name: impl Into<String>,
    connector: &'static str,
    attributes: &[(&str, &str)],
    check: fn(&PaymentOutcome) -> Result<(), String>,
) -> Vector {
    Vector {
        name: name.into(),
        connector,
        attributes: attributes
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        check,
    }
}

fn detail<'a>(o: &'a PaymentOutcome, key: &str) -> &'a str {
    o.details
        .iter()
        .find(|(k, _)| k == key)
        .map_or("", |(_, v)| v.as_str())
}

fn fault_containing(o: &PaymentOutcome, text: &str) -> Result<(), String> {
    match &o.error {
        Some(e)
            if e.kind == ErrorKind::ConnectorFault
                && e.message.contains(text)
                && o.state != PaymentState::Succeeded =>
        {
            Ok(())
        }
        _ => Err(format!("expected a connector-fault mentioning `{text}`")),
    }
}

fn refused(value: &str, prefix: &str) -> Result<(), String> {
    if value.starts_with(prefix) {
        Ok(())
    } else {
        Err(format!("expected `{prefix}…`, got `{value}`"))
    }
}

fn vectors(a: &Arena) -> Vec<Vector> {
    let pa = a.allowed.addr().port();
    let pf = a.forbidden[0].addr().port();
    let p2 = a.forbidden[1].addr().port();
    let mut list = vec![
        // Resource abuse.
        v("infinite loop", "probe", &[("action", "loop")], |o| {
            fault_containing(o, "CPU limit")
        }),
        v("deep recursion", "probe", &[("action", "recurse")], |o| {
            fault_containing(o, "call stack exhausted")
        }),
        v(
            "linear-memory growth bomb",
            "probe",
            &[("action", "memory")],
            |o| fault_containing(o, "memory limit"),
        ),
        v(
            "huge return value (24 MiB)",
            "hostile",
            &[("attack", "huge-return")],
            |o| fault_containing(o, "returned an outcome of"),
        ),
        v(
            "200,000 details",
            "hostile",
            &[("attack", "many-details")],
            |o| fault_containing(o, "returned an outcome of"),
        ),
        v(
            "log flood (100,000 messages)",
            "hostile",
            &[("attack", "log-flood")],
            |o| {
                // Capped and harmless; on a loaded machine it may meet its CPU limit first.
                if o.state == PaymentState::Succeeded {
                    Ok(())
                } else {
                    fault_containing(o, "CPU limit")
                }
            },
        ),
        v(
            "stdout flood",
            "hostile",
            &[("attack", "print-flood")],
            |o| fault_containing(o, "failed printing to stdout"),
        ),
        v(
            "forged sealed handles (0 to 15) hashed",
            "hostile",
            &[("attack", "forge-sealed")],
            |o| {
                if let Some((k, v)) = o.details.iter().find(|(_, v)| v.starts_with("bytes")) {
                    Err(format!("{k} gave {v}"))
                } else {
                    // The component model traps on a handle it never gave.
                    fault_containing(o, "")
                }
            },
        ),
        // Host memory and time amplified through host calls.
        v(
            "100 parts aliasing one MiB of the connector's memory",
            "hostile",
            &[("attack", "alias-parts")],
            |o| fault_containing(o, "too much data is being copied"),
        ),
        v(
            "400,000 references to a secret in one crypto input",
            "hostile",
            &[("attack", "secret-flood")],
            |o| refused(detail(o, "result"), "refused: this could be up to"),
        ),
        v(
            "secret references over a call's budget (3.2 MB a round)",
            "hostile",
            &[("attack", "secret-budget")],
            |o| match (detail(o, "refused at"), detail(o, "result")) {
                ("11", r) if r.contains("assembled its limit of 33554432 bytes") => Ok(()),
                (at, r) => Err(format!("refused at `{at}`: `{r}`")),
            },
        ),
        v(
            "crypto on a MiB at a time, for ever",
            "hostile",
            &[("attack", "crypto-forever")],
            |o| match &o.error {
                Some(e) if e.kind == ErrorKind::Timeout && e.message.contains("timeout of 3s") => {
                    Ok(())
                }
                _ => Err("expected a timeout".to_owned()),
            },
        ),
        v("trap in pay()", "probe", &[("action", "trap")], |o| {
            fault_containing(o, "the probe was told to trap")
        }),
        v(
            "a panic forged through the log, past its limits, with a card number and a terminal escape",
            "hostile",
            &[("attack", "forged-panic")],
            |o| {
                fault_containing(o, "(panicked at src/forged.rs:1:1: leak ")?;
                let message = &o.error.as_ref().expect("a fault").message;
                if message.contains("4111111111111111") || message.contains('\u{1b}') {
                    return Err(format!("unmasked or unescaped: {message:?}"));
                }
                Ok(())
            },
        ),
        // Network escapes; the hostile connector may call only http://localhost:PA (by name) and https://*.example.com.
        v(
            "a host that is not allowed",
            "hostile",
            &[
                ("attack", "fetch"),
                ("url", &format!("http://127.0.0.2:{p2}/")),
            ],
            |o| refused(detail(o, "result"), "denied: "),
        ),
        v(
            "redirect from an allowed host to one that is not",
            "probe",
            &[
                ("action", "follow"),
                (
                    "url",
                    &format!("http://127.0.0.1:{pa}/redirect?to=http://127.0.0.1:{pf}/"),
                ),
            ],
            |o| {
                refused(detail(o, "http-error"), "denied").and(
                    if detail(o, "first-status") == "302" {
                        Ok(())
                    } else {
                        Err("no 302 seen".into())
                    },
                )
            },
        ),
        v(
            "redirect to 169.254.169.254",
            "probe",
            &[
                ("action", "follow"),
                (
                    "url",
                    &format!(
                        "http://127.0.0.1:{pa}/redirect?to=http://169.254.169.254/latest/meta-data/"
                    ),
                ),
            ],
            |o| refused(detail(o, "http-error"), "denied"),
        ),
        v(
            "the allowed name itself, which resolves to loopback",
            "hostile",
            &[
                ("attack", "fetch"),
                ("url", &format!("http://localhost:{pa}/")),
            ],
            |o| refused(detail(o, "result"), "denied: localhost resolves to"),
        ),
        v(
            "trailing dot and mixed case",
            "hostile",
            &[
                ("attack", "fetch"),
                ("url", &format!("http://LocalHost.:{pa}/")),
            ],
            |o| refused(detail(o, "result"), "denied: "),
        ),
        v(
            "a wrong port",
            "hostile",
            &[
                ("attack", "fetch"),
                ("url", &format!("http://localhost:{pf}/")),
            ],
            |o| refused(detail(o, "result"), "denied: "),
        ),
        v(
            "user info: allowed@evil",
            "hostile",
            &[
                ("attack", "fetch"),
                ("url", &format!("http://localhost:{pa}@127.0.0.2:{p2}/")),
            ],
            |o| refused(detail(o, "result"), "denied: "),
        ),
        v(
            "wildcard edge: *.example.com vs example.com.evil",
            "hostile",
            &[("attack", "fetch"), ("url", "https://example.com.evil/")],
            |o| refused(detail(o, "result"), "denied: "),
        ),
        v(
            "wildcard edge: *.example.com vs badexample.com",
            "hostile",
            &[("attack", "fetch"), ("url", "https://badexample.com/")],
            |o| refused(detail(o, "result"), "denied: "),
        ),
        // Secret exfiltration (the probe holds the secret `token`).
        v(
            "secret as cipher plaintext (sealed, and so is its decryption), header, query and body to a host not allowed, log, stdout, outcome",
            "probe",
            &[
                ("action", "exfiltrate"),
                ("evil_url", &format!("http://127.0.0.1:{pf}/steal")),
            ],
            |o| {
                refused(detail(o, "encrypt-under-own-key"), "sealed")
                    .and(refused(detail(o, "decrypt-own-ciphertext"), "sealed"))
                    .and(refused(detail(o, "send-to-evil"), "denied"))
            },
        ),
        v(
            "secret in an error message",
            "probe",
            &[("action", "roundtrip")],
            |o| match &o.error {
                Some(e)
                    if e.message
                        .contains("holds characters not allowed in a header") =>
                {
                    Ok(())
                }
                _ => Err("expected the header refusal".into()),
            },
        ),
        // WASI escapes.
        v(
            "open, read, list and create files",
            "hostile",
            &[("attack", "files")],
            |o| {
                for key in [
                    "read /etc/passwd",
                    "read ./payhost.toml",
                    "list /",
                    "create /tmp/hostile",
                ] {
                    refused(detail(o, key), "refused: ")?;
                }
                // std's idea of the current directory is a name, not a door.
                match detail(o, "current dir") {
                    "obtained: \"/\"" => Ok(()),
                    other => refused(other, "refused: "),
                }
            },
        ),
        v(
            "read environment variables and arguments",
            "hostile",
            &[("attack", "environment")],
            |o| {
                if detail(o, "variables") != "0" || detail(o, "arguments") != "0" {
                    return Err("the environment is not empty".into());
                }
                refused(detail(o, "HOME"), "refused: ").and(refused(detail(o, "PATH"), "refused: "))
            },
        ),
        v(
            "open sockets (TCP connect, UDP, listen, DNS)",
            "hostile",
            &[
                ("attack", "sockets"),
                ("target", &format!("127.0.0.1:{pf}")),
            ],
            |o| {
                for key in ["tcp connect", "udp send", "tcp listen", "dns lookup"] {
                    refused(detail(o, key), "refused: ")?;
                }
                Ok(())
            },
        ),
        v(
            "read standard input",
            "hostile",
            &[("attack", "stdin")],
            |o| {
                let got = detail(o, "stdin");
                if got == "obtained: 0" || got.starts_with("refused: ") {
                    Ok(())
                } else {
                    Err(format!("read {got}"))
                }
            },
        ),
        v(
            "read the clock at high resolution in a loop",
            "hostile",
            &[("attack", "clock")],
            |o| {
                let finest: u128 = detail(o, "finest step ns")
                    .parse()
                    .map_err(|_| "no figure".to_owned())?;
                if finest >= 1_000_000 {
                    Ok(())
                } else {
                    Err(format!(
                        "saw a {finest} ns step; the clock must be coarse (1 ms)"
                    ))
                }
            },
        ),
    ];
    // Loopback in every literal form, against a name-only allowlist.
    for (form, host) in [
        ("decimal", "2130706433".to_owned()),
        ("hex", "0x7f000001".to_owned()),
        ("octal", "0177.0.0.1".to_owned()),
        ("IPv6 ::1", "[::1]".to_owned()),
        (
            "IPv4-mapped ::ffff:127.0.0.1",
            "[::ffff:127.0.0.1]".to_owned(),
        ),
    ] {
        list.push(v(
            format!("loopback as {form}"),
            "hostile",
            &[
                ("attack", "fetch"),
                ("url", &format!("http://{host}:{pa}/")),
            ],
            |o| refused(detail(o, "result"), "denied: "),
        ));
    }
    list
}

fn p(latencies: &mut [Duration], q: f64) -> Duration {
    latencies.sort();
    latencies
        .get(((latencies.len() as f64 - 1.0) * q).round() as usize)
        .copied()
        .unwrap_or_default()
}

/// Honest payments, alternating Atlas and HK Ramble, until `stop` or `count`.
async fn honest(
    host: Arc<Host>,
    tag: &'static str,
    count: Option<usize>,
    stop: Arc<AtomicBool>,
) -> (Vec<Duration>, Vec<String>) {
    let mut latencies = Vec::new();
    let mut failures = Vec::new();
    let mut n = 0usize;
    while !stop.load(Ordering::Relaxed) && count.is_none_or(|c| n < c) {
        let (connector, order) = if n.is_multiple_of(2) {
            ("atlas", format!("ATL-OK-{tag}{n}"))
        } else {
            ("hkramble", format!("HKR-OK-{tag}{n}"))
        };
        let case = Case::new(
            connector,
            "",
            order,
            payhost::PaymentMethod::Balance,
            (PaymentState::Succeeded, None, None),
        );
        let started = Instant::now();
        match host.pay(connector, case.request()).await {
            Ok(o) if o.state == PaymentState::Succeeded => latencies.push(started.elapsed()),
            other => failures.push(format!("{connector} {n}: {other:?}")),
        }
        n += 1;
        tokio::task::yield_now().await;
    }
    (latencies, failures)
}

#[test]
fn no_vector_escapes_and_honest_connectors_keep_serving() {
    let logs = LogCapture::start();
    let dispatch = logs.dispatch();
    // Two workers, as a host on this machine would have; each logs into the capture.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .on_thread_start(move || std::mem::forget(tracing::dispatcher::set_default(&dispatch)))
        .build()
        .unwrap();
    let a = runtime.block_on(arena());
    runtime.block_on(async {
            // Warm up, then the baseline without an attack.
            let never = Arc::new(AtomicBool::new(false));
            honest(a.host.clone(), "w", Some(20), never.clone()).await;
            let (mut quiet, failures) = honest(a.host.clone(), "q", Some(200), never).await;
            assert!(failures.is_empty(), "{failures:#?}");

            let stop = Arc::new(AtomicBool::new(false));
            let traffic = tokio::spawn(honest(a.host.clone(), "a", None, stop.clone()));
            let mut report = Vec::new();
            let mut escapes = Vec::new();
            for vector in vectors(&a) {
                let attrs: Vec<(&str, &str)> = vector.attributes.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let started = Instant::now();
                let outcome = a.host.pay(vector.connector, request(&attrs)).await.unwrap();
                let elapsed = started.elapsed();
                let verdict = (vector.check)(&outcome);
                report.push(format!(
                    "{:<70} {:<9} {:<16} {:>6} ms  {}",
                    vector.name,
                    outcome.state.to_string(),
                    outcome.kind().map_or("-", |k| k.as_str()),
                    elapsed.as_millis(),
                    if verdict.is_ok() { "held" } else { "ESCAPED" }
                ));
                if let Err(why) = verdict {
                    escapes.push(format!("{}: {why}\n{outcome:#?}", vector.name));
                }
                // The host serves the next call after every vector.
                let after = a.host.pay("atlas", Case::new("atlas", "", format!("ATL-OK-after-{}", report.len()), payhost::PaymentMethod::Balance, (PaymentState::Succeeded, None, None)).request()).await.unwrap();
                assert_eq!(after.state, PaymentState::Succeeded, "after `{}`: {after:#?}", vector.name);
            }
            stop.store(true, Ordering::Relaxed);
            let (mut attacked, failures) = traffic.await.unwrap();
            println!("\nattack corpus ({} vectors):\n{}", report.len(), report.join("\n"));
            let (q99, a99) = (p(&mut quiet, 0.99), p(&mut attacked, 0.99));
            println!(
                "\nhonest traffic p50/p99: {:?}/{:?} without the attack ({} payments), {:?}/{:?} during it ({} payments); p99 ratio {:.2}",
                p(&mut quiet, 0.5), q99, quiet.len(), p(&mut attacked, 0.5), a99, attacked.len(),
                a99.as_secs_f64() / q99.as_secs_f64().max(1e-9)
            );
            assert!(escapes.is_empty(), "{} vectors escaped:\n{}", escapes.len(), escapes.join("\n\n"));
            assert!(failures.is_empty(), "honest payments failed during the attack: {failures:#?}");
        });

    for listener in &a.forbidden {
        assert_eq!(
            listener.connections(),
            0,
            "a connection reached {}",
            listener.url()
        );
    }
    // The allowed listener saw only the probe's redirects and round trip.
    assert!(
        a.allowed
            .requests()
            .iter()
            .all(|r| r.uri.starts_with("/redirect") || r.uri.starts_with("/echo")),
        "{:?}",
        a.allowed.requests()
    );
    // The log was capped, and no secret left the host.
    let text = logs.text();
    assert!(
        text.contains("log lines over the limit of 200 lines or 65536 bytes per call were dropped"),
        "the flood was not capped"
    );
    assert!(
        text.lines().filter(|l| l.contains("flood ")).count() <= 200 * 2,
        "more flood lines than the caps allow"
    );
    for fragment in ["TOPSECRET", "second-line"] {
        assert!(!text.contains(fragment), "`{fragment}` reached the log");
    }
    assert!(a.sim.connections() > 0);
}
