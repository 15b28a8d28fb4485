//! The SQLite journal's ground: whether the file this host writes (and its
//! WAL) is still the file at the journal's path.
//!
//! SQLite keeps writing through the descriptors it opened: a journal file
//! deleted, renamed or replaced under a running host (or its `-wal`
//! deleted) takes every later attempt with it, and the next host, reading
//! what is at the path, would send those payments again. So the host
//! notes, when it opens the journal, which file (device and inode) it
//! holds and which WAL, and looks again after every commit and at every
//! lease renewal; the first difference stops it from taking payments.
//!
//! What is done about each, and why no payment is sent twice through it:
//!
//! - **deleted or renamed** (nothing at the path, or another file): the
//!   journal as this host sees it, WAL included, is copied (`VACUUM INTO`)
//!   beside the path and, where the path is empty, linked into it, so that
//!   the next host starts on every attempt this one wrote; its attempts
//!   still in flight there become `unknown` when this host's lease lapses.
//! - **replaced** (another file at the path) and **truncated** (the file
//!   shorter than this host has seen it): the copy is kept beside the
//!   path, and a marker (`<journal>.moved`) says what changed and where the
//!   copy is. No host starts on the path while the marker is there: the
//!   operator chooses which journal to keep, then removes it.
//! - **its WAL deleted or replaced**: the same, since the file at the path
//!   lacks what only the WAL held.
//!
//! In every case the host answers no begin after the difference was seen
//! (each begin is answered only after the commit it was written in was
//! checked against the path), and no later outcome is reported as recorded.

use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

/// A file's identity: its device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Id {
    dev: u64,
    ino: u64,
}

fn id_of(path: &Path) -> std::io::Result<(Id, u64)> {
    let meta = std::fs::metadata(path)?;
    Ok((
        Id {
            dev: meta.dev(),
            ino: meta.ino(),
        },
        meta.len(),
    ))
}

/// `path` with `suffix` added to its name: the files SQLite and the host
/// keep beside a journal.
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The WAL beside a journal file.
pub(crate) fn wal_path(path: &Path) -> PathBuf {
    beside(path, "-wal")
}

/// The shared-memory index beside a journal file.
fn shm_path(path: &Path) -> PathBuf {
    beside(path, "-shm")
}

/// The marker that keeps hosts off a journal whose ground moved.
pub(crate) fn marker_path(path: &Path) -> PathBuf {
    beside(path, ".moved")
}

/// What changed under a running host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Moved {
    /// Nothing is at the path: the file was deleted or renamed.
    Gone,
    /// Another file is at the path.
    Replaced,
    /// The file is shorter than this host has seen it.
    Truncated,
    /// The WAL beside it was deleted.
    WalGone,
    /// Another WAL is beside it.
    WalReplaced,
}

impl Moved {
    /// In words, for the log and the health check.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Moved::Gone => "was deleted or renamed while this host was writing it",
            Moved::Replaced => "was replaced by another file while this host was writing it",
            Moved::Truncated => "was truncated while this host was writing it",
            Moved::WalGone => "lost its WAL file (-wal) while this host was writing it",
            Moved::WalReplaced => "had its WAL file (-wal) replaced while this host was writing it",
        }
    }

    /// Whether the path is free for the copy to be linked into.
    pub(crate) fn path_is_free(self) -> bool {
        self == Moved::Gone
    }
}

/// The journal file and WAL a host holds, as it opened them.
#[derive(Debug)]
pub(crate) struct Ground {
    path: PathBuf,
    file: Id,
    wal: Option<Id>,
    /// The shared-memory index beside it, as this host opened it.
    shm: Option<Id>,
    /// The largest size seen: SQLite never shrinks the file (it is not
    /// vacuumed), so a smaller one was truncated under it.
    size: u64,
    /// What changed, in words, once something did: from then on the host
    /// writes no more.
    pub(crate) moved: Option<String>,
}

impl Ground {
    /// Notes the file and WAL at `path` as this host holds them now.
    pub(crate) fn note(path: &Path) -> std::io::Result<Ground> {
        let (file, size) = id_of(path)?;
        let wal = id_of(&wal_path(path)).ok().map(|(id, _)| id);
        let shm = id_of(&shm_path(path)).ok().map(|(id, _)| id);
        Ok(Ground {
            path: path.to_owned(),
            file,
            wal,
            shm,
            size,
            moved: None,
        })
    }

    /// Removes the WAL and shared-memory index beside the path where they
    /// are still the ones this host holds (those of a file that is gone):
    /// left there, they would be read as part of whatever is put at the
    /// path next.
    pub(crate) fn remove_companions(&self) {
        for (path, held) in [
            (wal_path(&self.path), self.wal),
            (shm_path(&self.path), self.shm),
        ] {
            if let (Some(held), Ok((id, _))) = (held, id_of(&path))
                && id == held
            {
                let _ = std::fs::remove_file(&path);
            }
        }
    }

    /// Looks again: what changed, if anything.
    pub(crate) fn check(&mut self) -> Option<Moved> {
        match id_of(&self.path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Some(Moved::Gone),
            // Unreadable for a moment (permissions changed): not a move.
            Err(_) => {}
            Ok((id, _)) if id != self.file => return Some(Moved::Replaced),
            Ok((_, size)) if size < self.size => return Some(Moved::Truncated),
            Ok((_, size)) => self.size = size,
        }
        let wal = wal_path(&self.path);
        match (self.wal, id_of(&wal)) {
            (Some(_), Err(e)) if e.kind() == std::io::ErrorKind::NotFound => Some(Moved::WalGone),
            (Some(held), Ok((id, _))) if id != held => Some(Moved::WalReplaced),
            // No WAL when this host opened the file: the first one it makes.
            (None, Ok((id, _))) => {
                self.wal = Some(id);
                None
            }
            _ => None,
        }
    }
}

/// Where the copy of a journal whose ground moved is written: beside it,
/// named for the moment.
pub(crate) fn rescue_path(path: &Path) -> PathBuf {
    beside(path, &format!(".rescued-{}", super::types::now_ms()))
}

/// A journal that must not be opened: its marker says its ground moved
/// under an earlier host, and its operator has not yet chosen which
/// journal to keep.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{marker} says the journal's file changed under a running host: {note} Choose which journal to keep (the file at the path, or the copy it names, moved into place with the host stopped), then remove {marker} and start again"
)]
pub(crate) struct Marked {
    /// The marker file (`<journal>.moved`).
    pub(crate) marker: PathBuf,
    /// What the marker says, trimmed.
    pub(crate) note: String,
}

/// Refuses to open a journal whose ground moved under an earlier host
/// until its operator has chosen which journal to keep.
pub(crate) fn refuse_marked(path: &Path) -> Result<(), Marked> {
    let marker = marker_path(path);
    match std::fs::read_to_string(&marker) {
        Ok(text) => Err(Marked {
            note: text.trim().to_owned(),
            marker,
        }),
        Err(_) => Ok(()),
    }
}

/// The `application_id` SQLite keeps in the file's header (bytes 68–71):
/// read from the file itself, not through SQLite (which would read a page
/// 1 in the WAL first). `None` for a file too short to have a header.
/// Read only before this process opens the file with SQLite: closing the
/// descriptor drops the process's POSIX locks on the file.
pub(crate) fn header_id(path: &Path) -> Option<u32> {
    use std::io::Read as _;
    let mut header = [0u8; 100];
    let mut file = std::fs::File::open(path).ok()?;
    file.read_exact(&mut header).ok()?;
    header
        .starts_with(b"SQLite format 3\0")
        .then(|| u32::from_be_bytes([header[68], header[69], header[70], header[71]]))
}
