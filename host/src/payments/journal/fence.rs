//! This host's lease as its own clock knows it, and the fence a payment's
//! supplier requests pass: once the lease may have lapsed since the
//! payment's attempt was begun, another host may have marked the attempt
//! `unknown` and a person may have settled it, so nothing more is sent for
//! it.
//!
//! The journal's lease is held in the database (`expires_at`, from the
//! time a write that renewed it read); this host counts it from before
//! that write began, so that its own view never outlives the database's.
//! A write that renewed the lease only after the last one's time was up
//! counts as a lapse: the attempts begun before it stay fenced off even
//! though the lease is held again.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// This host's lease in one journal (shared by its store and every
/// payment's [`Fence`]).
#[derive(Debug)]
pub(crate) struct Lease {
    /// Where `until` counts from.
    base: Instant,
    /// The lease's length; `None` for a journal no other host shares (in
    /// memory), whose lease never lapses.
    length: Option<Duration>,
    /// Nanoseconds after `base` at which the lease may have lapsed.
    until: AtomicU64,
    /// How many times it may have lapsed (or was given up).
    lapses: AtomicU64,
}

impl Lease {
    /// A lease of `length` (none: never lapses), held from `taken`, when
    /// the write that took it began.
    pub(crate) fn new(length: Option<Duration>, taken: Instant) -> Arc<Lease> {
        let lease = Lease {
            base: taken,
            length,
            until: AtomicU64::new(0),
            lapses: AtomicU64::new(0),
        };
        if let Some(length) = length {
            lease.until.store(nanos(length), Ordering::SeqCst);
        }
        Arc::new(lease)
    }

    /// A write that renewed the lease, begun at `started`, is committed.
    pub(crate) fn renewed(&self, started: Instant) {
        let Some(length) = self.length else {
            return;
        };
        let now = self.since_base(Instant::now());
        // The count moves before the time does: a payment that reads the
        // new time reads the lapse too (see `Fence::holds`).
        if now >= self.until.load(Ordering::SeqCst) {
            self.lapses.fetch_add(1, Ordering::SeqCst);
        }
        let until = self.since_base(started).saturating_add(nanos(length));
        self.until.fetch_max(until, Ordering::SeqCst);
    }

    /// The lease is given up (the journal closed): every fence is shut.
    pub(crate) fn give_up(&self) {
        if self.length.is_some() {
            self.lapses.fetch_add(1, Ordering::SeqCst);
            self.until.store(0, Ordering::SeqCst);
        }
    }

    /// The fence of an attempt begun now, under the lease as it stands.
    pub(crate) fn fence(self: &Arc<Self>) -> Fence {
        Fence {
            lapses: self.lapses.load(Ordering::SeqCst),
            lease: self.clone(),
        }
    }

    fn since_base(&self, at: Instant) -> u64 {
        nanos(at.saturating_duration_since(self.base))
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Whether a payment's attempt is still this host's to act on: the lease
/// it was begun under has been held without a break since.
#[derive(Debug, Clone)]
pub struct Fence {
    lease: Arc<Lease>,
    lapses: u64,
}

impl Fence {
    /// Whether the lease has been held since the attempt began, as far as
    /// this host's clock can tell.
    pub fn holds(&self) -> bool {
        let lease = &self.lease;
        if lease.length.is_none() {
            return true;
        }
        // The time first, then the count (`Lease::renewed` moves them the
        // other way round).
        let now = lease.since_base(Instant::now());
        now < lease.until.load(Ordering::SeqCst)
            && lease.lapses.load(Ordering::SeqCst) == self.lapses
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fence_holds_while_the_lease_is_renewed_in_time_and_never_again_after_a_lapse() {
        let taken = Instant::now();
        let lease = Lease::new(Some(Duration::from_millis(200)), taken);
        let fence = lease.fence();
        assert!(fence.holds());
        // Renewed in time: still held.
        std::thread::sleep(Duration::from_millis(50));
        lease.renewed(Instant::now());
        assert!(fence.holds());
        // Not renewed within the lease: lapsed.
        std::thread::sleep(Duration::from_millis(300));
        assert!(!fence.holds());
        // Renewed after the lapse: held again for attempts begun from now,
        // never for the one begun before.
        lease.renewed(Instant::now());
        assert!(!fence.holds());
        assert!(lease.fence().holds());
        // Given up: nothing holds.
        let later = lease.fence();
        lease.give_up();
        assert!(!later.holds());
        assert!(!lease.fence().holds());
    }

    #[test]
    fn a_journal_no_other_host_shares_never_lapses() {
        let lease = Lease::new(None, Instant::now());
        let fence = lease.fence();
        lease.give_up();
        assert!(fence.holds());
    }
}
