//! `extism-peer --url URL --client-id ID --client-secret SECRET --wasm FILE
//! --first N --count N --warm N`: the Atlas balance payment through Extism
//! (the plugin at FILE compiled once, a fresh instance per payment) and
//! through the same crate natively, against the simulator at URL, taking
//! turns in a rotating order; prints one JSON object with each way's times
//! in microseconds (`plugin`, `native`, `kept`: the native build on one
//! ureq agent kept alive) and Extism's version.
//!
//! payhost's benchmark runs it as a child process: Extism 1.41 builds on
//! wasmtime 49, payhost on 48, and two wasmtimes in one build would be
//! two builds of it anyway.

mod http;

use anyhow::{Context, bail};
use extism::convert::Json;
use extism::{CompiledPlugin, Manifest, Plugin, PluginBuilder, Wasm};
use extism_atlas::{Outcome, Payment, State};
use http::{DEADLINE, Ureq};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The kinds of call one round makes, each once, in a rotating order.
#[derive(Clone, Copy)]
enum Way {
    /// The Extism plugin: a fresh `Plugin` from the compiled one, one `pay`.
    Plugin,
    /// The same crate natively, on ureq as Extism's host uses it.
    Native,
    /// The same crate natively, on one ureq agent kept alive.
    Kept,
}

const WAYS: [Way; 3] = [Way::Plugin, Way::Native, Way::Kept];

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |name: &str| -> anyhow::Result<String> {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
            .with_context(|| format!("{name} is missing"))
    };
    let number = |name: &str| -> anyhow::Result<u64> {
        value(name)?
            .parse()
            .with_context(|| format!("{name} is not a number"))
    };
    let url = value("--url")?;
    let config: BTreeMap<String, String> = [
        ("base_url", url.clone()),
        ("client_id", value("--client-id")?),
        ("client_secret", value("--client-secret")?),
        ("request_source", "payhost-demo".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let wasm = std::fs::read(value("--wasm")?).context("reading the plugin")?;
    let (first, count, warm) = (number("--first")?, number("--count")?, number("--warm")?);
    let compiled = compile(wasm, &url, &config)?;
    let agent = ureq::agent();
    let mut samples: [Vec<Duration>; WAYS.len()] = Default::default();
    let mut n = first;
    for i in 0..count + warm {
        for k in 0..WAYS.len() {
            let way = WAYS[(i as usize + k) % WAYS.len()];
            let payment = payment(n);
            n += 1;
            let started = Instant::now();
            let outcome = match way {
                Way::Plugin => pay_extism(&compiled, &payment)?,
                Way::Native => {
                    extism_atlas::pay(&payment, |k| config.get(k).cloned(), &Ureq::UseOnce)
                }
                Way::Kept => extism_atlas::pay(
                    &payment,
                    |k| config.get(k).cloned(),
                    &Ureq::Kept(agent.clone()),
                ),
            };
            let took = started.elapsed();
            if outcome.state != State::Succeeded {
                bail!("payment {} did not succeed: {outcome:?}", payment.order_id);
            }
            if i >= warm {
                samples[way as usize].push(took);
            }
        }
    }
    let mut figures = serde_json::Map::new();
    figures.insert(
        "version".into(),
        extism::extism_version().trim_end_matches('\0').into(),
    );
    for (way, name) in [
        (Way::Plugin, "plugin"),
        (Way::Native, "native"),
        (Way::Kept, "kept"),
    ] {
        let micros: Vec<f64> = samples[way as usize]
            .iter()
            .map(|d| d.as_secs_f64() * 1e6)
            .collect();
        figures.insert(name.into(), micros.into());
    }
    println!("{}", serde_json::Value::Object(figures));
    Ok(())
}

/// The plugin compiled once: only the simulator's host allowed, `config`
/// in the manifest (Extism has no sealed secrets: the plugin reads the
/// credentials), no WASI, no compile cache on disk.
fn compile(
    wasm: Vec<u8>,
    url: &str,
    config: &BTreeMap<String, String>,
) -> anyhow::Result<CompiledPlugin> {
    let url = url::Url::parse(url)?;
    let host = url
        .host_str()
        .context("the simulator's URL names no host")?;
    let manifest = Manifest::new([Wasm::data(wasm)])
        .with_allowed_host(host)
        .with_config(config.iter())
        .with_timeout(DEADLINE);
    PluginBuilder::new(manifest)
        .with_wasi(false)
        .with_cache_disabled()
        .compile()
}

/// An order that pays once at the simulator, as payhost's benchmark makes
/// them (`n` keeps it unique).
fn payment(n: u64) -> Payment {
    Payment {
        order_id: format!("ATL-OK-peer{n}"),
        client_order_id: Some(format!("PLT-{n}")),
        amount: "312.99".into(),
        currency: "USD".into(),
        idempotency_key: format!("bench-extism-{n}"),
    }
}

/// One payment through Extism: a fresh instance from `compiled`, one `pay`
/// call with JSON in and out, the instance dropped.
fn pay_extism(compiled: &CompiledPlugin, payment: &Payment) -> anyhow::Result<Outcome> {
    let mut plugin = Plugin::new_from_compiled(compiled)?;
    let Json(outcome) = plugin.call::<Json<&Payment>, Json<Outcome>>("pay", Json(payment))?;
    Ok(outcome)
}
