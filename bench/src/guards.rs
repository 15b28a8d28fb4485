//! What charging a connector only for its own code costs: a host call
//! untimed, timed by a call hook that marks each crossing (how the host
//! did it before), and timed by the host function itself (how the host's
//! HTTP, crypto and log calls stop the connector's clock now), in one run.

use crate::report::{Report, median, turns};
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

/// The connector's clock as `engine::guest_clock` keeps it: a timestamp
/// where the guest stops and where it starts again, guest time summed
/// between them.
#[derive(Default)]
struct Clock {
    used: Duration,
    since: Option<Instant>,
    host_calls: u32,
}

impl Clock {
    fn stop(&mut self) {
        self.host_calls = self.host_calls.wrapping_add(1);
        if let Some(since) = self.since.take() {
            self.used += since.elapsed();
        }
    }

    fn start(&mut self) {
        self.since = Some(Instant::now());
    }
}

/// How the host function of a run is timed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Timing {
    /// Not at all.
    None,
    /// By a call hook on every crossing (the host before).
    Hook,
    /// By the host function: stopped on entry, started on return (the host
    /// now, in its HTTP, crypto and log calls).
    HostCall,
}

const CALLS: i32 = 1_000_000;

fn per_call(engine: &Engine, module: &Module, timing: Timing) -> wasmtime::Result<f64> {
    let mut store = Store::new(engine, Clock::default());
    if timing == Timing::Hook {
        store.call_hook(|mut ctx, hook| {
            let clock = ctx.data_mut();
            if hook.entering_host() {
                clock.stop();
            } else {
                clock.start();
            }
            Ok(())
        });
    }
    let mut linker = Linker::new(engine);
    if timing == Timing::HostCall {
        linker.func_wrap("h", "f", |mut caller: wasmtime::Caller<'_, Clock>| {
            let clock = caller.data_mut();
            clock.stop();
            clock.start();
        })?;
    } else {
        linker.func_wrap("h", "f", || {})?;
    }
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
    let timings = [Timing::None, Timing::Hook, Timing::HostCall];
    let mut runs: [Vec<f64>; 3] = Default::default();
    // Interleaved, the order turning each round, after a warm-up.
    for timing in timings {
        per_call(&engine, &module, timing)?;
    }
    for (_, i) in turns(12, timings.len()) {
        runs[i].push(per_call(&engine, &module, timings[i])?);
    }
    let [plain, hooked, timed] = runs.map(|mut v| median(&mut v));
    report.line("\n## 1c. What charging only the connector's own code costs (a host call: untimed, timed by a call hook, timed by the host call)\n");
    report.line(format!(
        "A guest calls an empty host function {CALLS} times; median of 12 runs each, interleaved."
    ));
    report.line("");
    report.line("| host call | ns per call |");
    report.line("|---|---|");
    report.line(format!("| untimed | {plain:.1} |"));
    report.line(format!(
        "| timed by a call hook on every crossing (before) | {hooked:.1} |"
    ));
    report.line(format!(
        "| timed by the host function itself (after: the host's HTTP, crypto and log calls) | {timed:.1} |"
    ));
    report.line(format!(
        "\nThe call hook cost {:.1} ns on each of a payment's 23 to 37 crossings (libcalls and the host's calls into the guest included): {:.1} to {:.1} µs per payment. The host now stops the clock of a connector that imports no WASI (the four) only in the calls that work or wait for it, {:.1} ns each; a payment makes one (Atlas, Nemo) or two (HK Ramble, AeroHub): {:.2} to {:.2} µs. A connector that imports WASI keeps the hook: WASI's waits are not the capabilities' to stop the clock in.",
        hooked - plain,
        (hooked - plain) * 23.0 / 1000.0,
        (hooked - plain) * 37.0 / 1000.0,
        timed - plain,
        (timed - plain) / 1000.0,
        (timed - plain) * 2.0 / 1000.0
    ));
    Ok(())
}
