//! The attempts this process began and has not yet recorded an outcome
//! for: its supplier call may still be under way, or its outcome still
//! waiting to be written. No one resolves them through this process
//! meanwhile, whatever the journal says of them: another process may have
//! marked one `unknown` when this one's lease lapsed (a pause, a lock
//! held long), and the supplier's answer, still to come here, comes first.

use std::collections::HashSet;
use std::sync::Mutex;

/// Attempt ids begun by this process and not yet finished.
#[derive(Default)]
pub(super) struct Running(Mutex<HashSet<i64>>);

impl Running {
    /// Notes that attempt `id` was begun here.
    pub(super) fn begun(&self, id: i64) {
        self.ids().insert(id);
    }

    /// Notes that attempt `id`'s outcome is written.
    pub(super) fn finished(&self, id: i64) {
        self.ids().remove(&id);
    }

    /// Whether attempt `id` was begun here and its outcome is not written.
    pub(super) fn holds(&self, id: i64) -> bool {
        self.ids().contains(&id)
    }

    fn ids(&self) -> std::sync::MutexGuard<'_, HashSet<i64>> {
        // A set of ids is whole after any panic: go on with it.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
