//! What one call's store holds: the WASI context that Rust's std needs, the
//! capability contexts, the limits and what went over them.

use crate::capabilities::Capabilities;
use crate::capabilities::config::{Config, ConfigCtx};
use crate::capabilities::crypto::{Crypto, CryptoCtx};
use crate::capabilities::http::{Http, HttpCtx};
use crate::capabilities::log::{Log, LogCtx};
use crate::policy::limits::Limits;
use std::time::{Duration, Instant};
use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// A limit a call went over; it explains the trap that ended the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Ran its own code longer than [`Limits::cpu`].
    Cpu(Duration),
    /// Asked for more linear memory than [`Limits::memory`].
    Memory(u64),
    /// Grew a table past the host's limit.
    Table(usize),
    /// The whole call took longer than [`Limits::timeout`].
    Timeout(Duration),
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::Cpu(limit) => write!(
                f,
                "ran longer than its CPU limit of {limit:?} and was stopped"
            ),
            Fault::Memory(limit) => write!(
                f,
                "tried to use more than its memory limit of {} MiB and was stopped",
                limit >> 20
            ),
            Fault::Table(limit) => write!(
                f,
                "tried to grow a table past {limit} elements and was stopped"
            ),
            Fault::Timeout(limit) => write!(
                f,
                "did not finish within its timeout of {limit:?} and was stopped"
            ),
        }
    }
}

/// The most elements a connector's table may hold.
const MAX_TABLE_ELEMENTS: usize = 100_000;

/// Enforces [`Limits::memory`] and the table limit, and records a breach.
pub(crate) struct Limiter {
    memory: u64,
    pub(crate) fault: Option<Fault>,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired as u64 > self.memory {
            self.fault = Some(Fault::Memory(self.memory));
            return Err(wasmtime::format_err!(
                "memory limit of {} bytes exceeded",
                self.memory
            ));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > MAX_TABLE_ELEMENTS {
            self.fault = Some(Fault::Table(MAX_TABLE_ELEMENTS));
            return Err(wasmtime::format_err!(
                "table limit of {MAX_TABLE_ELEMENTS} elements exceeded"
            ));
        }
        Ok(true)
    }
}

/// The data of one call's store.
pub(crate) struct CallState {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) limiter: Limiter,
    pub(crate) http: HttpCtx,
    pub(crate) crypto: CryptoCtx,
    pub(crate) config: ConfigCtx,
    pub(crate) log: LogCtx,
    pub(crate) limits: Limits,
    pub(crate) started: Instant,
    pub(crate) fault: Option<Fault>,
}

impl CallState {
    pub(crate) fn new(
        wasi: WasiCtx,
        http: HttpCtx,
        crypto: CryptoCtx,
        config: ConfigCtx,
        log: LogCtx,
        limits: Limits,
    ) -> Self {
        CallState {
            wasi,
            table: ResourceTable::new(),
            limiter: Limiter {
                memory: limits.memory,
                fault: None,
            },
            http,
            crypto,
            config,
            log,
            limits,
            started: Instant::now(),
            fault: None,
        }
    }

    /// Time spent running the connector's own code: wall time less host I/O.
    pub(crate) fn cpu_used(&self) -> Duration {
        self.started.elapsed().saturating_sub(self.http.io_time)
    }

    /// The limit breach that ended the call, if any.
    pub(crate) fn fault(&self) -> Option<Fault> {
        self.fault.or(self.limiter.fault)
    }
}

impl Capabilities for CallState {
    fn http(&mut self) -> Http<'_> {
        Http::new(&mut self.http, &mut self.table)
    }

    fn crypto(&mut self) -> Crypto<'_> {
        Crypto::new(&mut self.crypto, &mut self.table)
    }

    fn config(&mut self) -> Config<'_> {
        Config::new(&self.config)
    }

    fn log(&mut self) -> Log<'_> {
        Log::new(&mut self.log)
    }

    fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_refuses_growth_past_its_limits_and_says_which() {
        let mut limiter = Limiter {
            memory: 1 << 20,
            fault: None,
        };
        assert!(limiter.memory_growing(0, 1 << 20, None).unwrap());
        assert!(limiter.table_growing(0, MAX_TABLE_ELEMENTS, None).unwrap());
        assert_eq!(limiter.fault, None);
        assert!(
            limiter
                .table_growing(0, MAX_TABLE_ELEMENTS + 1, None)
                .is_err()
        );
        assert_eq!(limiter.fault, Some(Fault::Table(MAX_TABLE_ELEMENTS)));
        assert!(limiter.memory_growing(0, (1 << 20) + 65536, None).is_err());
        assert_eq!(limiter.fault, Some(Fault::Memory(1 << 20)));
    }
}
