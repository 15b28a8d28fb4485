//! The SQLite backend: an embedded file in WAL mode, every write
//! transaction `IMMEDIATE` and waiting out another process's lock, the work
//! on blocking threads, a reader connection of its own, a lease thread.

use super::ground::{self, Ground, Moved};
use super::rules::{self, Next};
use super::types::*;
use crate::payments::attempt::{Attempt, AttemptState};
use crate::payments::model::{PaymentOutcome, PaymentRequest};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

/// The SQLite journal.
pub(crate) struct SqliteJournal {
    inner: Arc<Inner>,
    /// The batching writer's queue (see [`batch_writer`]).
    jobs: Mutex<Option<mpsc::Sender<Box<dyn Job>>>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    stop: Mutex<Option<mpsc::Sender<()>>>,
    lease: Mutex<Option<std::thread::JoinHandle<()>>>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
    instance: String,
    options: JournalOptions,
    health: Mutex<JournalHealth>,
    /// Set by [`Journal::close`]: no attempt begins after it.
    closed: std::sync::atomic::AtomicBool,
    /// The file and WAL this host holds, looked at before and after every
    /// commit, and what changed once something did.
    ground: Mutex<Ground>,
}

/// Creates the file readable and writable by its owner only, and narrows
/// an existing one to that.
#[cfg(unix)]
fn private_file(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)?;
    let mode = file.metadata()?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        file.set_permissions(std::fs::Permissions::from_mode(mode & 0o700))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn private_file(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS attempts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        idempotency_key TEXT NOT NULL UNIQUE,
        fingerprint TEXT NOT NULL,
        connector TEXT NOT NULL,
        order_id TEXT NOT NULL,
        method TEXT NOT NULL,
        card TEXT,
        amount TEXT NOT NULL,
        currency TEXT NOT NULL,
        state TEXT NOT NULL,
        outcome TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        resolution TEXT,
        owner INTEGER
    );
    CREATE INDEX IF NOT EXISTS attempts_order ON attempts (connector, order_id);
    CREATE INDEX IF NOT EXISTS attempts_state ON attempts (state);
    CREATE TABLE IF NOT EXISTS published (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        file TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        bytes BLOB NOT NULL,
        published_at INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS instances (
        instance TEXT PRIMARY KEY,
        pid INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
    );";

/// Columns added after the first schema, with their types.
const ADDED_COLUMNS: [(&str, &str); 5] = [
    ("instance", "TEXT"),
    ("resolved_by", "TEXT"),
    ("late_outcome", "TEXT"),
    ("instance_pid", "INTEGER"),
    // 1 when the attempt was marked unknown because its host's lease
    // lapsed (its host may yet come back with an answer).
    ("lapsed", "INTEGER"),
];

impl SqliteJournal {
    /// Opens (or creates) the journal file with the default options.
    #[cfg(test)]
    pub(crate) fn open(path: &Path) -> Result<SqliteJournal, JournalError> {
        SqliteJournal::open_with(path, JournalOptions::default())
    }

    /// Opens (or creates, 0600) the journal file, takes a lease for this
    /// process and marks attempts of lapsed instances `unknown`. Blocks
    /// while another process holds the write lock, up to the busy timeout.
    pub(crate) fn open_with(
        path: &Path,
        options: JournalOptions,
    ) -> Result<SqliteJournal, JournalError> {
        // A lock held past the wait is busy here as on every other path.
        let fail = |source| error(path, options.busy_timeout, source);
        options.check()?;
        ground::refuse_marked(path).map_err(|what| JournalError::Moved {
            path: path.to_owned(),
            what: format!("cannot be used: {what}"),
        })?;
        private_file(path).map_err(|e| JournalError::Sqlite {
            path: path.to_owned(),
            source: rusqlite::Error::InvalidPath(PathBuf::from(format!("{}: {e}", path.display()))),
        })?;
        // The file's own header, read before this process holds any lock
        // on it: closing a descriptor drops every POSIX lock the process
        // holds on the file, which would let another process take itself
        // for the last one open and remove the WAL.
        let header = ground::header_id(path).unwrap_or(0);
        let writer = Connection::open(path).map_err(fail)?;
        writer.busy_timeout(options.busy_timeout).map_err(fail)?;
        writer.set_prepared_statement_cache_capacity(STATEMENTS);
        // A new file is switched to WAL once; every later open reads it.
        writer
            .execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;")
            .map_err(fail)?;
        {
            let mut conn = writer;
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(fail)?;
            tx.execute_batch(SCHEMA).map_err(fail)?;
            let columns: Vec<String> = tx
                .prepare("SELECT name FROM pragma_table_info('attempts')")
                .and_then(|mut s| {
                    s.query_map([], |r| r.get(0))?
                        .collect::<rusqlite::Result<Vec<String>>>()
                })
                .map_err(fail)?;
            for (name, kind) in ADDED_COLUMNS {
                if !columns.iter().any(|c| c == name) {
                    tx.execute_batch(&format!("ALTER TABLE attempts ADD COLUMN {name} {kind}"))
                        .map_err(fail)?;
                }
            }
            // The journal's own id, in the file's header: SQLite reads it
            // through the WAL, the host from the file itself; a WAL that
            // holds another database's first page says another id.
            let seen = tx
                .query_row("PRAGMA application_id", [], |r| r.get::<_, i64>(0))
                .map_err(fail)? as u32;
            if header != 0 && seen != header {
                return Err(JournalError::Moved {
                    path: path.to_owned(),
                    what: format!(
                        "cannot be used: its WAL ({}) belongs to another database (the file says it is journal {header:08x}, the WAL's first page says {seen:08x}), and SQLite would read the two as one. Put back the WAL that belongs with this file, or move that WAL away if this file alone is the journal to keep",
                        ground::wal_path(path).display()
                    ),
                });
            }
            let named = seen == 0;
            if named {
                let id = (uuid::Uuid::new_v4().as_u128() as u32) | 1;
                tx.execute_batch(&format!("PRAGMA application_id = {}", id as i32))
                    .map_err(fail)?;
            }
            tx.commit().map_err(fail)?;
            if named {
                // Into the file itself, so that a WAL can be checked against it.
                let _ = conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE);");
            }
            let reader = Connection::open(path).map_err(fail)?;
            reader.busy_timeout(options.busy_timeout).map_err(fail)?;
            reader.set_prepared_statement_cache_capacity(STATEMENTS);
            let inner = Arc::new(Inner {
                path: path.to_owned(),
                writer: Mutex::new(conn),
                reader: Mutex::new(reader),
                instance: uuid::Uuid::new_v4().to_string(),
                options,
                health: Mutex::new(JournalHealth::writable()),
                closed: std::sync::atomic::AtomicBool::new(false),
                ground: Mutex::new(Ground::note(path).map_err(|e| JournalError::Moved {
                    path: path.to_owned(),
                    what: format!("cannot be read: {e}"),
                })?),
            });
            inner.renew()?;
            let (stop, stopped) = mpsc::channel();
            let renewing = inner.clone();
            let lease = std::thread::Builder::new()
                .name("payhost-lease".into())
                .spawn(move || {
                    let every = renewing.options.lease / 3;
                    while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                        let result = renewing.renew();
                        renewing.health().record(result);
                    }
                })
                .map_err(|e| JournalError::Sqlite {
                    path: path.to_owned(),
                    source: rusqlite::Error::InvalidPath(PathBuf::from(format!(
                        "cannot start the lease thread: {e}"
                    ))),
                })?;
            let (jobs, queue) = mpsc::channel::<Box<dyn Job>>();
            let batching = inner.clone();
            let writer = std::thread::Builder::new()
                .name("payhost-journal".into())
                .spawn(move || batch_writer(&batching, &queue))
                .map_err(|e| JournalError::Sqlite {
                    path: path.to_owned(),
                    source: rusqlite::Error::InvalidPath(PathBuf::from(format!(
                        "cannot start the journal's writer thread: {e}"
                    ))),
                })?;
            Ok(SqliteJournal {
                inner,
                jobs: Mutex::new(Some(jobs)),
                writer: Mutex::new(Some(writer)),
                stop: Mutex::new(Some(stop)),
                lease: Mutex::new(Some(lease)),
            })
        }
    }

    /// This process's instance id in the journal.
    pub(crate) fn instance(&self) -> &str {
        &self.inner.instance
    }

    /// Takes no new attempt from now on.
    pub(crate) fn refuse_new(&self) {
        self.inner
            .closed
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// How it was opened.
    pub(crate) fn options(&self) -> JournalOptions {
        self.inner.options
    }

    /// The file.
    pub(crate) fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Whether the journal could be written at the last lease renewal.
    pub(crate) fn health(&self) -> JournalHealth {
        self.inner.health().clone()
    }

    /// Runs `f` on a blocking thread with the inner state.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Inner) -> Result<T, JournalError> + Send + 'static,
    ) -> Result<T, JournalError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || f(&inner))
            .await
            .map_err(|e| JournalError::Sqlite {
                path: self.inner.path.clone(),
                source: rusqlite::Error::InvalidPath(PathBuf::from(format!(
                    "a journal thread failed: {e}"
                ))),
            })?
    }

    /// One try at [`super::Journal::begin`]: `None` while an attempt with
    /// this key is in flight.
    pub(crate) async fn try_begin(
        &self,
        connector: &str,
        request: &PaymentRequest,
        fp: &str,
    ) -> Result<Option<Begin>, JournalError> {
        let (c, r, f) = (connector.to_owned(), request.clone(), fp.to_owned());
        // Should nobody be waiting when the attempt is written (the caller
        // dropped its future), the attempt is written unknown at once: no
        // one will call the supplier for it, and no one will finish it.
        let jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let unheard: Unheard<Option<Begin>> = Box::new(move |begun| {
            if let (Some(Begin::New(id)), Some(jobs)) = (begun, jobs) {
                let (reply, _) = tokio::sync::oneshot::channel();
                let finish = move |inner: &Inner, tx: &Connection| {
                    tracing::warn!(
                        "payment attempt {id} was written after its caller had gone: it is unknown"
                    );
                    inner.finish_in(tx, id, &abandoned())
                };
                let _ = jobs.send(Box::new(Typed {
                    f: finish,
                    reply,
                    unheard: None,
                }));
            }
        });
        self.submit_with(
            move |inner, tx| inner.try_begin_in(tx, &c, &r, &f),
            Some(unheard),
        )
        .await
    }

    /// Queues a write for the batching writer and waits for its commit.
    async fn submit<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Inner, &Connection) -> Result<T, JournalError> + Send + 'static,
    ) -> Result<T, JournalError> {
        self.submit_with(f, None).await
    }

    /// [`Self::submit`], with what to do with the result when nobody
    /// waits for it any more.
    async fn submit_with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Inner, &Connection) -> Result<T, JournalError> + Send + 'static,
        unheard: Option<Unheard<T>>,
    ) -> Result<T, JournalError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Box<dyn Job> = Box::new(Typed { f, reply, unheard });
        let sent = self
            .jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|jobs| jobs.send(job).is_ok())
            .unwrap_or(false);
        if !sent {
            return Err(JournalError::Closed);
        }
        answer.await.unwrap_or(Err(JournalError::Closed))
    }

    /// Records an attempt's outcome, if the attempt is still in flight and
    /// still this instance's. Otherwise (its lease lapsed and it was marked
    /// `unknown`, and perhaps resolved since) the outcome is kept beside it
    /// as a late outcome for the operator and the state does not move.
    pub(crate) async fn finish(
        &self,
        id: i64,
        outcome: &PaymentOutcome,
    ) -> Result<Finished, JournalError> {
        let outcome = outcome.clone();
        self.submit(move |inner, tx| inner.finish_in(tx, id, &outcome))
            .await
    }

    /// Records the operator's decision on an `unknown` attempt.
    pub(crate) async fn resolve(
        &self,
        id: i64,
        outcome: &PaymentOutcome,
        note: &str,
        by: &str,
    ) -> Result<Attempt, JournalError> {
        let (outcome, note, by) = (outcome.clone(), note.to_owned(), by.to_owned());
        self.blocking(move |inner| inner.resolve(id, &outcome, &note, &by))
            .await
    }

    /// One attempt.
    pub(crate) async fn get(&self, id: i64) -> Result<Attempt, JournalError> {
        self.blocking(move |inner| inner.get(id)).await
    }

    /// The attempt under a key.
    pub(crate) async fn by_key(&self, key: &str) -> Result<Option<Attempt>, JournalError> {
        // On the hot path (once per new payment): a point lookup in WAL
        // mode that no writer blocks is a few µs, less than a hop to a
        // blocking thread and back. It runs in place when the reader is
        // free and the file answers at once; otherwise (another read in
        // progress, the file busy) it waits on a blocking thread.
        if let Ok(conn) = self.inner.reader.try_lock() {
            let found = conn
                .busy_timeout(std::time::Duration::ZERO)
                .and_then(|()| Inner::by_key_on(&conn, key));
            let restored = conn.busy_timeout(self.inner.options.busy_timeout);
            match (found, restored) {
                (Err(e), _) if is_busy(&e) => {}
                (found, Ok(())) => return found.map_err(|e| self.inner.fail(e)),
                (_, Err(e)) => return Err(self.inner.fail(e)),
            }
        }
        let key = key.to_owned();
        self.blocking(move |inner| inner.by_key(&key)).await
    }

    /// The latest attempts, newest first.
    pub(crate) async fn list(&self, limit: usize) -> Result<Vec<Attempt>, JournalError> {
        self.blocking(move |inner| inner.list(limit)).await
    }

    /// Stores a connector file for every host.
    pub(crate) async fn publish(
        &self,
        file: &str,
        sha256: &str,
        bytes: Vec<u8>,
    ) -> Result<i64, JournalError> {
        let (file, sha256) = (file.to_owned(), sha256.to_owned());
        self.blocking(move |inner| {
            let mut conn = inner.writer();
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| inner.fail(e))?;
            tx.prepare_cached(
                "INSERT INTO published (file, sha256, bytes, published_at) VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut stmt| stmt.execute(params![file, sha256, bytes, now()]))
            .map_err(|e| inner.fail(e))?;
            let seq = tx.last_insert_rowid();
            tx.commit().map_err(|e| inner.fail(e))?;
            Ok(seq)
        })
        .await
    }

    /// The files published after `seq`, in order.
    pub(crate) async fn published_after(&self, seq: i64) -> Result<Vec<Published>, JournalError> {
        self.blocking(move |inner| {
            let conn = inner.reader();
            let mut stmt = conn
                .prepare(
                    "SELECT seq, file, sha256, bytes FROM published WHERE seq > ?1 ORDER BY seq LIMIT 8",
                )
                .map_err(|e| inner.fail(e))?;
            let rows = stmt
                .query_map(params![seq], |r| {
                    Ok(Published {
                        seq: r.get(0)?,
                        file: r.get(1)?,
                        sha256: r.get(2)?,
                        bytes: r.get(3)?,
                    })
                })
                .map_err(|e| inner.fail(e))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .map_err(|e| inner.fail(e))
        })
        .await
    }

    /// Ends this instance cleanly: its attempts still in flight (their
    /// payments did not finish within the shutdown's grace) become
    /// `unknown` now, its lease is given up and the WAL is checkpointed into
    /// the file.
    pub(crate) fn close(&self) -> Result<(), JournalError> {
        self.inner
            .closed
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.stop_lease();
        let inner = &self.inner;
        let mut conn = inner.writer();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| inner.fail(e))?;
        let ids = Inner::mark_unknown(
            &tx,
            "state = ?3 AND instance = ?4",
            params![
                AttemptState::Unknown,
                serde_json::to_string(&lapsed()).unwrap_or_default(),
                AttemptState::InFlight,
                inner.instance
            ],
        )
        .map_err(|e| inner.fail(e))?;
        tx.prepare_cached("DELETE FROM instances WHERE instance = ?1")
            .and_then(|mut stmt| stmt.execute(params![inner.instance]))
            .map_err(|e| inner.fail(e))?;
        tx.commit().map_err(|e| inner.fail(e))?;
        for id in ids {
            tracing::warn!(
                "payment attempt {id} was still in flight when this host stopped: its outcome is unknown; resolve it with `payhost payments resolve {id}`"
            );
        }
        // Never waits on other processes: what they still read stays.
        conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE);")
            .map_err(|e| inner.fail(e))?;
        Ok(())
    }

    fn stop_lease(&self) {
        // The writer finishes what is queued, then stops.
        drop(self.jobs.lock().unwrap_or_else(|e| e.into_inner()).take());
        if let Some(writer) = self.writer.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = writer.join();
        }
        self.stop_renewing();
    }

    /// Stops renewing the lease (alone: a pause, in tests).
    fn stop_renewing(&self) {
        drop(self.stop.lock().unwrap_or_else(|e| e.into_inner()).take());
        if let Some(thread) = self.lease.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = thread.join();
        }
    }
}

impl Drop for SqliteJournal {
    fn drop(&mut self) {
        self.stop_lease();
    }
}

impl Inner {
    fn fail(&self, source: rusqlite::Error) -> JournalError {
        error(&self.path, self.options.busy_timeout, source)
    }

    fn writer(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn reader(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.reader.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn health(&self) -> std::sync::MutexGuard<'_, JournalHealth> {
        self.health.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Renews this instance's lease and marks the attempts of lapsed
    /// instances `unknown`.
    fn renew(&self) -> Result<(), JournalError> {
        let mut conn = self.writer();
        // Looked at before writing too: an idle host notices within a
        // renewal, and writes nothing into a file that is gone.
        self.check_ground(&conn)?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.fail(e))?;
        let ids = self.sweep(&tx).map_err(|e| self.fail(e))?;
        tx.commit().map_err(|e| self.fail(e))?;
        rules::warn_swept(&ids);
        self.check_ground(&conn)
    }

    /// Whether the file and WAL at the path are still the ones this host
    /// writes; the first time they are not, it keeps what it wrote and
    /// stops for good (see [`ground`]).
    fn check_ground(&self, conn: &Connection) -> Result<(), JournalError> {
        let mut ground = self.ground.lock().unwrap_or_else(|e| e.into_inner());
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
    fn rescue(&self, conn: &Connection, ground: &Ground, moved: Moved) -> String {
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

    /// Takes or renews this instance's lease, from now: the time it read.
    fn hold_lease(&self, tx: &Connection) -> rusqlite::Result<i64> {
        let t = now_ms();
        tx.prepare_cached(
            "INSERT INTO instances (instance, pid, started_at, expires_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (instance) DO UPDATE SET expires_at = excluded.expires_at",
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
    fn sweep(&self, tx: &Connection) -> rusqlite::Result<Vec<i64>> {
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
    fn mark_unknown(
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

    /// `None` while an attempt with this key is in flight. Runs inside the
    /// batch's transaction (see [`batch_writer`]).
    fn try_begin_in(
        &self,
        tx: &Connection,
        connector: &str,
        request: &PaymentRequest,
        fp: &str,
    ) -> Result<Option<Begin>, JournalError> {
        if self.closed.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(JournalError::Closed);
        }
        self.try_begin_once(tx, connector, request, fp, false)
    }

    /// One look; an attempt in flight in the way is first checked against
    /// its host's lease (`swept`: already done), so that an attempt whose
    /// host is gone is unknown before anything is decided. The sweep runs
    /// only then, not on every payment.
    fn try_begin_once(
        &self,
        tx: &Connection,
        connector: &str,
        request: &PaymentRequest,
        fp: &str,
        swept: bool,
    ) -> Result<Option<Begin>, JournalError> {
        let by_key = tx
            .prepare_cached(&format!(
                "SELECT {}, fingerprint FROM attempts WHERE idempotency_key = ?1",
                Self::COLUMNS
            ))
            .and_then(|mut stmt| {
                stmt.query_row(params![request.idempotency_key], |row| {
                    Ok((Self::row(row)?, row.get(16)?))
                })
            })
            .optional()
            .map_err(|e| self.fail(e))?;
        // The order's attempts are looked at only when the key is new.
        let by_order = if by_key.is_some() {
            None
        } else {
            let [s1, s2, s3, s4] = AttemptState::MAY_HAVE_GONE_THROUGH;
            tx.prepare_cached(
                "SELECT id, state FROM attempts WHERE connector = ?1 AND order_id = ?2
                 AND state IN (?3, ?4, ?5, ?6) ORDER BY id DESC LIMIT 1",
            )
            .and_then(|mut stmt| {
                stmt.query_row(
                    params![connector, request.order_id, s1, s2, s3, s4],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
            })
            .optional()
            .map_err(|e| self.fail(e))?
        };
        let way = rules::InTheWay { by_key, by_order };
        match rules::begin_next(connector, request, fp, way, swept)? {
            Next::Insert => {}
            Next::Replay(attempt) => return Ok(Some(Begin::Replay(attempt))),
            Next::Wait => return Ok(None),
            Next::Sweep => {
                let ids = self.sweep(tx).map_err(|e| self.fail(e))?;
                rules::warn_swept(&ids);
                return self.try_begin_once(tx, connector, request, fp, true);
            }
        }
        let card = request.method.card().map(|c| c.masked_number());
        let t = now();
        tx.prepare_cached("INSERT INTO attempts (idempotency_key, fingerprint, connector, order_id, method, card, amount, currency, state, created_at, updated_at, instance, instance_pid)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11, ?12)").and_then(|mut stmt| stmt.execute(params![
                request.idempotency_key,
                fp,
                connector,
                request.order_id,
                request.method.kind().to_string(),
                card,
                request.amount.amount,
                request.amount.currency,
                AttemptState::InFlight,
                t,
                self.instance,
                i64::from(std::process::id())
            ]))
        .map_err(|e| self.fail(e))?;
        let id = tx.last_insert_rowid();
        Ok(Some(Begin::New(id)))
    }

    /// Runs inside the batch's transaction (see [`batch_writer`]).
    fn finish_in(
        &self,
        tx: &Connection,
        id: i64,
        outcome: &PaymentOutcome,
    ) -> Result<Finished, JournalError> {
        let json = serde_json::to_string(outcome).unwrap_or_default();
        let moved = tx
            .prepare_cached(
                "UPDATE attempts SET state = ?1, outcome = ?2, updated_at = ?3
                 WHERE id = ?4 AND state = ?5 AND instance = ?6",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    AttemptState::from(outcome.state),
                    json,
                    now(),
                    id,
                    AttemptState::InFlight,
                    self.instance
                ])
            })
            .map_err(|e| self.fail(e))?;
        if moved == 1 {
            return Ok(Finished::Recorded);
        }
        let (state, stored): (AttemptState, Option<String>) = tx
            .prepare_cached("SELECT state, outcome FROM attempts WHERE id = ?1")
            .and_then(|mut stmt| stmt.query_row(params![id], |row| Ok((row.get(0)?, row.get(1)?))))
            .map_err(|e| self.fail(e))?;
        if rules::finished_already(stored.as_deref(), &json) {
            return Ok(Finished::Recorded);
        }
        tx.prepare_cached(
            "UPDATE attempts SET late_outcome = ?1 WHERE id = ?2 AND late_outcome IS NULL",
        )
        .and_then(|mut stmt| stmt.execute(params![json, id]))
        .map_err(|e| self.fail(e))?;
        rules::warn_late(id, outcome, state);
        Ok(Finished::Late { state })
    }

    fn resolve(
        &self,
        id: i64,
        outcome: &PaymentOutcome,
        note: &str,
        by: &str,
    ) -> Result<Attempt, JournalError> {
        let json = serde_json::to_string(outcome).unwrap_or_default();
        {
            let mut conn = self.writer();
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| self.fail(e))?;
            let state: Option<AttemptState> = tx
                .prepare_cached("SELECT state FROM attempts WHERE id = ?1")
                .and_then(|mut stmt| stmt.query_row(params![id], |r| r.get(0)))
                .optional()
                .map_err(|e| self.fail(e))?;
            // A host that paused past its lease and came back may still be
            // waiting for the supplier: its answer comes first.
            let running: bool = tx
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM attempts a JOIN instances i ON i.instance = a.instance
                     WHERE a.id = ?1 AND a.lapsed = 1 AND a.late_outcome IS NULL
                       AND i.expires_at > ?2 AND i.instance != ?3)").and_then(|mut stmt| stmt.query_row(params![id, now_ms(), self.instance],
                    |r| r.get(0)))
                .map_err(|e| self.fail(e))?;
            rules::may_resolve(id, state, running)?;
            tx.prepare_cached("UPDATE attempts SET state = ?1, outcome = ?2, updated_at = ?3, resolution = ?4, resolved_by = ?5
                 WHERE id = ?6 AND state = ?7").and_then(|mut stmt| stmt.execute(params![
                    AttemptState::from(outcome.state),
                    json,
                    now(),
                    note,
                    by,
                    id,
                    AttemptState::Unknown
                ]))
            .map_err(|e| self.fail(e))?;
            tx.commit().map_err(|e| self.fail(e))?;
        }
        self.get(id)
    }

    fn row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Attempt> {
        let outcome: Option<String> = row.get(10)?;
        let late: Option<String> = row.get(15)?;
        Ok(Attempt {
            id: row.get(0)?,
            idempotency_key: row.get(1)?,
            connector: row.get(2)?,
            order_id: row.get(3)?,
            method: row.get(4)?,
            card: row.get(5)?,
            amount: row.get(6)?,
            currency: row.get(7)?,
            state: row.get(8)?,
            created_at: row.get(9)?,
            outcome: outcome.and_then(|o| serde_json::from_str(&o).ok()),
            updated_at: row.get(11)?,
            resolution: row.get(12)?,
            resolved_by: row.get(13)?,
            instance: row.get(14)?,
            late_outcome: late.and_then(|o| serde_json::from_str(&o).ok()),
        })
    }

    const COLUMNS: &str = "id, idempotency_key, connector, order_id, method, card, amount, currency, state, created_at, outcome, updated_at, resolution, resolved_by, instance, late_outcome";

    fn get(&self, id: i64) -> Result<Attempt, JournalError> {
        self.reader()
            .prepare_cached(&format!(
                "SELECT {} FROM attempts WHERE id = ?1",
                Self::COLUMNS
            ))
            .and_then(|mut stmt| stmt.query_row(params![id], Self::row))
            .optional()
            .map_err(|e| self.fail(e))?
            .ok_or(JournalError::NotFound(id))
    }

    fn by_key(&self, key: &str) -> Result<Option<Attempt>, JournalError> {
        Self::by_key_on(&self.reader(), key).map_err(|e| self.fail(e))
    }

    /// The attempt under `key`, read on `conn`.
    fn by_key_on(conn: &Connection, key: &str) -> rusqlite::Result<Option<Attempt>> {
        conn.prepare_cached(&format!(
            "SELECT {} FROM attempts WHERE idempotency_key = ?1",
            Self::COLUMNS
        ))
        .and_then(|mut stmt| stmt.query_row(params![key], Self::row))
        .optional()
    }

    fn list(&self, limit: usize) -> Result<Vec<Attempt>, JournalError> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {} FROM attempts ORDER BY id DESC LIMIT ?1",
                Self::COLUMNS
            ))
            .map_err(|e| self.fail(e))?;
        let rows = stmt
            .query_map(params![limit as i64], Self::row)
            .map_err(|e| self.fail(e))?;
        Ok(rows.filter_map(Result::ok).collect())
    }
}

/// A write the batching writer runs inside its batch's transaction.
trait Job: Send {
    /// Runs in a savepoint; whether to keep what it wrote, and how to
    /// answer once the batch is committed (or failed).
    fn run(self: Box<Self>, inner: &Inner, tx: &Connection) -> Ran;
    /// Answers without running: the batch could not begin.
    fn refuse(self: Box<Self>, error: JournalError);
}

/// How a job answers once its batch is committed or has failed.
type Deliver = Box<dyn FnOnce(Option<JournalError>) + Send>;

/// What a job did.
struct Ran {
    keep: bool,
    deliver: Deliver,
}

/// What to do with a write's result that nobody waits for any more.
type Unheard<T> = Box<dyn FnOnce(T) + Send>;

struct Typed<T, F> {
    f: F,
    reply: tokio::sync::oneshot::Sender<Result<T, JournalError>>,
    unheard: Option<Unheard<T>>,
}

impl<T, F> Job for Typed<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Inner, &Connection) -> Result<T, JournalError> + Send + 'static,
{
    fn run(self: Box<Self>, inner: &Inner, tx: &Connection) -> Ran {
        let Typed { f, reply, unheard } = *self;
        let result = f(inner, tx);
        // A refusal (a key reused, a busy order) wrote nothing worth
        // undoing; a failed statement may have written half.
        let keep = !matches!(
            result,
            Err(JournalError::Sqlite { .. } | JournalError::Busy { .. })
        );
        Ran {
            keep,
            deliver: Box::new(move |failed| {
                let answer = match failed {
                    Some(e) => Err(e),
                    None => result,
                };
                if let (Err(Ok(value)), Some(unheard)) = (reply.send(answer), unheard) {
                    unheard(value);
                }
            }),
        }
    }

    fn refuse(self: Box<Self>, error: JournalError) {
        let _ = self.reply.send(Err(error));
    }
}

/// Prepared statements kept per connection (the journal has about twenty).
const STATEMENTS: usize = 64;

/// How many writes the last batch must have held for the next to wait
/// [`GATHER`] for more.
const GATHER_SIBLINGS: usize = 2;

/// How long a batch under load waits for more writes before it commits.
const GATHER: std::time::Duration = std::time::Duration::from_micros(500);

/// The most writes one transaction takes.
const BATCH: usize = 256;

/// Group commit: every write queued while the last batch committed goes
/// into the next transaction, each in a savepoint of its own, and one
/// durable commit answers them all. Runs on its own thread until the
/// queue's senders are gone.
fn batch_writer(inner: &Inner, queue: &mpsc::Receiver<Box<dyn Job>>) {
    let mut last = 0;
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        // Under load (the last batch had company) a moment's wait gathers
        // more writes into one commit: fewer fsyncs, less CPU per payment.
        // A lone write never waits (PostgreSQL's commit_delay and
        // commit_siblings, the same idea).
        if last >= GATHER_SIBLINGS {
            std::thread::sleep(GATHER);
        }
        while batch.len() < BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        last = batch.len();
        let mut conn = inner.writer();
        // Looked at before writing as well as after: a batch that comes
        // after the file changed writes nothing into the old one.
        if let Err(e) = inner.check_ground(&conn) {
            drop(conn);
            for job in batch {
                job.refuse(copy_error(&e));
            }
            continue;
        }
        let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(e) => {
                let e = inner.fail(e);
                for job in batch {
                    job.refuse(copy_error(&e));
                }
                continue;
            }
        };
        // Every batch renews this instance's lease in its own transaction:
        // an attempt begun in it is under a lease confirmed at that moment,
        // so that no other process can sweep it before the lease could
        // have lapsed, however long the file was locked before.
        if let Err(e) = inner.hold_lease(&tx) {
            let e = inner.fail(e);
            drop(tx);
            for job in batch {
                job.refuse(copy_error(&e));
            }
            continue;
        }
        // Each answer with the error it gets whatever the commit does (a
        // savepoint that could not be released was rolled back).
        let mut answers: Vec<(Deliver, Option<JournalError>)> = Vec::with_capacity(batch.len());
        let mut jobs = batch.into_iter();
        let mut aborted = None;
        for job in jobs.by_ref() {
            // A savepoint per job through cached statements: rusqlite's
            // `Savepoint` parses its SQL afresh every time.
            if let Err(e) = step(&tx, "SAVEPOINT job") {
                job.refuse(inner.fail(e));
                continue;
            }
            let ran = job.run(inner, &tx);
            let own = if ran.keep {
                step(&tx, "RELEASE job").err().map(|e| {
                    // What cannot be kept is undone, as a dropped savepoint would be.
                    let _ = step(&tx, "ROLLBACK TO job").and_then(|()| step(&tx, "RELEASE job"));
                    inner.fail(e)
                })
            } else {
                step(&tx, "ROLLBACK TO job")
                    .and_then(|()| step(&tx, "RELEASE job"))
                    .err()
                    .map(|e| inner.fail(e))
            };
            answers.push((ran.deliver, own));
            // Some failures (a full disk, an I/O error) roll back the whole
            // transaction: nothing before this job holds either.
            if tx.is_autocommit() {
                aborted = Some(JournalError::Write {
                    path: inner.path.clone(),
                    message: "a write failed and SQLite rolled back the whole batch".to_owned(),
                });
                break;
            }
        }
        let committed = match aborted {
            Some(e) => {
                drop(tx);
                for job in jobs {
                    job.refuse(copy_error(&e));
                }
                Err(e)
            }
            // Answered only once the file it went into is known to be the
            // file at the path: a begin in a file that is gone is never
            // answered as begun, so nothing is sent for it.
            None => tx
                .commit()
                .map_err(|e| inner.fail(e))
                .and_then(|()| inner.check_ground(&conn)),
        };
        drop(conn);
        for (deliver, own) in answers {
            deliver(committed.as_ref().err().map(copy_error).or(own));
        }
    }
}

/// What a SQLite failure on the journal at `path` is: busy when another
/// connection held its lock past `waited`.
fn error(path: &Path, waited: std::time::Duration, source: rusqlite::Error) -> JournalError {
    if is_busy(&source) {
        return JournalError::Busy {
            path: path.to_owned(),
            waited,
        };
    }
    JournalError::Sqlite {
        path: path.to_owned(),
        source,
    }
}

/// Whether SQLite refused for another connection's lock.
fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// Runs one cached statement that takes no parameters and returns no rows.
fn step(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.execute([]))
        .map(drop)
}

/// The same failure, for each write of a batch.
fn copy_error(e: &JournalError) -> JournalError {
    match e {
        JournalError::Busy { path, waited } => JournalError::Busy {
            path: path.clone(),
            waited: *waited,
        },
        JournalError::Sqlite { path, source } => JournalError::Write {
            path: path.clone(),
            message: source.to_string(),
        },
        JournalError::Moved { path, what } => JournalError::Moved {
            path: path.clone(),
            what: what.clone(),
        },
        other => JournalError::Options(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payments::model::PaymentState;
    use std::time::Duration;

    async fn begin(j: &SqliteJournal, r: &PaymentRequest) -> Result<Begin, JournalError> {
        j.try_begin("c", r, &fingerprint("c", r))
            .await
            .map(|b| b.expect("no attempt under this key is in flight"))
    }
    use crate::payments::model::{Money, PaymentMethod};

    fn request(order: &str, key: &str) -> PaymentRequest {
        PaymentRequest {
            order_id: order.to_owned(),
            client_order_id: None,
            method: PaymentMethod::Balance,
            amount: Money {
                amount: "1.00".into(),
                currency: "USD".into(),
            },
            idempotency_key: key.to_owned(),
            attributes: Default::default(),
        }
    }

    #[test]
    fn writers_on_one_file_wait_their_turn_instead_of_failing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.db");
        drop(SqliteJournal::open(&path).unwrap());
        // Eight connections, as eight processes would have, each writing
        // as fast as it can.
        let writers: Vec<_> = (0..8)
            .map(|w| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    rt.block_on(async {
                        let journal = SqliteJournal::open(&path)?;
                        for i in 0..25 {
                            let r = request(&format!("O-{w}-{i}"), &format!("k-{w}-{i}"));
                            let Begin::New(id) = begin(&journal, &r).await? else {
                                panic!("a new key replayed");
                            };
                            journal
                                .finish(id, &PaymentOutcome::new(PaymentState::Succeeded))
                                .await?;
                        }
                        journal.close()
                    })
                })
            })
            .collect();
        for writer in writers {
            writer.join().unwrap().unwrap();
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let journal = SqliteJournal::open(&path).unwrap();
        let all = rt.block_on(journal.list(1000)).unwrap();
        assert_eq!(all.len(), 200);
        assert!(all.iter().all(|a| a.state == AttemptState::Succeeded));
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_the_owners_alone() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.db");
        std::fs::write(&path, b"").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        drop(SqliteJournal::open(&path).unwrap());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn a_host_back_from_a_pause_is_heard_before_the_operator_resolves() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.db");
        let options = JournalOptions {
            lease: Duration::from_secs(1),
            busy_timeout: Duration::from_millis(300),
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let paused = SqliteJournal::open_with(&path, options).unwrap();
            let Begin::New(id) = begin(&paused, &request("O-1", "k-1")).await.unwrap() else {
                panic!("a new key replayed");
            };
            // The host pauses: no renewal; another host finds its lease lapsed.
            paused.stop_renewing();
            tokio::time::sleep(Duration::from_millis(1200)).await;
            let other = SqliteJournal::open_with(&path, options).unwrap();
            assert_eq!(other.get(id).await.unwrap().state, AttemptState::Unknown);
            // The paused host comes back: until its answer is in, the
            // operator is told to wait.
            paused.inner.renew().unwrap();
            let failed = PaymentOutcome::new(PaymentState::Failed);
            assert!(matches!(
                other.resolve(id, &failed, "no charge", "cli").await,
                Err(JournalError::StillRunning { .. })
            ));
            // Its answer does not move the attempt; it is kept beside it.
            let late = paused
                .finish(id, &PaymentOutcome::new(PaymentState::Succeeded))
                .await
                .unwrap();
            assert_eq!(
                late,
                Finished::Late {
                    state: AttemptState::Unknown
                }
            );
            let resolved = other
                .resolve(id, &failed, "no charge", "cli")
                .await
                .unwrap();
            assert_eq!(resolved.state, AttemptState::Failed);
            assert_eq!(
                resolved.late_outcome.map(|o| o.state),
                Some(PaymentState::Succeeded)
            );
            // A closed journal takes no new attempt.
            paused.close().unwrap();
            assert!(matches!(
                begin(&paused, &request("O-2", "k-2")).await,
                Err(JournalError::Closed)
            ));
        });
    }

    #[test]
    fn an_attempt_written_after_its_caller_went_is_unknown() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.db");
        let options = JournalOptions {
            lease: Duration::from_secs(3),
            busy_timeout: Duration::from_secs(1),
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let journal = SqliteJournal::open_with(&path, options).unwrap();
            // Another process holds the write lock while the caller gives up.
            let locker = Connection::open(&path).unwrap();
            locker.execute_batch("BEGIN IMMEDIATE").unwrap();
            let r = request("O-1", "k-1");
            assert!(
                tokio::time::timeout(Duration::from_millis(200), begin(&journal, &r))
                    .await
                    .is_err()
            );
            locker.execute_batch("COMMIT").unwrap();
            // The attempt is written once the lock is gone, and at once made
            // unknown: nobody will finish it.
            let started = std::time::Instant::now();
            loop {
                if let Ok(a) = journal.get(1).await
                    && a.state == AttemptState::Unknown
                {
                    break;
                }
                assert!(started.elapsed() < Duration::from_secs(5), "left in flight");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
    }
    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn an_attempt_begun_under_a_lapsed_lease_renews_it_and_is_not_swept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.db");
        let options = JournalOptions {
            lease: Duration::from_secs(1),
            busy_timeout: Duration::from_millis(300),
        };
        runtime().block_on(async {
            let sweeper = SqliteJournal::open_with(&path, options).unwrap();
            let back = SqliteJournal::open_with(&path, options).unwrap();
            // Its lease lapses (no renewal: an outage, a pause) ...
            back.stop_renewing();
            tokio::time::sleep(Duration::from_millis(1200)).await;
            // ... and it begins before any renewal of its own.
            let Begin::New(id) = begin(&back, &request("O-1", "k-1")).await.unwrap() else {
                panic!("a new key replayed");
            };
            sweeper.inner.renew().unwrap();
            assert_eq!(
                sweeper.get(id).await.unwrap().state,
                AttemptState::InFlight,
                "an attempt begun under a lease confirmed in its own transaction was swept"
            );
            assert_eq!(
                back.finish(id, &PaymentOutcome::new(PaymentState::Succeeded))
                    .await
                    .unwrap(),
                Finished::Recorded
            );
        });
    }

    /// A journal with one paid attempt, and the file's path.
    fn paid(dir: &Path) -> (SqliteJournal, PathBuf, tokio::runtime::Runtime) {
        let path = dir.join("journal.db");
        let rt = runtime();
        let journal = SqliteJournal::open(&path).unwrap();
        rt.block_on(async {
            let Begin::New(id) = begin(&journal, &request("O-PAID", "k-paid")).await.unwrap()
            else {
                panic!("a new key replayed");
            };
            journal
                .finish(id, &PaymentOutcome::new(PaymentState::Succeeded))
                .await
                .unwrap();
        });
        (journal, path, rt)
    }

    #[test]
    fn a_journal_deleted_under_its_host_stops_it_and_is_put_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let (journal, path, rt) = paid(dir.path());
        std::fs::remove_file(&path).unwrap();
        rt.block_on(async {
            let refused = begin(&journal, &request("O-NEXT", "k-next")).await;
            assert!(
                matches!(&refused, Err(JournalError::Moved { what, .. }) if what.contains("deleted or renamed")),
                "{refused:?}"
            );
            assert!(!journal.health().writable);
        });
        drop(journal);
        // Every attempt it wrote is back at the path; nothing keeps a
        // host off it.
        assert!(!ground::marker_path(&path).exists());
        let reopened = SqliteJournal::open(&path).unwrap();
        let all = rt.block_on(reopened.list(10)).unwrap();
        assert!(
            all.iter()
                .any(|a| a.order_id == "O-PAID" && a.state == AttemptState::Succeeded),
            "{all:?}"
        );
        assert!(all.iter().all(|a| a.order_id != "O-NEXT"), "{all:?}");
    }

    #[test]
    fn a_journal_replaced_or_losing_its_wal_under_its_host_keeps_every_host_off_it_until_settled() {
        for (case, change) in [
            ("replaced", "replaced by another file"),
            ("wal", "lost its WAL"),
            ("truncated", "truncated"),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let (journal, path, rt) = paid(dir.path());
            match case {
                "replaced" => {
                    let other = dir.path().join("other.db");
                    drop(SqliteJournal::open(&other).unwrap());
                    std::fs::rename(&other, &path).unwrap();
                }
                "wal" => std::fs::remove_file(ground::wal_path(&path)).unwrap(),
                _ => std::fs::File::options()
                    .write(true)
                    .open(&path)
                    .unwrap()
                    .set_len(0)
                    .unwrap(),
            }
            rt.block_on(async {
                let refused = begin(&journal, &request("O-NEXT", "k-next")).await;
                assert!(
                    matches!(&refused, Err(JournalError::Moved { what, .. }) if what.contains(change)),
                    "{case}: {refused:?}"
                );
                // Still refused: it stopped for good.
                assert!(matches!(
                    begin(&journal, &request("O-NEXT", "k-next-2")).await,
                    Err(JournalError::Moved { .. })
                ));
            });
            drop(journal);
            let marker = ground::marker_path(&path);
            let note = std::fs::read_to_string(&marker).unwrap();
            assert!(note.contains(change), "{case}: {note}");
            let refused = SqliteJournal::open(&path).err().map(|e| e.to_string());
            assert!(
                refused.as_deref().is_some_and(|e| e.contains(".moved")),
                "{case}: {refused:?}"
            );
            if case == "truncated" {
                continue;
            }
            // The operator keeps the host's copy: it holds the paid attempt.
            let copy = std::fs::read_dir(dir.path())
                .unwrap()
                .flatten()
                .map(|e| e.path())
                .find(|p| p.to_string_lossy().contains(".rescued-"))
                .unwrap_or_else(|| panic!("{case}: no copy"));
            for stale in [ground::wal_path(&path), path.with_extension("db-shm")] {
                let _ = std::fs::remove_file(stale);
            }
            std::fs::rename(&copy, &path).unwrap();
            std::fs::remove_file(&marker).unwrap();
            let kept = SqliteJournal::open(&path).unwrap();
            let all = rt.block_on(kept.list(10)).unwrap();
            assert!(
                all.iter()
                    .any(|a| a.order_id == "O-PAID" && a.state == AttemptState::Succeeded),
                "{case}: {all:?}"
            );
        }
    }

    #[test]
    fn a_journal_whose_wal_belongs_to_another_database_is_refused_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let rt = runtime();
        let one = dir.path().join("one.db");
        let (journal, _, _) = paid(dir.path());
        drop(journal);
        std::fs::rename(dir.path().join("journal.db"), &one).unwrap();
        // Another journal, written enough to hold its first page in its
        // WAL; its WAL copied beside the first while it is open.
        let two = dir.path().join("two.db");
        let other = SqliteJournal::open(&two).unwrap();
        rt.block_on(async {
            for i in 0..200 {
                let r = request(&format!("O-{i}"), &format!("k-{i}"));
                begin(&other, &r).await.unwrap();
            }
        });
        std::fs::copy(ground::wal_path(&two), ground::wal_path(&one)).unwrap();
        let refused = SqliteJournal::open(&one).err().map(|e| e.to_string());
        assert!(
            refused
                .as_deref()
                .is_some_and(|e| e.contains("belongs to another database")),
            "{refused:?}"
        );
        drop(other);
    }
}
