//! A hostile test connector: each payment's `attack` attribute picks one
//! way to abuse or escape the sandbox, and the outcome's details report what
//! the connector obtained. The host must refuse each attempt or stop the
//! instance within its limits, and keep serving.
//!
//! It uses the contract's bindings directly where the SDK would stop it
//! (`forge-sealed`).

use payhost_sdk::http::Request;
use payhost_sdk::{
    Connector, ConnectorInfo, MethodKind, PaymentOutcome, PaymentRequest, log, register_connector,
};
use std::time::Instant;

struct Hostile;

/// What an attempt got: `refused: <error>` or `obtained: <what>`.
fn result<T: std::fmt::Debug, E: std::fmt::Display>(r: Result<T, E>) -> String {
    match r {
        Ok(v) => format!("obtained: {v:?}"),
        Err(e) => format!("refused: {e}"),
    }
}

/// `denied: …`, `connect: …` (and so on), or `status N` for an answer.
fn fetch(url: &str) -> String {
    match Request::get(url).send() {
        Ok(r) => format!("status {}", r.status),
        Err(e) => format!("{}: {}", e.kind(), e.message()),
    }
}

/// Follows a redirect by hand, as a connector trying to escape would.
fn follow(url: &str) -> PaymentOutcome {
    match Request::get(url).send() {
        Ok(r) if (300..400).contains(&r.status) => {
            let location = r.header("location").unwrap_or_default().to_owned();
            PaymentOutcome::succeeded()
                .detail("first", r.status.to_string())
                .detail("second", fetch(&location))
        }
        other => PaymentOutcome::succeeded().detail("first", format!("{other:?}")),
    }
}

fn files() -> PaymentOutcome {
    PaymentOutcome::succeeded()
        .detail(
            "read /etc/passwd",
            result(std::fs::read_to_string("/etc/passwd").map(|s| s.len())),
        )
        .detail(
            "read ./payhost.toml",
            result(std::fs::read_to_string("payhost.toml").map(|s| s.len())),
        )
        .detail("list /", result(std::fs::read_dir("/").map(|d| d.count())))
        .detail(
            "create /tmp/hostile",
            result(std::fs::write("/tmp/hostile", b"x")),
        )
        .detail("current dir", result(std::env::current_dir()))
}

fn environment() -> PaymentOutcome {
    PaymentOutcome::succeeded()
        .detail("variables", std::env::vars().count().to_string())
        .detail("HOME", result(std::env::var("HOME")))
        .detail("PATH", result(std::env::var("PATH")))
        .detail("arguments", std::env::args().count().to_string())
}

fn sockets(target: &str) -> PaymentOutcome {
    let tcp = std::net::TcpStream::connect(target).map(|_| "connected");
    let udp = std::net::UdpSocket::bind("0.0.0.0:0").and_then(|s| s.send_to(b"x", target));
    let listen = std::net::TcpListener::bind("127.0.0.1:0").map(|_| "listening");
    let lookup = std::net::ToSocketAddrs::to_socket_addrs(&("localhost", 80)).map(|a| a.count());
    PaymentOutcome::succeeded()
        .detail("tcp connect", result(tcp))
        .detail("udp send", result(udp))
        .detail("tcp listen", result(listen))
        .detail("dns lookup", result(lookup))
}

/// Makes sealed handles up from guessed numbers, as a connector hunting for
/// another value's handle would, and hashes each: the host must trap on a
/// handle it never gave, and a real one (this payment's card) can only give
/// a sealed result. Reports what each guess obtained, if the host answers.
#[allow(unsafe_code)]
fn forge_sealed() -> PaymentOutcome {
    use payhost_sdk::bindings::payhost::connector::{crypto, types};
    let mut outcome = PaymentOutcome::succeeded();
    for guess in 0..16u32 {
        // SAFETY: none; forging a handle is the attack.
        let forged = unsafe { types::Sealed::from_handle(guess) };
        let part = types::Part::Sealed(types::SealedRef {
            value: &forged,
            encoding: types::Encoding::Raw,
        });
        let got = match crypto::md5(&[part]) {
            Ok(crypto::Output::Bytes(b)) => format!("bytes {b:?}"),
            Ok(crypto::Output::Sealed(_)) => "sealed".to_owned(),
            Err(e) => format!("refused: {}", e.message()),
        };
        // Never drop what was forged: the drop would name the guess again.
        std::mem::forget(forged);
        outcome = outcome.detail(format!("handle {guess}"), got);
    }
    outcome
}

/// What a crypto call answered, as a detail.
fn crypto_result(
    r: &Result<
        payhost_sdk::bindings::payhost::connector::crypto::Output,
        payhost_sdk::bindings::payhost::connector::crypto::CryptoError,
    >,
) -> String {
    use payhost_sdk::bindings::payhost::connector::crypto::Output;
    match r {
        Ok(Output::Bytes(b)) => format!("bytes {}", b.len()),
        Ok(Output::Sealed(_)) => "sealed".to_owned(),
        Err(e) => format!("refused: {}", e.message()),
    }
}

/// A hundred literal parts that all point at one MiB of the connector's
/// memory: the host would copy that MiB once per part.
#[allow(unsafe_code)]
fn alias_parts() -> PaymentOutcome {
    use payhost_sdk::bindings::payhost::connector::{crypto, types};
    let mut buffer = vec![7u8; 1 << 20];
    let (ptr, len) = (buffer.as_mut_ptr(), buffer.len());
    let parts: Vec<types::Part> = (0..100)
        // SAFETY: none; aliasing one buffer is the attack. The parts are
        // forgotten below, never dropped.
        .map(|_| types::Part::Literal(unsafe { Vec::from_raw_parts(ptr, len, len) }))
        .collect();
    let got = crypto::sha256(&parts);
    std::mem::forget(parts);
    PaymentOutcome::succeeded().detail("result", crypto_result(&got))
}

/// Parts naming the operator's secret `count` times.
fn secret_refs(
    count: usize,
) -> Vec<payhost_sdk::bindings::payhost::connector::types::Part<'static>> {
    use payhost_sdk::bindings::payhost::connector::types;
    (0..count)
        .map(|_| {
            types::Part::Secret(types::SecretRef {
                name: "token".to_owned(),
                encoding: types::Encoding::Raw,
            })
        })
        .collect()
}

/// Reads the monotonic clock in a tight loop and reports the finest step seen.
fn clock() -> PaymentOutcome {
    let start = Instant::now();
    let mut last = start;
    let mut finest = u128::MAX;
    let mut reads = 0u64;
    while start.elapsed().as_millis() < 50 {
        let now = Instant::now();
        let step = now.duration_since(last).as_nanos();
        if step > 0 {
            finest = finest.min(step);
        }
        last = now;
        reads += 1;
    }
    PaymentOutcome::succeeded()
        .detail("finest step ns", finest.to_string())
        .detail("reads", reads.to_string())
}

impl Connector for Hostile {
    fn info() -> ConnectorInfo {
        ConnectorInfo::new(
            "hostile",
            env!("CARGO_PKG_VERSION"),
            "Hostile test supplier",
        )
        .methods([MethodKind::Balance])
        .config_keys(["base_url"])
        .secrets(["token"])
        .hosts(["config:base_url", "https://*.example.com"])
    }

    fn pay(request: PaymentRequest) -> PaymentOutcome {
        match request.attribute("attack").unwrap_or_default() {
            "fetch" => PaymentOutcome::succeeded().detail(
                "result",
                fetch(request.attribute("url").unwrap_or_default()),
            ),
            "follow" => follow(request.attribute("url").unwrap_or_default()),
            "files" => files(),
            "environment" => environment(),
            "sockets" => sockets(request.attribute("target").unwrap_or("127.0.0.1:9")),
            "clock" => clock(),
            "forge-sealed" => forge_sealed(),
            "alias-parts" => alias_parts(),
            // 400,000 references to one secret in one input: gigabytes
            // from a few megabytes of the connector's memory.
            "secret-flood" => {
                use payhost_sdk::bindings::payhost::connector::crypto;
                let got = crypto::sha256(&secret_refs(400_000));
                PaymentOutcome::succeeded().detail("result", crypto_result(&got))
            }
            // Inputs each under the limit, until the call's budget is spent.
            "secret-budget" => {
                use payhost_sdk::bindings::payhost::connector::crypto;
                let parts = secret_refs(400);
                let mut outcome = PaymentOutcome::succeeded();
                for round in 1..=20 {
                    let got = crypto_result(&crypto::sha256(&parts));
                    if got.starts_with("refused") {
                        outcome = outcome
                            .detail("refused at", round.to_string())
                            .detail("result", got);
                        break;
                    }
                }
                outcome
            }
            // Crypto on a MiB at a time, for ever.
            "crypto-forever" => {
                use payhost_sdk::bindings::payhost::connector::{crypto, types};
                let data = vec![3u8; 1 << 20];
                loop {
                    let _ = crypto::sha256(&[types::Part::Literal(data.clone())]);
                }
            }
            "stdin" => {
                let mut line = String::new();
                PaymentOutcome::succeeded()
                    .detail("stdin", result(std::io::stdin().read_line(&mut line)))
            }
            "log-flood" => {
                for i in 0..100_000u32 {
                    log::info(&format!("flood {i}"));
                }
                PaymentOutcome::succeeded()
            }
            "print-flood" => {
                for i in 0..100_000u32 {
                    println!("flood {i} {}", "x".repeat(64));
                }
                PaymentOutcome::succeeded()
            }
            "huge-return" => PaymentOutcome::succeeded().detail("huge", "x".repeat(24 << 20)),
            "many-details" => (0..200_000u32).fold(PaymentOutcome::succeeded(), |o, i| {
                o.detail(i.to_string(), "y")
            }),
            "spin" => loop {
                std::hint::black_box(0u64);
            },
            "trap" => panic!("hostile trap"),
            "forged-panic" => {
                // The log's limits spent first, then a "panic" through the
                // log carrying a card number and a terminal escape, then a
                // trap with nothing on standard error.
                for i in 0..10_000u32 {
                    log::info(&format!("filler {i}"));
                }
                // The number is put together at run time: the file holds no
                // card number for the host's own scans to find.
                let card = format!("{}{}", 411_111u32, std::hint::black_box(1_111_111_111u64));
                log::error(&format!(
                    "panicked at src/forged.rs:1:1:\nleak {card} \u{1b}[2J done"
                ));
                core::arch::wasm32::unreachable()
            }
            other => PaymentOutcome::succeeded().detail("unknown attack", other),
        }
    }
}

register_connector!(Hostile);
