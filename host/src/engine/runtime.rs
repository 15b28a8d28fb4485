//! The runtime: one wasmtime `Engine` with the pooling allocator and epoch
//! interruption, one `Linker` holding WASI and the capabilities, one shared
//! HTTP client, and the compile cache; and a store for each call with its
//! limits armed. Where it tiers, a second engine compiles with the baseline
//! compiler (Winch) what the cache does not hold yet, so a new connector
//! serves at once while Cranelift compiles it in the background.

use super::cache::CompileCache;
use super::functions::FunctionCache;
use super::store::{
    CallState, Fault, MAX_INSTANCES_PER_STORE, MAX_MEMORIES_PER_STORE, MAX_TABLES_PER_STORE,
};
use super::ticker::EpochTicker;
use crate::capabilities;
use crate::policy::limits::MAX_MEMORY;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::Linker;
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Strategy,
    UpdateDeadline,
};

/// Set (to anything but `0`) in the host's environment, the compiled
/// connectors' functions are listed in `/tmp/perf-PID.map` for `perf`.
pub const PERF_MAP_ENV: &str = "PAYHOST_PERF_MAP";

/// How much of each pooled linear memory stays resident between calls.
const KEEP_RESIDENT: usize = 256 << 10;

/// How the runtime is set up.
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// Where compiled connectors are cached; `None` compiles on every load.
    pub cache_dir: Option<PathBuf>,
    /// How many connector instances may run at once (the instance pool's size).
    pub max_instances: u32,
    /// Check linear-memory accesses with explicit bounds checks and reserve
    /// only the largest memory a connector may have (1 GiB), instead of
    /// relying on guard regions that reserve several GiB of address space
    /// per memory. Slower code, far less address space: for a run under
    /// valgrind, or a machine that limits virtual memory.
    pub explicit_bounds_checks: bool,
    /// Linear memories the instance pool reserves per instance slot, each
    /// with its guard region (several GiB of address space apiece). Four
    /// leave room for a component with several memories; one lets a run
    /// under valgrind, whose address space is far smaller, keep the guard
    /// regions and so count the code the host runs by default.
    pub memories_per_instance: u32,
    /// Compile a connector the compile cache does not hold with the
    /// baseline compiler (Winch) first, in milliseconds, and with Cranelift
    /// in the background into the cache, from where a scan of the plugin
    /// directory swaps the optimised code in. Needs `cache_dir`.
    pub tiered: bool,
    /// Share compiled functions between the connectors one scan compiles
    /// (Cranelift's incremental cache, see `functions`). Off, every
    /// connector is compiled whole, as if it shared nothing with another:
    /// how the benchmark measures distinct connectors.
    pub share_functions: bool,
    /// Advance the engines' epoch every [`super::ticker::EPOCH_TICK`]: the
    /// clock of the CPU and time limits. Off only where instructions are
    /// counted under valgrind, whose slowdown lands the ticks at random
    /// points of a run; no CPU or time limit holds without it.
    pub tick_epochs: bool,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        RuntimeOptions {
            cache_dir: None,
            max_instances: 256,
            explicit_bounds_checks: false,
            memories_per_instance: 4,
            tiered: false,
            share_functions: true,
            tick_epochs: true,
        }
    }
}

/// The baseline tier: an engine that compiles with Winch, its linker, and
/// its epoch ticker. Its instances come from the on-demand allocator (the
/// store's limiter caps them as the pool does): a connector runs on it only
/// until its optimised code is ready.
pub(crate) struct Baseline {
    pub(crate) engine: Engine,
    linker: Arc<Linker<CallState>>,
    _ticker: Option<EpochTicker>,
}

impl Baseline {
    fn new(options: &RuntimeOptions) -> wasmtime::Result<Baseline> {
        let engine = Engine::new(&baseline_config(options)?)?;
        Ok(Baseline {
            linker: Arc::new(linker_for_engine(&engine)?),
            _ticker: options.tick_epochs.then(|| EpochTicker::start(&engine)),
            engine,
        })
    }
}

/// The engine, linker, HTTP client and compile cache, shared by every connector.
pub struct Runtime {
    pub(crate) engine: Engine,
    pub(crate) linker: Arc<Linker<CallState>>,
    pub(crate) client: reqwest::Client,
    pub(crate) cache: CompileCache,
    /// Compiled functions shared between connectors during one scan.
    pub(crate) functions: Arc<FunctionCache>,
    /// One permit per instance the pool holds.
    slots: Arc<tokio::sync::Semaphore>,
    max_instances: u32,
    _ticker: Option<EpochTicker>,
    /// The baseline tier, where the runtime tiers.
    pub(crate) baseline: Option<Baseline>,
    /// Optimised compiles in the background: one at a time (Cranelift uses
    /// every core for one), each component once.
    pub(crate) tier_up: Arc<TierUp>,
}

/// The background compiles of the optimised tier.
pub(crate) struct TierUp {
    /// One compile at a time.
    pub(crate) one: tokio::sync::Semaphore,
    /// The components (by SHA-256) being compiled or waiting to be.
    pub(crate) pending: parking_lot::Mutex<std::collections::BTreeSet<String>>,
    /// Woken when optimised code lands in the cache: a scan swaps it in.
    pub(crate) ready: tokio::sync::Notify,
    /// Scans under way: background compiles wait for none, so that the
    /// baseline compiles of a scan (what makes connectors serve) have the
    /// cores to themselves.
    scanning: std::sync::atomic::AtomicUsize,
    /// Woken when the last scan under way ends.
    idle: tokio::sync::Notify,
}

impl TierUp {
    /// Marks a scan under way until the guard is dropped.
    pub(crate) fn scanning(self: &Arc<Self>) -> ScanGuard {
        self.scanning
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        ScanGuard(self.clone())
    }

    /// Waits until no scan is under way.
    pub(crate) async fn no_scan(&self) {
        loop {
            let idle = self.idle.notified();
            if self.scanning.load(std::sync::atomic::Ordering::SeqCst) == 0 {
                return;
            }
            idle.await;
        }
    }
}

/// A scan under way (see [`TierUp::scanning`]).
pub(crate) struct ScanGuard(Arc<TierUp>);

impl Drop for ScanGuard {
    fn drop(&mut self) {
        if self
            .0
            .scanning
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst)
            == 1
        {
            self.0.idle.notify_waiters();
        }
    }
}

impl Runtime {
    /// Builds the runtime. Must be called within a tokio runtime (the HTTP
    /// client's resolver runs on it).
    pub fn new(options: &RuntimeOptions) -> wasmtime::Result<Runtime> {
        let functions = Arc::new(FunctionCache::default());
        let engine = Engine::new(&engine_config(options, functions.clone())?)?;
        let linker = linker_for_engine(&engine)?;
        let cache = CompileCache::new(options.cache_dir.clone(), &engine);
        let baseline = if options.tiered && cache.is_on() {
            match Baseline::new(options) {
                Ok(baseline) => Some(baseline),
                Err(e) => {
                    tracing::warn!(
                        "the baseline compiler is not available here ({e:#}); every connector is compiled by Cranelift before it serves"
                    );
                    None
                }
            }
        } else {
            None
        };
        Ok(Runtime {
            _ticker: options.tick_epochs.then(|| EpochTicker::start(&engine)),
            engine,
            linker: Arc::new(linker),
            client: capabilities::http::client(),
            cache,
            functions,
            slots: Arc::new(tokio::sync::Semaphore::new(options.max_instances as usize)),
            max_instances: options.max_instances,
            baseline,
            tier_up: Arc::new(TierUp {
                one: tokio::sync::Semaphore::new(1),
                pending: parking_lot::Mutex::default(),
                ready: tokio::sync::Notify::new(),
                scanning: std::sync::atomic::AtomicUsize::new(0),
                idle: tokio::sync::Notify::new(),
            }),
        })
    }

    /// The linker for components of `engine` (the optimised or the
    /// baseline one).
    pub(crate) fn linker_for(&self, engine: &Engine) -> &Linker<CallState> {
        match &self.baseline {
            Some(b) if Engine::same(engine, &b.engine) => &b.linker,
            _ => &self.linker,
        }
    }

    /// One of the pool's instances for a payment, waiting at most `wait`;
    /// `None` when all stay in use.
    pub(crate) async fn slot(&self, wait: Duration) -> Option<tokio::sync::OwnedSemaphorePermit> {
        tokio::time::timeout(wait, self.slots.clone().acquire_owned())
            .await
            .ok()
            .and_then(Result::ok)
    }

    /// Functions reused from another connector's compile, and functions
    /// compiled, since the runtime started (see `functions`).
    pub fn compiled_functions(&self) -> (u64, u64) {
        self.functions.counts()
    }

    /// Connectors serving on baseline code whose optimised code is still
    /// compiling or waiting to.
    pub fn tiering_pending(&self) -> usize {
        self.tier_up.pending.lock().len()
    }

    /// How many connector instances may run at once.
    pub fn max_instances(&self) -> u32 {
        self.max_instances
    }

    /// A store for one call on `engine` (the one its component was
    /// compiled by), with its limits armed.
    pub(crate) fn store(&self, engine: &Engine, state: CallState) -> Store<CallState> {
        let mut store = Store::new(engine, state);
        store.limiter(|state| &mut state.limiter);
        // What one host call may make the host allocate, lifting its
        // arguments: no more than the connector may hold itself.
        let fuel = store.data().limits.memory;
        store.set_hostcall_fuel(usize::try_from(fuel).unwrap_or(usize::MAX).max(1 << 20));
        store.set_epoch_deadline(1);
        // A connector that imports WASI: every crossing stops or starts
        // its clock (`engine::guest_clock`).
        if store.data().guest.is_hooked() {
            store.call_hook(|mut ctx, hook| {
                let clock = &mut ctx.data_mut().guest;
                if hook.entering_host() {
                    clock.host_call();
                } else {
                    clock.start();
                }
                Ok(())
            });
        }
        store.epoch_deadline_callback(|mut ctx| {
            let state = ctx.data_mut();
            if state.started.elapsed() > state.limits.timeout {
                state.fault = Some(Fault::Timeout(state.limits.timeout));
                return Err(wasmtime::format_err!(
                    "timeout of {:?} exceeded",
                    state.limits.timeout
                ));
            }
            let hooked = state.guest.is_hooked();
            // The stretch up to this tick is counted; waiting to resume is
            // not. (Hooked, this runs in a libcall, on the host side of a
            // crossing: the hook stopped the clock.)
            if !hooked {
                state.guest.tick();
            }
            if state.guest.exceeded(state.limits.cpu) {
                state.fault = Some(Fault::Cpu(state.limits.cpu));
                return Err(wasmtime::format_err!(
                    "CPU limit of {:?} exceeded",
                    state.limits.cpu
                ));
            }
            // Let other calls on this thread run, then check again next tick.
            Ok(if hooked {
                UpdateDeadline::Yield(1)
            } else {
                UpdateDeadline::YieldCustom(1, state.guest.resume_after())
            })
        });
        store
    }
}

/// A linker with WASI (Rust's std needs it; the context grants nothing,
/// see `CallState`) and the capabilities.
fn linker_for_engine(engine: &Engine) -> wasmtime::Result<Linker<CallState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    capabilities::add_to_linker(&mut linker)?;
    Ok(linker)
}

/// What both engines share: the component model, epoch interruption, the
/// stacks, bounds checks as `options` asks, and the perf map when the
/// environment asks for one.
fn common_config(options: &RuntimeOptions) -> Config {
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .epoch_interruption(true)
        .max_wasm_stack(1 << 20)
        .async_stack_size(2 << 20);
    // `perf record` / `perf report` name a connector's functions when the
    // host writes /tmp/perf-PID.map (see the partner guide, "Profiling").
    if std::env::var_os(PERF_MAP_ENV).is_some_and(|v| !v.is_empty() && v != "0") {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    if options.explicit_bounds_checks {
        config
            .memory_reservation(MAX_MEMORY)
            .memory_guard_size(0)
            .memory_reservation_for_growth(0);
    }
    config
}

/// The baseline engine: Winch, for a compile in milliseconds; instances
/// allocated on demand.
fn baseline_config(options: &RuntimeOptions) -> wasmtime::Result<Config> {
    let mut config = common_config(options);
    config.strategy(Strategy::Winch);
    Ok(config)
}

fn engine_config(
    options: &RuntimeOptions,
    functions: Arc<FunctionCache>,
) -> wasmtime::Result<Config> {
    let mut pool = PoolingAllocationConfig::default();
    let instances = options.max_instances.max(4);
    pool.total_component_instances(instances)
        .total_core_instances(instances * 16)
        .total_memories(instances * options.memories_per_instance.max(1))
        .total_tables(instances * 8)
        .total_stacks(instances)
        .max_core_instances_per_component(MAX_INSTANCES_PER_STORE as u32)
        .max_memories_per_component(MAX_MEMORIES_PER_STORE as u32)
        .max_tables_per_component(MAX_TABLES_PER_STORE as u32)
        .max_memory_size(MAX_MEMORY as usize)
        .table_elements(100_000)
        // Reset the first pages of a slot with memset instead of returning
        // them to the kernel: a connector's call touches about this much, and
        // madvise + page faults on every call cost more than the memset.
        .linear_memory_keep_resident(KEEP_RESIDENT)
        // Where the kernel offers PAGEMAP_SCAN (Linux 6.7+), reset only the
        // pages a call dirtied instead of memset over all the kept pages.
        .pagemap_scan(wasmtime::Enabled::Auto)
        .table_keep_resident(64 << 10)
        .async_stack_keep_resident(64 << 10);
    let mut config = common_config(options);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    if options.share_functions {
        config.enable_incremental_compilation(functions)?;
    }
    Ok(config)
}
