//! What charging a connector only for its own code costs: a host call with
//! and without the call hook that marks each crossing, in one run.

use crate::report::Report;
use std::time::{Duration, Instant};
use wasmtime::{Engine, Linker, Module, Store};

/// A core module whose `run(n)` calls the imported `h.f` `n` times.
const CALLER: &[u8] = &[
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
    0x01, 0x08, 0x02, 0x60, 0x00, 0x00, 0x60, 0x01, 0x7f, 0x00, // types: () and (i32)
    0x02, 0x07, 0x01, 0x01, b'h', 0x01, b'f', 0x00, 0x00, // import h.f: ()
    0x03, 0x02, 0x01, 0x01, // one function of type (i32)
    0x07, 0x07, 0x01, 0x03, b'r', b'u', b'n', 0x00, 0x01, // export run
    0x0a, 0x1a, 0x01, 0x18, 0x00, // code: one body, no locals
    0x02, 0x40, 0x03, 0x40, // block, loop
    0x20, 0x00, 0x45, 0x0d, 0x01, // local.get 0, i32.eqz, br_if 1
    0x10, 0x00, // call h.f
    0x20, 0x00, 0x41, 0x01, 0x6b, 0x21, 0x00, // n -= 1
    0x0c, 0x00, 0x0b, 0x0b, 0x0b, // br 0, end, end, end
];

/// The product's hook, as `engine::runtime` sets it: a timestamp on every
/// crossing, guest time summed between them.
#[derive(Default)]
struct Clock {
    used: Duration,
    since: Option<Instant>,
    crossings: u32,
}

const CALLS: i32 = 1_000_000;

fn per_call(engine: &Engine, module: &Module, hooked: bool) -> wasmtime::Result<f64> {
    let mut store = Store::new(engine, Clock::default());
    if hooked {
        store.call_hook(|mut ctx, hook| {
            let clock = ctx.data_mut();
            if hook.entering_host() {
                clock.crossings = clock.crossings.wrapping_add(1);
                if let Some(since) = clock.since.take() {
                    clock.used += since.elapsed();
                }
            } else {
                clock.since = Some(Instant::now());
            }
            Ok(())
        });
    }
    let mut linker = Linker::new(engine);
    linker.func_wrap("h", "f", || {})?;
    let run = linker
        .instantiate(&mut store, module)?
        .get_typed_func::<i32, ()>(&mut store, "run")?;
    let started = Instant::now();
    run.call(&mut store, CALLS)?;
    Ok(started.elapsed().as_nanos() as f64 / f64::from(CALLS))
}

/// Section 1c.
pub(crate) fn section(report: &mut Report) -> anyhow::Result<()> {
    measure(report).map_err(|e| anyhow::anyhow!("the call-hook benchmark failed: {e:#}"))
}

fn measure(report: &mut Report) -> wasmtime::Result<()> {
    let engine = Engine::default();
    let module = Module::new(&engine, CALLER)?;
    let (mut plain, mut hooked) = (Vec::new(), Vec::new());
    // Interleaved, the first of each pair alternating, after a warm-up.
    per_call(&engine, &module, false)?;
    per_call(&engine, &module, true)?;
    for round in 0..10 {
        if round % 2 == 0 {
            plain.push(per_call(&engine, &module, false)?);
            hooked.push(per_call(&engine, &module, true)?);
        } else {
            hooked.push(per_call(&engine, &module, true)?);
            plain.push(per_call(&engine, &module, false)?);
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (plain, hooked) = (median(&mut plain), median(&mut hooked));
    report.line("\n## 1c. What charging only the connector's own code costs (a host call, with and without the call hook)\n");
    report.line(format!(
        "A guest calls an empty host function {CALLS} times; median of 10 runs each, interleaved."
    ));
    report.line("");
    report.line("| host call | ns per call |");
    report.line("|---|---|");
    report.line(format!("| without a call hook (before) | {plain:.1} |"));
    report.line(format!(
        "| with the hook timing each crossing (after) | {hooked:.1} |"
    ));
    report.line(format!(
        "\nThe hook costs {:.1} ns per host call. A payment through one of the four connectors makes 23 to 37 host calls (libcalls included; `call ended` at debug level logs `host_calls` and `cpu_us` per call): about {:.1} to {:.1} µs per payment.",
        hooked - plain,
        (hooked - plain) * 23.0 / 1000.0,
        (hooked - plain) * 37.0 / 1000.0
    ));
    Ok(())
}
