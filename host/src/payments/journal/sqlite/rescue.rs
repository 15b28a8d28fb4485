//! The journal's ground: whether the file and WAL at the path are still
//! the ones this host writes, and what it keeps when they are not.

use super::*;

impl Inner {
    /// Whether the file and WAL at the path are still the ones this host
    /// writes; the first time they are not, it keeps what it wrote and
    /// stops for good (see [`ground`]).
    pub(super) fn check_ground(&self, conn: &Connection) -> Result<(), JournalError> {
        let mut ground = self.ground.lock();
        if ground.moved.is_none() {
            let Some(change) = ground.check() else {
                return Ok(());
            };
            let what = self.rescue(conn, &ground, change);
            tracing::error!("the journal {} {what}", self.path.display());
            *self.health() = JournalHealth {
                writable: false,
                problem: Some(what.clone()),
            };
            ground.moved = Some(what);
        }
        Err(JournalError::Moved {
            path: self.path.clone(),
            what: ground.moved.clone().unwrap_or_default(),
        })
    }

    /// Keeps what this host wrote: the journal as it sees it, WAL and all,
    /// copied beside the path (into it where the path is free), or a
    /// marker that keeps every host off the path until its operator has
    /// chosen. What happened, in words.
    pub(super) fn rescue(&self, conn: &Connection, ground: &Ground, moved: Moved) -> String {
        let copy = ground::rescue_path(&self.path);
        let quoted = copy.display().to_string().replace('\'', "''");
        let copied = conn
            .execute_batch(&format!("VACUUM INTO '{quoted}'"))
            .map_err(|e| e.to_string())
            .and_then(|()| private_file(&copy).map_err(|e| e.to_string()));
        if copied.is_ok() && moved.path_is_free() && {
            // The gone file's WAL and index go too: read with the copy,
            // they would corrupt it.
            ground.remove_companions();
            std::fs::hard_link(&copy, &self.path).is_ok()
        } {
            let _ = std::fs::remove_file(&copy);
            return format!(
                "{}: this host takes no more payments. Every attempt it had written is back at the path; those still in flight become unknown once its lease lapses. Restart the host",
                moved.describe()
            );
        }
        let kept = match &copied {
            Ok(()) => format!(
                "this host's journal, as it last wrote it, is copied to {}",
                copy.display()
            ),
            Err(e) => format!("no copy of this host's journal could be made ({e})"),
        };
        let marker = ground::marker_path(&self.path);
        let note = format!(
            "the journal {} at {} ms since the epoch; {kept}.",
            moved.describe(),
            now_ms()
        );
        let marked = std::fs::write(&marker, &note);
        format!(
            "{}: this host takes no more payments; {kept}. {}",
            moved.describe(),
            match marked {
                Ok(()) => format!(
                    "No host starts on this journal while {} is there: choose which journal to keep, then remove it",
                    marker.display()
                ),
                Err(e) => format!(
                    "The marker {} could not be written ({e}): choose which journal to keep before any host starts on it",
                    marker.display()
                ),
            }
        )
    }
}
