//! Hostile suppliers: every connector's answer mapping fed arbitrary and
//! mutated answers (bodies, HTTP statuses, content types). No answer may
//! trap the connector or take the host down, and no answer may make a
//! payment `succeeded` unless the supplier's documented success field says so.

use payhost::{ErrorKind, PaymentMethod, PaymentState};
use payhost_sandbox::demo::{Case, host_at};
use payhost_sandbox::script::{Scripted, ScriptedSupplier};
use payhost_sandbox::sim::{Credentials, Supplier, samples};
use payhost_tests::{cache_dir, connectors};

/// Cases per connector.
const CASES: usize = 300;

/// A small deterministic generator (xorshift64*), so a failure replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Values to put where a status or code stands.
const TRICKY: [&str; 16] = [
    "0",
    "\"0\"",
    "0.0",
    "-0",
    "1e0",
    "true",
    "null",
    "[]",
    "{}",
    "\"\"",
    "99999999999999999999",
    "\" 0\"",
    "\"0 \"",
    "\"O\"",
    "1",
    "\"ok\"",
];

fn mutate(rng: &mut Rng, seed: &str) -> Vec<u8> {
    let mut body = seed.as_bytes().to_vec();
    match rng.below(9) {
        0 => {
            // Flip a few bytes.
            for _ in 0..=rng.below(4) {
                let i = rng.below(body.len());
                body[i] ^= 1 << rng.below(8);
            }
        }
        1 => body.truncate(rng.below(body.len())),
        2 => {
            let i = rng.below(body.len());
            let junk = rng.pick(&[
                "\u{0}", "\"", "}", "]]", "<", "&bogus;", "<Error>", "\u{feff}", "💳", "\\u0000",
            ]);
            body.splice(i..i, junk.bytes());
        }
        3 => {
            // Another value where the status or code is.
            let text = String::from_utf8_lossy(&body).into_owned();
            let value = rng.pick(&TRICKY);
            let replaced = text
                .replacen("\"status\": 0", &format!("\"status\": {value}"), 1)
                .replacen("\"status\":0", &format!("\"status\":{value}"), 1)
                .replacen("\"errorCode\":\"0\"", &format!("\"errorCode\":{value}"), 1)
                .replacen("fully_paid", value.trim_matches('"'), 1);
            body = replaced.into_bytes();
        }
        4 => {
            let mut wrapped = b"[".to_vec();
            wrapped.extend_from_slice(&body);
            wrapped.push(b']');
            body = wrapped;
        }
        5 => body = (0..rng.below(300)).map(|_| rng.next() as u8).collect(),
        6 => body.clear(),
        7 => {
            // A duplicate key after the real one.
            let text = String::from_utf8_lossy(&body).into_owned();
            body = text
                .replacen(
                    '{',
                    &format!(
                        "{{\"status\":{},\"errorCode\":{},",
                        rng.pick(&TRICKY),
                        rng.pick(&TRICKY)
                    ),
                    1,
                )
                .into_bytes();
        }
        _ => {}
    }
    body
}

/// The supplier's documented success test, restated independently.
fn documented_success(supplier: Supplier, status: u16, body: &[u8]) -> bool {
    if !(200..300).contains(&status) {
        return false;
    }
    match supplier {
        Supplier::Atlas | Supplier::AeroHub => {
            serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .and_then(|v| v.get("status").and_then(serde_json::Value::as_i64))
                == Some(0)
        }
        Supplier::HkRamble => serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .is_some_and(|v| v.get("errorCode").and_then(serde_json::Value::as_str) == Some("0")),
        Supplier::Nemo => {
            let text = String::from_utf8_lossy(body);
            text.contains("<PaymentStatus>fully_paid</PaymentStatus>") && !text.contains("<Error")
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_answer_traps_a_connector_or_fakes_a_success() {
    let scripted = ScriptedSupplier::start().await.unwrap();
    let plugins = connectors();
    let (_dir, host) = host_at(
        &scripted.url(),
        &plugins,
        &cache_dir(),
        "",
        &Credentials::default(),
    )
    .await
    .unwrap();
    let mut rng = Rng(0x5eed_cafe_f00d_d00d);
    let mut counts = Vec::new();
    for (connector, supplier) in [
        ("atlas", Supplier::Atlas),
        ("hkramble", Supplier::HkRamble),
        ("aerohub", Supplier::AeroHub),
        ("nemo", Supplier::Nemo),
    ] {
        let seeds = samples(supplier);
        let (mut succeeded, mut failed, mut unknown) = (0, 0, 0);
        for i in 0..CASES {
            let (seed_status, seed) = rng.pick(&seeds).clone();
            let body = if i < seeds.len() {
                seed.into_bytes()
            } else {
                mutate(&mut rng, &seed)
            };
            let status = if rng.below(4) == 0 {
                *rng.pick(&[200, 201, 204, 302, 400, 404, 500, 502, 503])
            } else {
                seed_status
            };
            let content_type = rng
                .pick(&[
                    "application/json",
                    "text/xml; charset=utf-8",
                    "text/html",
                    "application/octet-stream",
                ])
                .to_string();
            scripted.answer(Scripted {
                status,
                content_type,
                body: body.clone(),
            });
            let case = Case::new(
                connector,
                "",
                format!("{}", 100_000 + i),
                PaymentMethod::Balance,
                (PaymentState::Succeeded, None, None),
            );
            let outcome = host.pay(connector, case.request()).await.unwrap();
            let shown = String::from_utf8_lossy(&body);
            assert_ne!(
                outcome.kind(),
                Some(ErrorKind::ConnectorFault),
                "{connector} trapped on HTTP {status} {shown:?}: {outcome:#?}"
            );
            if outcome.state == PaymentState::Succeeded {
                assert!(
                    documented_success(supplier, status, &body),
                    "{connector} succeeded on HTTP {status} {shown:?}: {outcome:#?}"
                );
            }
            match outcome.state {
                PaymentState::Succeeded | PaymentState::Pending => succeeded += 1,
                PaymentState::Failed => failed += 1,
                PaymentState::Unknown => unknown += 1,
            }
        }
        counts.push(format!(
            "{connector}: {succeeded} succeeded, {failed} failed, {unknown} unknown"
        ));
    }
    println!(
        "mutated supplier answers, {CASES} per connector: {}",
        counts.join("; ")
    );
    // The host still serves.
    scripted.answer(Scripted {
        status: 200,
        content_type: "application/json".into(),
        body: samples(Supplier::Atlas)[0].1.clone().into_bytes(),
    });
    let case = Case::new(
        "atlas",
        "",
        "ATL-after",
        PaymentMethod::Balance,
        (PaymentState::Succeeded, None, None),
    );
    assert_eq!(
        host.pay("atlas", case.request()).await.unwrap().state,
        PaymentState::Succeeded
    );
}
