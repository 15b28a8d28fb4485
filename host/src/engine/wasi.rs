//! The WASI context a call's store gives a connector built for
//! wasm32-wasip2 (Rust's std reaches for it), built only when the connector
//! first calls a WASI function: most calls never do (the shipped
//! connectors import no WASI at all), so most never build one (its clocks,
//! its random source, two output pipes).

use crate::capabilities::clock::{Clock, CoarseMonotonic, CoarseWall};
use std::time::Instant;
use wasmtime_wasi::WasiCtx;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

/// The most standard output or error a call may write before it is cut.
const STDIO_CAPACITY: usize = 64 * 1024;

/// A call's WASI: nothing until the connector calls a WASI function, then
/// a context with no network, no files, the call's clocks and two pipes
/// that catch what it writes.
pub(crate) struct LazyWasi {
    clock: Clock,
    started: Instant,
    built: Option<Built>,
}

/// A built context and the pipes behind its standard output and error.
struct Built {
    ctx: WasiCtx,
    stdout: MemoryOutputPipe,
    stderr: MemoryOutputPipe,
}

impl LazyWasi {
    /// A call's WASI, its clocks those of a call that started at `started`.
    pub(crate) fn new(clock: Clock, started: Instant) -> Self {
        LazyWasi {
            clock,
            started,
            built: None,
        }
    }

    /// The context, built on first use.
    pub(crate) fn ctx(&mut self) -> &mut WasiCtx {
        let (clock, started) = (self.clock, self.started);
        &mut self
            .built
            .get_or_insert_with(|| {
                let stdout = MemoryOutputPipe::new(STDIO_CAPACITY);
                let stderr = MemoryOutputPipe::new(STDIO_CAPACITY);
                let ctx = WasiCtx::builder()
                    .stdout(stdout.clone())
                    .stderr(stderr.clone())
                    .allow_tcp(false)
                    .allow_udp(false)
                    .allow_ip_name_lookup(false)
                    .socket_addr_check(|_, _| Box::pin(async { false }))
                    .wall_clock(CoarseWall(clock))
                    .monotonic_clock(CoarseMonotonic::since(started))
                    .build();
                Built {
                    ctx,
                    stdout,
                    stderr,
                }
            })
            .ctx
    }

    /// What the connector wrote to its standard output and error, in that
    /// order, named; nothing when it never used WASI.
    pub(crate) fn output(&self) -> [(&'static str, bytes::Bytes); 2] {
        match &self.built {
            Some(built) => [
                ("stdout", built.stdout.contents()),
                ("stderr", built.stderr.contents()),
            ],
            None => [
                ("stdout", Default::default()),
                ("stderr", Default::default()),
            ],
        }
    }
}
