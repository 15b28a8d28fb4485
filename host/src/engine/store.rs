//! What one call's store holds: the WASI context that Rust's std may ask for, the
//! capability contexts, the limits and what went over them.

use crate::capabilities::Capabilities;
use crate::capabilities::config::{Config, ConfigCtx};
use crate::capabilities::crypto::{Crypto, CryptoCtx};
use crate::capabilities::host_side::HostSide;
use crate::capabilities::http::{Http, HttpCtx};
use crate::capabilities::log::{Log, LogCtx};
use crate::engine::guest_clock::GuestClock;
use crate::engine::wasi::LazyWasi;
use crate::policy::limits::Limits;
use std::time::{Duration, Instant};
use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtxView, WasiView};

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

/// Enforces [`Limits::memory`] over all of a store's linear memories
/// together (a component may have several), and the table limit, and
/// records a breach.
pub(crate) struct Limiter {
    memory: u64,
    /// Bytes of all the store's memories.
    used: u64,
    pub(crate) fault: Option<Fault>,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = (self.used + desired as u64).saturating_sub(current as u64);
        if total > self.memory {
            self.fault = Some(Fault::Memory(self.memory));
            return Err(wasmtime::format_err!(
                "memory limit of {} bytes exceeded",
                self.memory
            ));
        }
        self.used = total;
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

    /// Core instances a store may hold: what the instance pool gives one
    /// component, so that a connector running on the baseline tier (whose
    /// instances come from the on-demand allocator) has the same cap.
    fn instances(&self) -> usize {
        MAX_INSTANCES_PER_STORE
    }

    /// Linear memories a store may hold (see `instances`).
    fn memories(&self) -> usize {
        MAX_MEMORIES_PER_STORE
    }

    /// Tables a store may hold (see `instances`).
    fn tables(&self) -> usize {
        MAX_TABLES_PER_STORE
    }
}

/// The most core instances, linear memories and tables one connector's
/// store may hold, on either tier: the instance pool's per-component caps.
pub(crate) const MAX_INSTANCES_PER_STORE: usize = 32;
/// See [`MAX_INSTANCES_PER_STORE`].
pub(crate) const MAX_MEMORIES_PER_STORE: usize = 4;
/// See [`MAX_INSTANCES_PER_STORE`].
pub(crate) const MAX_TABLES_PER_STORE: usize = 8;

/// The data of one call's store.
pub(crate) struct CallState {
    pub(crate) wasi: LazyWasi,
    pub(crate) table: ResourceTable,
    pub(crate) limiter: Limiter,
    pub(crate) http: HttpCtx,
    pub(crate) crypto: CryptoCtx,
    pub(crate) config: ConfigCtx,
    pub(crate) log: LogCtx,
    pub(crate) clock: crate::capabilities::clock::Clock,
    pub(crate) limits: Limits,
    pub(crate) started: Instant,
    pub(crate) guest: GuestClock,
    pub(crate) fault: Option<Fault>,
}

impl CallState {
    pub(crate) fn new(
        wasi: LazyWasi,
        http: HttpCtx,
        crypto: CryptoCtx,
        config: ConfigCtx,
        log: LogCtx,
        clock: crate::capabilities::clock::Clock,
        limits: Limits,
    ) -> Self {
        CallState {
            wasi,
            table: ResourceTable::new(),
            limiter: Limiter {
                memory: limits.memory,
                used: 0,
                fault: None,
            },
            http,
            crypto,
            config,
            log,
            clock,
            limits,
            started: Instant::now(),
            guest: GuestClock::default(),
            fault: None,
        }
    }

    /// The limit breach that ended the call, if any.
    pub(crate) fn fault(&self) -> Option<Fault> {
        self.fault.or(self.limiter.fault)
    }
}

impl Capabilities for CallState {
    fn http(&mut self) -> Http<'_> {
        Http::new(
            &mut self.http,
            &mut self.table,
            HostSide::new(&mut self.guest),
        )
    }

    fn crypto(&mut self) -> Crypto<'_> {
        Crypto::new(
            &mut self.crypto,
            &mut self.table,
            HostSide::new(&mut self.guest),
        )
    }

    fn config(&mut self) -> Config<'_> {
        Config::new(&self.config)
    }

    fn clock(&mut self) -> crate::capabilities::clock::Clock {
        self.clock
    }

    fn log(&mut self) -> Log<'_> {
        Log::new(&mut self.log, HostSide::new(&mut self.guest))
    }

    fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: self.wasi.ctx(),
            table: &mut self.table,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_calls_state_stays_small() {
        // Moved whole into its store on every call: what is large and
        // seldom needed (a scrubber, a masker's cores) is boxed.
        let size = size_of::<CallState>();
        eprintln!("CallState: {size} bytes");
        assert!(size <= 1280, "CallState is {size} bytes");
    }

    #[test]
    fn the_limiter_refuses_growth_past_its_limits_and_says_which() {
        let mut limiter = Limiter {
            memory: 1 << 20,
            used: 0,
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

    #[test]
    fn the_memory_limit_counts_all_of_a_stores_memories_together() {
        let mut limiter = Limiter {
            memory: 4 << 20,
            used: 0,
            fault: None,
        };
        // Two memories of 2 MiB each fill the limit between them.
        assert!(limiter.memory_growing(0, 2 << 20, None).unwrap());
        assert!(limiter.memory_growing(0, 2 << 20, None).unwrap());
        assert_eq!(limiter.fault, None);
        // A third memory, or either growing, goes over it.
        assert!(limiter.memory_growing(0, 65536, None).is_err());
        assert!(
            limiter
                .memory_growing(2 << 20, (2 << 20) + 65536, None)
                .is_err()
        );
        assert_eq!(limiter.fault, Some(Fault::Memory(4 << 20)));
    }
}
