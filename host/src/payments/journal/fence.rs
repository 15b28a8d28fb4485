//! This host's lease as its own clock knows it, and the fence a payment's
//! supplier requests pass: once the lease may have lapsed since the
//! payment's attempt was begun, another host may have marked the attempt
//! `unknown` and a person may have settled it, so nothing more is sent for
//! it.
//!
//! The journal's lease is held in the database (`expires_at`, from the
//! time a write that renewed it read; never moved back by a later write);
//! this host counts it from before that write began, on a clock that goes
//! on while the machine sleeps (`CLOCK_BOOTTIME` on Linux), and takes it as
//! lapsed a tenth of a lease early, for the clocks' differences and the
//! time a request takes to go out. A write that renewed the lease only
//! after the last one's time was up counts as a lapse: a payment whose
//! fence was taken before it stays fenced off even though the lease is
//! held again. A fence is taken before its attempt is begun, so that a
//! lapse noticed only after the attempt was written (a reply held up, a
//! pause between the write and its caller) still shuts it; a begin that
//! waited out a lapse itself is shut too, and its payment sends nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Nanoseconds on a clock that never goes back and goes on while the
/// machine sleeps: the moment a lease is counted from.
pub(crate) fn moment() -> u64 {
    #[cfg(target_os = "linux")]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec. Should the call
        // fail, the moment reads 0 and every lease as lapsed: fences shut,
        // never held open.
        #[allow(unsafe_code)]
        unsafe {
            libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut ts)
        };
        (ts.tv_sec as u64)
            .saturating_mul(1_000_000_000)
            .saturating_add(ts.tv_nsec as u64)
    }
    #[cfg(not(target_os = "linux"))]
    {
        static BASE: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        nanos(BASE.get_or_init(std::time::Instant::now).elapsed())
    }
}

/// This host's lease in one journal (shared by its store and every
/// payment's [`Fence`]).
#[derive(Debug)]
pub(crate) struct Lease {
    /// The lease's length, less the margin it is taken as lapsed early.
    trusted: u64,
    /// The [`moment`] at which the lease may have lapsed.
    until: AtomicU64,
    /// How many times it may have lapsed (or was given up).
    lapses: AtomicU64,
}

impl Lease {
    /// A lease of `length`, held from `taken` (a [`moment`]), when the
    /// write that took it began.
    pub(crate) fn new(length: Duration, taken: u64) -> Arc<Lease> {
        let trusted = nanos(length - length / 10);
        Arc::new(Lease {
            trusted,
            until: AtomicU64::new(taken.saturating_add(trusted)),
            lapses: AtomicU64::new(0),
        })
    }

    /// A write that renewed the lease, begun at `started` (a [`moment`]),
    /// is committed.
    pub(crate) fn renewed(&self, started: u64) {
        // The count moves before the time does: a payment that reads the
        // new time reads the lapse too (see `Fence::holds`).
        if moment() >= self.until.load(Ordering::SeqCst) {
            self.lapses.fetch_add(1, Ordering::SeqCst);
        }
        self.until
            .fetch_max(started.saturating_add(self.trusted), Ordering::SeqCst);
    }

    /// The lease is given up (the journal closed): every fence is shut.
    pub(crate) fn give_up(&self) {
        self.lapses.fetch_add(1, Ordering::SeqCst);
        self.until.store(0, Ordering::SeqCst);
    }

    /// The fence of an attempt about to be begun, under the lease as it
    /// stands.
    pub(crate) fn fence(self: &Arc<Self>) -> Fence {
        Fence {
            lapses: self.lapses.load(Ordering::SeqCst),
            lease: self.clone(),
        }
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Whether a payment's attempt is still this host's to send for: the
/// lease held, without a break, since before the attempt was begun.
#[derive(Debug, Clone)]
pub struct Fence {
    lease: Arc<Lease>,
    lapses: u64,
}

impl Fence {
    /// Whether the lease has been held since the fence was taken, as far
    /// as this host's clock can tell.
    pub fn holds(&self) -> bool {
        let lease = &self.lease;
        // The time first, then the count (`Lease::renewed` moves them the
        // other way round).
        moment() < lease.until.load(Ordering::SeqCst)
            && lease.lapses.load(Ordering::SeqCst) == self.lapses
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fence_holds_while_the_lease_is_renewed_in_time_and_never_again_after_a_lapse() {
        let lease = Lease::new(Duration::from_millis(300), moment());
        let fence = lease.fence();
        assert!(fence.holds());
        // Renewed in time: still held.
        std::thread::sleep(Duration::from_millis(50));
        lease.renewed(moment());
        assert!(fence.holds());
        // Not renewed within the lease (less its margin): lapsed.
        std::thread::sleep(Duration::from_millis(400));
        assert!(!fence.holds());
        // Renewed after the lapse: held again for fences taken from now,
        // never for the one taken before.
        lease.renewed(moment());
        assert!(!fence.holds());
        assert!(lease.fence().holds());
        // Given up: nothing holds.
        let later = lease.fence();
        lease.give_up();
        assert!(!later.holds());
        assert!(!lease.fence().holds());
    }

    #[test]
    fn the_lease_is_taken_as_lapsed_a_tenth_early() {
        let lease = Lease::new(Duration::from_secs(10), moment());
        let start = lease.until.load(Ordering::SeqCst) - lease.trusted;
        assert_eq!(lease.trusted, 9_000_000_000);
        // A renewal begun earlier than the last does not shorten it.
        lease.renewed(start - 1_000_000_000);
        assert_eq!(lease.until.load(Ordering::SeqCst), start + 9_000_000_000);
    }
}
