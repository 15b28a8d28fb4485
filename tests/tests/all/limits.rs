//! Limits: a connector that loops, hoards memory, recurses or traps is
//! stopped, reported as the connector's failure, and the host serves on.

use crate::support::{bare_probe, probe};
use payhost::{ErrorKind, Host, PaymentState};
use payhost_sandbox::recorder::Recorder;
use payhost_tests::{detail, request};
use std::time::{Duration, Instant};

/// The next call on the same host still works.
async fn still_serves(host: &Host) {
    let outcome = host
        .pay("probe", request(&[("action", "clock")]))
        .await
        .unwrap();
    assert_eq!(outcome.state, PaymentState::Succeeded, "{outcome:#?}");
    assert!(detail(&outcome, "now").parse::<u64>().unwrap() > 1_700_000_000);
}

/// The payment failed as the connector's own fault, saying each of `texts`.
fn assert_fault(outcome: payhost::PaymentOutcome, texts: &[&str]) {
    assert_eq!(outcome.state, PaymentState::Failed, "{outcome:#?}");
    let error = outcome.error.unwrap();
    assert_eq!(error.kind, ErrorKind::ConnectorFault);
    assert!(
        texts.iter().all(|t| error.message.contains(t)),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn an_infinite_loop_is_stopped_at_its_cpu_limit() {
    let (ws, _) = probe("https://probe.example.com", &[], "cpu = \"300ms\"");
    let host = ws.host().await;
    let started = Instant::now();
    let outcome = host
        .pay("probe", request(&[("action", "loop")]))
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert_fault(outcome, &["CPU limit of 300ms", "nothing was sent"]);
    // Well before the 30 s timeout, with room for the load tests that may
    // run beside it on two cores.
    assert!(
        elapsed < Duration::from_secs(10),
        "stopped after {elapsed:?}"
    );
    still_serves(&host).await;
}

#[tokio::test]
async fn a_memory_bomb_is_refused_at_its_memory_limit() {
    let (ws, _) = probe("https://probe.example.com", &[], "memory = \"32MiB\"");
    let host = ws.host().await;
    let outcome = host
        .pay("probe", request(&[("action", "memory")]))
        .await
        .unwrap();
    assert_fault(outcome, &["memory limit of 32 MiB"]);
    still_serves(&host).await;
}

#[tokio::test]
async fn deep_recursion_and_a_panic_are_the_connectors_failure() {
    let (ws, _) = probe("https://probe.example.com", &[], "");
    let host = ws.host().await;
    let outcome = host
        .pay("probe", request(&[("action", "recurse")]))
        .await
        .unwrap();
    assert_eq!(outcome.state, PaymentState::Failed, "{outcome:#?}");
    let message = &outcome.error.as_ref().unwrap().message;
    assert!(
        message.contains("trapped") && message.contains("stack"),
        "{message}"
    );
    still_serves(&host).await;

    let outcome = host
        .pay("probe", request(&[("action", "trap")]))
        .await
        .unwrap();
    assert_fault(outcome, &["connector `probe` trapped"]);
    still_serves(&host).await;
}

#[tokio::test]
async fn a_trap_after_a_request_left_makes_the_outcome_unknown() {
    let server = Recorder::start().await.unwrap();
    let (ws, _) = probe(&server.url(), &[&server.url()], "");
    let host = ws.host().await;
    let url = format!("{}/ok", server.url());
    let outcome = host
        .pay(
            "probe",
            request(&[("action", "fetch-then-trap"), ("url", &url)]),
        )
        .await
        .unwrap();
    assert_eq!(outcome.state, PaymentState::Unknown, "{outcome:#?}");
    assert!(
        outcome
            .error
            .unwrap()
            .message
            .contains("may have reached the supplier")
    );
    assert_eq!(server.requests().len(), 1);
    still_serves(&host).await;
}

#[tokio::test]
async fn an_outcome_that_contradicts_itself_is_unknown() {
    let (ws, _) = probe("https://probe.example.com", &[], "");
    let host = ws.host().await;
    let outcome = host
        .pay("probe", request(&[("action", "lie")]))
        .await
        .unwrap();
    assert_eq!(outcome.state, PaymentState::Unknown, "{outcome:#?}");
    assert_eq!(outcome.kind(), Some(ErrorKind::ConnectorFault));
}

#[tokio::test]
async fn a_card_number_as_the_charged_amount_is_neither_believed_nor_kept() {
    let (ws, _) = probe("https://probe.example.com", &[], "");
    let host = ws.host().await;
    let outcome = host
        .pay("probe", request(&[("action", "charge-card")]))
        .await
        .unwrap();
    assert_eq!(outcome.state, PaymentState::Unknown, "{outcome:#?}");
    assert_eq!(outcome.kind(), Some(ErrorKind::ConnectorFault));
    assert_eq!(outcome.charged, None);
    assert!(!format!("{outcome:?}").contains("4532015112830366"));
}

#[tokio::test]
async fn an_outcome_too_large_in_its_supplier_code_is_refused() {
    let (ws, _) = probe("https://probe.example.com", &[], "");
    let host = ws.host().await;
    let outcome = host
        .pay("probe", request(&[("action", "big-code")]))
        .await
        .unwrap();
    assert_eq!(outcome.state, PaymentState::Unknown, "{:?}", outcome.error);
    assert_eq!(outcome.kind(), Some(ErrorKind::ConnectorFault));
    assert!(
        outcome
            .error
            .unwrap()
            .message
            .contains("returned an outcome of"),
        "the size limit answered"
    );
}

#[tokio::test]
async fn a_call_writes_at_most_64_kib_of_log() {
    let (ws, _) = probe("https://probe.example.com", &[], "");
    let host = ws.host().await;
    let logs = payhost_tests::LogCapture::start();
    let outcome = host
        .pay("probe", request(&[("action", "log-fat")]))
        .await
        .unwrap();
    assert_eq!(outcome.state, PaymentState::Succeeded, "{outcome:#?}");
    let text = logs.text();
    assert!(text.len() < 100 * 1024, "{} bytes of log", text.len());
    assert!(
        text.contains("lines or 65536 bytes per call were dropped"),
        "{}",
        &text[text.len().saturating_sub(500)..]
    );
}

#[tokio::test]
async fn connections_that_fail_count_against_max_requests() {
    // Granted, and nobody listens there.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let (ws, _) = probe(&url, &[&url], "");
    let host = ws.host().await;
    let outcome = host
        .pay("probe", request(&[("action", "fetch-many"), ("url", &url)]))
        .await
        .unwrap();
    let kinds: Vec<&str> = detail(&outcome, "kinds").split(',').collect();
    assert_eq!(kinds.len(), 12);
    assert!(kinds[..8].iter().all(|k| *k == "connect"), "{kinds:?}");
    assert!(kinds[8..].iter().all(|k| *k == "denied"), "{kinds:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_connector_at_its_concurrency_limit_answers_busy_before_sending() {
    let supplier = Recorder::start().await.unwrap();
    let (ws, _) = probe(&supplier.url(), &[&supplier.url()], "max_concurrent = 2");
    let host = std::sync::Arc::new(ws.host().await);
    let slow = format!("{}/slow?ms=2500", supplier.url());
    let mut calls = Vec::new();
    for i in 0..3 {
        let host = host.clone();
        let slow = slow.clone();
        calls.push(tokio::spawn(async move {
            let mut r = request(&[("action", "fetch"), ("url", &slow)]);
            r.idempotency_key = format!("k-{i}");
            let started = Instant::now();
            (host.pay("probe", r).await, started.elapsed())
        }));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut busy = 0;
    for call in calls {
        match call.await.unwrap() {
            (Ok(outcome), _) => assert_eq!(detail(&outcome, "status"), "200"),
            (Err(e), waited) => {
                busy += 1;
                assert!(matches!(e, payhost::PayError::Busy { limit: 2, .. }), "{e}");
                assert!(e.to_string().contains("nothing was sent"), "{e}");
                assert!(waited < Duration::from_millis(2000), "waited {waited:?}");
            }
        }
    }
    assert_eq!(busy, 1);
    // The busy one sent nothing.
    assert_eq!(supplier.requests().len(), 2);
}

#[tokio::test]
async fn a_reference_or_code_is_kept_printable_and_short() {
    let (ws, _) = probe("https://probe.example.com", &[], "");
    let host = ws.host().await;
    let outcome = host
        .pay("probe", request(&[("action", "odd-reference")]))
        .await
        .unwrap();
    assert_eq!(outcome.state, PaymentState::Succeeded, "{outcome:#?}");
    for field in [&outcome.supplier_reference, &outcome.supplier_code] {
        let field = field.as_deref().unwrap();
        assert!(
            field.chars().count() <= 256,
            "{} characters",
            field.chars().count()
        );
        assert!(field.ends_with('…'), "{field}");
        assert!(
            payhost_rules::text::forbidden_char(field).is_none(),
            "{field:?}"
        );
    }
    assert!(
        outcome
            .supplier_reference
            .unwrap()
            .starts_with("ref\\u{1b}[31m\\u{a}r")
    );
}

/// 64 payments at once through `connector` on a host of 64 instances in
/// `ws`, each with `attributes` and an order and key of its own
/// (`tag`-N): every one must succeed.
async fn sixty_four_at_once(
    ws: &payhost_tests::Workspace,
    connector: &'static str,
    attributes: &'static [(&'static str, &'static str)],
    tag: &'static str,
) {
    let settings = payhost::Settings::load(&ws.path().join("payhost.toml")).unwrap();
    let options = payhost::RuntimeOptions {
        cache_dir: Some(payhost_tests::cache_dir()),
        max_instances: 64,
        ..payhost::RuntimeOptions::default()
    };
    let host = Host::new(settings, &options).unwrap();
    for loaded in host.load_plugins().await {
        loaded.unwrap();
    }
    let host = std::sync::Arc::new(host);
    let started = Instant::now();
    let calls: Vec<_> = (0..64)
        .map(|i| {
            let host = host.clone();
            tokio::spawn(async move {
                let mut r = request(attributes);
                r.order_id = format!("O-{}-{i}", tag.to_uppercase());
                r.idempotency_key = format!("{tag}-{i}");
                host.pay(connector, r).await.unwrap()
            })
        })
        .collect();
    let mut failed = Vec::new();
    for call in calls {
        let outcome = call.await.unwrap();
        if outcome.state != PaymentState::Succeeded {
            failed.push(format!("{:?}", outcome.error));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of 64 honest calls failed in {:?}: {failed:#?}",
        failed.len(),
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn honest_calls_under_load_are_charged_only_for_their_own_code() {
    // Each call has the host hash 8 MiB and runs about a millisecond of its
    // own code. 64 at once on two workers queue behind each other and the
    // host's crypto for far longer than their CPU limit; none of that is
    // theirs.
    let (ws, _) = probe(
        "https://probe.example.com",
        &[],
        "cpu = \"100ms\"\ntimeout = \"120s\"\nmax_concurrent = 64",
    );
    sixty_four_at_once(&ws, "probe", &[("action", "work"), ("rounds", "8")], "load").await;
}

#[tokio::test]
async fn a_connector_without_wasi_that_spins_is_stopped_at_its_cpu_limit() {
    // Its clock is not timed by a call hook: the tick counts the stretch
    // and the yield's future starts it again where the call resumed.
    let ws = bare_probe("cpu = \"300ms\"");
    let host = ws.host().await;
    let started = Instant::now();
    let outcome = host
        .pay("bare-probe", request(&[("action", "loop")]))
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert_fault(outcome, &["CPU limit of 300ms", "nothing was sent"]);
    // Well before the 30 s timeout, with room for the load tests that may
    // run beside it on two cores.
    assert!(
        elapsed < Duration::from_secs(10),
        "stopped after {elapsed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn honest_calls_without_wasi_under_load_are_charged_only_for_their_own_code() {
    // As `honest_calls_under_load_are_charged_only_for_their_own_code`, for
    // a connector that imports no WASI: the host's crypto stops its clock
    // itself (the capability's view holds a `HostSide`), and the waits
    // behind the other calls are not counted. Wasmtime's copy of a host
    // call's arguments is on the connector's clock, and in this debug build
    // it copies 8 MiB per call byte by byte: hence a limit of 400 ms (at
    // 100 ms, one call in 64 went over it on a loaded machine). With the
    // host's crypto on the clock, 50 and 56 of the 64 went over 400 ms.
    let ws = bare_probe("cpu = \"400ms\"\ntimeout = \"120s\"\nmax_concurrent = 64");
    sixty_four_at_once(
        &ws,
        "bare-probe",
        &[("action", "work"), ("rounds", "8")],
        "bare",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_in_wasi_under_load_is_not_charged() {
    // The probe imports WASI: its sleeps are WASI `poll`s, which wait on
    // the host's side, and a call hook stops its clock on each crossing.
    // 64 calls at once on two workers each sleep 80 ms and spin 10 ms of
    // their own; were the sleeps counted, the others' work on the thread
    // meanwhile would be charged to each (see `engine::guest_clock`).
    let (ws, _) = probe(
        "https://probe.example.com",
        &[],
        "cpu = \"60ms\"\ntimeout = \"120s\"\nmax_concurrent = 64",
    );
    sixty_four_at_once(
        &ws,
        "probe",
        &[("action", "nap"), ("ms", "20"), ("times", "4")],
        "nap",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_to_resume_under_load_is_not_charged_without_wasi() {
    // 64 calls at once on two workers, each spinning some 40 ms of its own
    // code: each yields at every tick and waits behind the others far
    // longer than its CPU limit. The clock counts from where a call
    // resumed, not from where it yielded (counted from where it yielded,
    // 50 and 35 of the 64 went over in two runs).
    let ws = bare_probe("cpu = \"300ms\"\ntimeout = \"120s\"\nmax_concurrent = 64");
    sixty_four_at_once(
        &ws,
        "bare-probe",
        &[("action", "spin"), ("iterations", "60000000")],
        "spin",
    )
    .await;
}

#[tokio::test]
async fn on_baseline_code_too_a_loop_and_a_memory_bomb_are_stopped_at_their_limits() {
    // A tiered host with an empty compile cache of its own: the probe loads
    // on Winch's code and runs on it until a scan swaps Cranelift's in.
    let (ws, _) = probe(
        "https://probe.example.com",
        &[],
        "cpu = \"300ms\"\nmemory = \"32MiB\"",
    );
    let cache = tempfile::tempdir().unwrap();
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(cache.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let settings = payhost::Settings::load(&ws.path().join("payhost.toml")).unwrap();
    let host = Host::new(
        settings,
        &payhost::RuntimeOptions {
            cache_dir: Some(cache.path().to_owned()),
            max_instances: 16,
            tiered: true,
            ..payhost::RuntimeOptions::default()
        },
    )
    .unwrap();
    for loaded in host.load_plugins().await {
        let loaded = loaded.unwrap();
        assert_eq!(loaded.cache, payhost::CacheOutcome::Baseline);
    }
    let started = Instant::now();
    let outcome = host
        .pay("probe", request(&[("action", "loop")]))
        .await
        .unwrap();
    assert_fault(outcome, &["CPU limit of 300ms", "nothing was sent"]);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "stopped after {:?}",
        started.elapsed()
    );
    let outcome = host
        .pay("probe", request(&[("action", "memory")]))
        .await
        .unwrap();
    assert_fault(outcome, &["memory limit of 32 MiB"]);
    still_serves(&host).await;
    assert!(
        host.connectors()
            .iter()
            .all(|c| c.cache == payhost::CacheOutcome::Baseline),
        "still on baseline code: no scan swapped it"
    );
}
