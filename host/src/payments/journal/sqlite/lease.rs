//! This host's lease in the journal, renewed by a thread of its own, and
//! the sweep that marks the attempts of lapsed hosts `unknown`.

use super::*;

impl Inner {
    /// Renews this instance's lease and marks the attempts of lapsed
    /// instances `unknown`.
    pub(super) fn renew(&self) -> Result<(), JournalError> {
        // Looked at before writing too: an idle host notices within a
        // renewal, and writes nothing into a file that is gone.
        let started = super::super::fence::moment();
        let ids = self.grounded(|tx| self.sweep(tx).map_err(|e| self.fail(e)))?;
        self.held.renewed(started);
        rules::warn_swept(&ids);
        Ok(())
    }

    /// Takes or renews this instance's lease, from now: the time it read.
    pub(super) fn hold_lease(&self, tx: &Connection) -> rusqlite::Result<i64> {
        let t = now_ms();
        tx.prepare_cached(
            "INSERT INTO instances (instance, pid, started_at, expires_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (instance) DO UPDATE SET expires_at = MAX(expires_at, excluded.expires_at)",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![
                self.instance,
                i64::from(std::process::id()),
                t,
                t + self.options.lease.as_millis() as i64
            ])
        })?;
        Ok(t)
    }

    /// Marks `unknown` every attempt in flight whose instance's lease has
    /// lapsed (or that has none: written before leases); forgets lapsed
    /// instances. Their ids.
    /// This process's own attempts are never swept: it is running, and its
    /// lease is refreshed by every write it makes (a write that waited out
    /// another process's lock must not find its own host lapsed).
    pub(super) fn sweep(&self, tx: &Connection) -> rusqlite::Result<Vec<i64>> {
        let t = self.hold_lease(tx)?;
        let ids = Self::mark_unknown(
            tx,
            "state = ?3 AND (instance IS NULL OR (instance != ?5 AND instance NOT IN
                 (SELECT instance FROM instances WHERE expires_at > ?4)))",
            params![
                AttemptState::Unknown,
                serde_json::to_string(&lapsed()).unwrap_or_default(),
                AttemptState::InFlight,
                t,
                self.instance
            ],
        )?;
        tx.prepare_cached("DELETE FROM instances WHERE expires_at <= ?1")
            .and_then(|mut stmt| stmt.execute(params![t]))?;
        Ok(ids)
    }

    /// `UPDATE … SET state = ?1, outcome = ?2 WHERE {filter}`: the ids moved.
    pub(super) fn mark_unknown(
        tx: &Connection,
        filter: &str,
        params: &[&dyn rusqlite::ToSql],
    ) -> rusqlite::Result<Vec<i64>> {
        let mut stmt = tx.prepare_cached(&format!(
            "UPDATE attempts SET state = ?1, outcome = ?2, lapsed = 1, updated_at = {} WHERE {filter} RETURNING id",
            now()
        ))?;
        stmt.query_map(params, |row| row.get(0))?.collect()
    }
}
