//! Time spent running the connector's own code, and nothing else: what its
//! CPU limit counts.
//!
//! The clock runs from the moment the host calls an export until it
//! returns, and stops on the host's side of the sandbox wall:
//!
//! - in every host call that works for the connector or waits for it
//!   (HTTP, crypto, the log's masking): the capability's view holds a
//!   [`HostSide`](crate::capabilities::host_side::HostSide) for the length
//!   of the call;
//! - while the call has yielded to others at an epoch tick (waiting behind
//!   other calls): the tick stops the clock, and the yield's future starts
//!   it again where the call resumed.
//!
//! Instantiation is not the connector's either: the clock starts after it,
//! unless a tick finds the connector's own code running before (a start
//! function), when it starts where that tick's yield resumes. The few
//! calls left on the clock (config, the clock itself, dropping a sealed
//! value) do a handful of lookups and are charged to the connector, as is
//! Wasmtime's lifting and lowering of the values it passes (the arguments
//! of a host call are lifted before the capability's view exists).
//!
//! The host marks these points itself rather than by Wasmtime's call hook,
//! which runs on every crossing (a payment makes 23 to 37) at about 60 ns
//! each; a payment's host calls that stop the clock are a handful.
//!
//! Except for a connector that imports WASI (a `wasm32-wasip2` build with
//! Rust's std): WASI's `poll`, `block` and blocking stream calls wait, and
//! they are not the capabilities' to stop the clock in. Its calls are timed
//! by a call hook ([`GuestClock::hooked`]): the clock stops on every
//! crossing into the host, WASI and libcalls included (the epoch check in
//! which a call yields among them), and starts again on the way back,
//! including into a start function while it is instantiated.
//!
//! A stretch of guest code is timed by the wall clock, which is cheap; on
//! a loaded machine it also counts the time the operating system gave
//! other threads. So a call whose wall-clock time reaches a quarter of its
//! CPU limit is suspected: from then on its stretches are also timed by
//! the thread's own CPU clock (a system call each), and it is stopped when
//! that shows three quarters of its limit. A connector that spins is
//! stopped at about its limit; an honest call that waited for the
//! processor is stopped only if its own code used three quarters of the
//! limit after the suspicion.

use parking_lot::Mutex;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One call's guest clock.
#[derive(Debug, Default)]
pub(crate) struct GuestClock {
    used: Duration,
    /// Where the running stretch began; `None` while the clock is stopped.
    since: Option<Instant>,
    /// Once suspected: the thread CPU time used since, and where the
    /// running stretch began on the thread's CPU clock.
    precise: Option<(Duration, Option<Duration>)>,
    /// Where the call resumed after its last yield, written by the yield's
    /// future and read at the clock's next reading (made at the call's
    /// first yield).
    resumed: Option<Arc<Mutex<Option<Resumed>>>>,
    /// How many host calls stopped the clock (every crossing into the
    /// host, when hooked).
    pub(crate) host_calls: u32,
    /// Timed by a call hook on every crossing: the capabilities' own
    /// stops and the tick's are left to it.
    hooked: bool,
}

/// Where a yielded call resumed, by the wall clock and, once suspected,
/// by the thread's CPU clock.
#[derive(Debug, Clone, Copy)]
struct Resumed {
    at: Instant,
    cpu: Option<Duration>,
}

/// The calling thread's CPU time.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a
    // constant every Linux has.
    #[allow(unsafe_code)]
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0;
    if !ok {
        return Duration::ZERO;
    }
    Duration::new(
        ts.tv_sec.max(0) as u64,
        ts.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

impl GuestClock {
    /// A clock for a connector that imports WASI, stopped and started by a
    /// call hook on every crossing (see the module's notes).
    pub(crate) fn hooked() -> Self {
        GuestClock {
            hooked: true,
            ..GuestClock::default()
        }
    }

    /// Whether a call hook times this clock.
    pub(crate) fn is_hooked(&self) -> bool {
        self.hooked
    }

    /// The connector's code starts running: an export is called, or a host
    /// call returns to it.
    pub(crate) fn start(&mut self) {
        self.settle();
        self.close();
        self.since = Some(Instant::now());
        if let Some((_, start)) = &mut self.precise {
            *start = Some(thread_cpu());
        }
    }

    /// The connector's code stops running: its export returned.
    pub(crate) fn stop(&mut self) {
        self.settle();
        self.close();
    }

    /// The connector called the host; whether its clock was running (a
    /// host call made during instantiation finds it stopped).
    pub(crate) fn host_call(&mut self) -> bool {
        self.host_calls = self.host_calls.wrapping_add(1);
        self.settle();
        let running = self.since.is_some();
        self.close();
        running
    }

    /// An epoch tick, in the connector's code: the stretch so far is
    /// counted, and the clock stays stopped until the call resumes (see
    /// [`GuestClock::resume_after`]). A tick that finds the clock stopped
    /// finds code no export call started (a start function, during
    /// instantiation): it is counted from where the call resumes.
    pub(crate) fn tick(&mut self) {
        self.stop();
    }

    /// A future that yields to the runtime once, then starts the clock
    /// where the call resumed: what the epoch callback yields with after
    /// [`GuestClock::tick`].
    pub(crate) fn resume_after(&mut self) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> {
        let cell = self.resumed.get_or_insert_with(Arc::default).clone();
        let precise = self.precise.is_some();
        Box::pin(async move {
            tokio::task::yield_now().await;
            // The call resumes in this same poll, on this thread.
            *cell.lock() = Some(Resumed {
                at: Instant::now(),
                cpu: precise.then(thread_cpu),
            });
        })
    }

    /// Guest time so far, by the wall clock.
    pub(crate) fn used(&mut self) -> Duration {
        self.settle();
        self.used + self.since.map_or(Duration::ZERO, |s| s.elapsed())
    }

    /// Whether the guest has used up `limit`: suspected when the wall
    /// clock shows a quarter of it, and stopped when the thread's CPU
    /// clock has shown three quarters more since. Called at a tick.
    pub(crate) fn exceeded(&mut self, limit: Duration) -> bool {
        if let Some((used, _)) = &self.precise {
            return *used > limit * 3 / 4;
        }
        if self.used() > limit / 4 {
            self.precise = Some((Duration::ZERO, None));
        }
        false
    }

    /// Starts the clock where a yielded call resumed, if it has.
    fn settle(&mut self) {
        let Some(resumed) = self.resumed.as_ref().and_then(|cell| cell.lock().take()) else {
            return;
        };
        self.since = Some(resumed.at);
        if let Some((_, start)) = &mut self.precise {
            *start = resumed.cpu;
        }
    }

    /// Counts the running stretch, if any, and stops the clock.
    fn close(&mut self) {
        if let Some(since) = self.since.take() {
            self.used += since.elapsed();
        }
        if let Some((used, start)) = &mut self.precise
            && let Some(start) = start.take()
        {
            *used += thread_cpu().saturating_sub(start);
        }
    }
}

impl crate::capabilities::host_side::GuestTime for GuestClock {
    fn host_call(&mut self) -> bool {
        !self.hooked && GuestClock::host_call(self)
    }

    fn back_to_guest(&mut self) {
        self.start();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spin(d: Duration) {
        let until = Instant::now() + d;
        while Instant::now() < until {
            std::hint::spin_loop();
        }
    }

    #[test]
    fn only_the_stretches_between_host_calls_are_counted() {
        let mut clock = GuestClock::default();
        assert_eq!(clock.used(), Duration::ZERO, "stopped until an export runs");
        spin(Duration::from_millis(20));
        assert_eq!(clock.used(), Duration::ZERO, "instantiation is not counted");
        clock.start();
        spin(Duration::from_millis(10));
        clock.host_call();
        let before = clock.used();
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(clock.used(), before, "the host call is not counted");
        clock.start();
        spin(Duration::from_millis(10));
        clock.stop();
        let used = clock.used();
        assert!(
            used >= Duration::from_millis(20) && used < Duration::from_millis(40),
            "two stretches of 10 ms counted as {used:?}"
        );
        assert_eq!(clock.host_calls, 1);
    }

    #[tokio::test]
    async fn a_yield_is_not_counted_and_the_call_is_counted_again_from_where_it_resumed() {
        let mut clock = GuestClock::default();
        clock.start();
        spin(Duration::from_millis(10));
        clock.tick();
        let resume = clock.resume_after();
        let at_tick = clock.used();
        // Others run while the call waits.
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(clock.used(), at_tick, "waiting to resume is not counted");
        resume.await;
        spin(Duration::from_millis(10));
        let used = clock.used();
        assert!(
            used >= Duration::from_millis(20) && used < Duration::from_millis(40),
            "10 ms before the yield and 10 ms after counted as {used:?}"
        );
    }

    #[test]
    fn a_tick_on_a_stopped_clock_counts_from_there() {
        let mut clock = GuestClock::default();
        spin(Duration::from_millis(10));
        clock.tick();
        let at_tick = clock.used();
        assert!(
            at_tick < Duration::from_millis(1),
            "the 10 ms before the tick are not counted: {at_tick:?}"
        );
        drop(clock.resume_after());
        spin(Duration::from_millis(10));
        assert_eq!(clock.used(), at_tick, "stopped until resumed");
    }

    /// Spins until the thread's own CPU clock has advanced by `d`: the
    /// clock's precise mode counts that, whatever else the machine runs.
    fn spin_cpu(d: Duration) {
        let until = thread_cpu() + d;
        while thread_cpu() < until {
            std::hint::spin_loop();
        }
    }

    #[test]
    fn a_suspected_call_is_stopped_by_its_own_cpu_time() {
        let limit = Duration::from_millis(40);
        let mut clock = GuestClock::default();
        clock.start();
        spin(Duration::from_millis(15));
        clock.tick();
        assert!(!clock.exceeded(limit), "suspected, not stopped");
        clock.start();
        spin_cpu(Duration::from_millis(10));
        clock.tick();
        assert!(!clock.exceeded(limit), "10 ms of its own CPU time since");
        clock.start();
        spin_cpu(Duration::from_millis(25));
        clock.tick();
        assert!(clock.exceeded(limit), "35 ms of its own CPU time since");
    }

    #[test]
    fn a_host_call_stops_a_running_clock_and_starts_only_a_clock_it_stopped() {
        use crate::capabilities::host_side::HostSide;
        let mut clock = GuestClock::default();
        // During instantiation (a start function calling the host): the
        // clock was not running, and the call does not start it.
        drop(HostSide::new(&mut clock));
        spin(Duration::from_millis(10));
        assert_eq!(clock.used(), Duration::ZERO);
        clock.start();
        let side = HostSide::new(&mut clock);
        spin(Duration::from_millis(10));
        drop(side);
        let after = clock.used();
        assert!(
            after < Duration::from_millis(5),
            "the host call counted: {after:?}"
        );
        spin(Duration::from_millis(10));
        assert!(
            clock.used() >= Duration::from_millis(10),
            "running again after the call"
        );
    }

    #[test]
    fn a_hooked_clock_leaves_the_stops_to_its_hook() {
        use crate::capabilities::host_side::HostSide;
        let mut clock = GuestClock::hooked();
        assert!(clock.is_hooked());
        clock.start();
        let side = HostSide::new(&mut clock);
        spin(Duration::from_millis(10));
        drop(side);
        assert!(
            clock.used() >= Duration::from_millis(10),
            "the hook, not the capability, stops a hooked clock"
        );
        assert_eq!(clock.host_calls, 0);
    }
}
