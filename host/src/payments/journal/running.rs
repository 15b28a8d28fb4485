//! The attempts this process began and has not yet recorded an outcome
//! for: its supplier call may still be under way, or its outcome still
//! waiting to be written. No one resolves them through this process
//! meanwhile, whatever the journal says of them: another process may have
//! marked one `unknown` when this one's lease lapsed (a pause, a lock
//! held long), and the supplier's answer, still to come here, comes first.
//!
//! It also knows the idempotency keys a call of this process is beginning
//! right now: an attempt the journal holds under such a key may be that
//! call's, about to be noted as begun.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

/// Attempt ids begun by this process and not yet finished, and the keys
/// being begun.
#[derive(Default)]
pub(super) struct Running(Mutex<Sets>);

#[derive(Default)]
struct Sets {
    ids: HashSet<i64>,
    beginning: HashMap<String, usize>,
}

/// A key being begun by one call, until dropped.
pub(super) struct Beginning<'a> {
    running: &'a Running,
    key: String,
}

impl Drop for Beginning<'_> {
    fn drop(&mut self) {
        let mut sets = self.running.sets();
        if let Some(n) = sets.beginning.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                sets.beginning.remove(&self.key);
            }
        }
    }
}

impl Running {
    /// Notes that a call begins an attempt under `key`, until the guard
    /// is dropped (after [`Running::begun`], where it was begun).
    pub(super) fn beginning(&self, key: &str) -> Beginning<'_> {
        *self.sets().beginning.entry(key.to_owned()).or_default() += 1;
        Beginning {
            running: self,
            key: key.to_owned(),
        }
    }

    /// Whether no call of this process claims attempt `id` under `key`:
    /// none began it and has yet to record it, none is beginning its key
    /// (and may have written it, its answer still to come). Read at once
    /// for both: a call notes its attempt before it lets go of the key.
    pub(super) fn unclaimed(&self, key: &str, id: i64) -> bool {
        let sets = self.sets();
        !sets.ids.contains(&id) && !sets.beginning.contains_key(key)
    }

    /// Notes that attempt `id` was begun here.
    pub(super) fn begun(&self, id: i64) {
        self.sets().ids.insert(id);
    }

    /// Notes that attempt `id`'s outcome is written.
    pub(super) fn finished(&self, id: i64) {
        self.sets().ids.remove(&id);
    }

    /// Whether attempt `id` was begun here and its outcome is not written.
    pub(super) fn holds(&self, id: i64) -> bool {
        self.sets().ids.contains(&id)
    }

    fn sets(&self) -> std::sync::MutexGuard<'_, Sets> {
        // Sets of ids and keys are whole after any panic: go on with them.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::Running;

    #[test]
    fn an_attempt_is_claimed_while_its_key_is_being_begun_and_until_it_is_finished() {
        let running = Running::default();
        let first = running.beginning("k");
        let second = running.beginning("k");
        assert!(!running.unclaimed("k", 7) && running.unclaimed("other", 8));
        drop(first);
        assert!(!running.unclaimed("k", 9), "one call still begins it");
        running.begun(7);
        drop(second);
        assert!(!running.unclaimed("k", 7) && running.unclaimed("k", 9));
        assert!(running.holds(7) && !running.holds(8));
        running.finished(7);
        assert!(!running.holds(7) && running.unclaimed("k", 7));
    }
}
