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

    /// Whether a call of this process is beginning an attempt under `key`.
    pub(super) fn is_beginning(&self, key: &str) -> bool {
        self.sets().beginning.contains_key(key)
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
    fn a_key_is_being_begun_until_its_last_call_lets_go_and_an_id_is_held_until_finished() {
        let running = Running::default();
        let first = running.beginning("k");
        let second = running.beginning("k");
        assert!(running.is_beginning("k") && !running.is_beginning("other"));
        drop(first);
        assert!(running.is_beginning("k"), "one call still begins it");
        running.begun(7);
        drop(second);
        assert!(!running.is_beginning("k"));
        assert!(running.holds(7) && !running.holds(8));
        running.finished(7);
        assert!(!running.holds(7));
    }
}
