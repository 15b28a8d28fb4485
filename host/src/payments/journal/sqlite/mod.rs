//! The SQLite backend: an embedded file in WAL mode, every write
//! transaction `IMMEDIATE` and waiting out another process's lock, the work
//! on blocking threads, a reader connection of its own, a lease thread.

use super::ground::{self, Ground, Moved};
use super::rules::{self, Next};
use super::types::*;
use crate::payments::attempt::{Attempt, AttemptState};
use crate::payments::journal::filter::Filter;
use crate::payments::journal::types::{Asked, Settlement, Upload};
use crate::payments::model::{PaymentOutcome, PaymentRequest};
use parking_lot::Mutex;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;

mod attempts;
mod files;
mod lease;
mod queries;
mod rescue;
mod schema;
#[cfg(test)]
mod tests;
mod values;
mod writer;

use files::private_file;
use writer::{Job, Typed, Unheard, batch_writer};

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
    /// How long writes waited for the file's write lock.
    waits: super::waits::LockWaits,
    /// This host's lease as its own clock knows it.
    held: Arc<super::fence::Lease>,
}

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
        private_file(path).map_err(|source| JournalError::File {
            path: path.to_owned(),
            what: "cannot be created or made its owner's alone",
            source,
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
            if let Some(version) = schema::migrate(&tx).map_err(fail)? {
                return Err(JournalError::Newer {
                    location: path.display().to_string(),
                    version,
                    known: schema::VERSION,
                });
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
                waits: super::waits::LockWaits::default(),
                held: super::fence::Lease::new(options.lease, super::fence::moment()),
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
                .map_err(|source| JournalError::File {
                    path: path.to_owned(),
                    what: "cannot start its lease thread",
                    source,
                })?;
            let (jobs, queue) = mpsc::channel::<Box<dyn Job>>();
            let batching = inner.clone();
            let writer = std::thread::Builder::new()
                .name("payhost-journal".into())
                .spawn(move || batch_writer(&batching, &queue))
                .map_err(|source| JournalError::File {
                    path: path.to_owned(),
                    what: "cannot start its writer thread",
                    source,
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
            .map_err(|e| JournalError::File {
                path: self.inner.path.clone(),
                what: "lost a worker thread",
                source: std::io::Error::other(e),
            })?
    }

    /// One try at [`super::Journal::begin`]: `None` while an attempt with
    /// this key is in flight.
    pub(crate) async fn try_begin(&self, asked: &Asked) -> Result<Option<Begin>, JournalError> {
        let asked = asked.clone();
        // Should nobody be waiting when the attempt is written (the caller
        // dropped its future), the attempt is written failed, never sent,
        // at once: no one will call the supplier for it, and no one will
        // finish it (as the journal's orphan sweep writes it).
        let jobs = self.jobs.lock().clone();
        let unheard: Unheard<Option<Begin>> = Box::new(move |begun| {
            if let (Some(Begin::New(id)), Some(jobs)) = (begun, jobs) {
                let (reply, _) = tokio::sync::oneshot::channel();
                let finish = move |inner: &Inner, tx: &Connection| {
                    tracing::warn!(
                        "payment attempt {id} was written after its caller had gone: it was never sent and is failed"
                    );
                    inner.finish_in(tx, id, &unsent())
                };
                let _ = jobs.send(Box::new(Typed {
                    f: finish,
                    reply,
                    unheard: None,
                }));
            }
        });
        self.submit_with(
            move |inner, tx| inner.try_begin_in(tx, &asked),
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
        let queued = outcome.clone();
        match self
            .submit(move |inner, tx| inner.finish_in(tx, id, &queued))
            .await
        {
            // The writer stopped with the host (its shutdown grace is
            // over, and closing made the attempt unknown): the supplier's
            // answer is written on its own, beside the attempt, not lost.
            Err(JournalError::Closed) => {
                let outcome = outcome.clone();
                self.blocking(move |inner| inner.grounded(|tx| inner.finish_in(tx, id, &outcome)))
                    .await
            }
            finished => finished,
        }
    }

    /// Records the operator's decision on an `unknown` attempt.
    pub(crate) async fn resolve(
        &self,
        id: i64,
        settlement: Settlement,
    ) -> Result<Attempt, JournalError> {
        self.blocking(move |inner| inner.resolve(id, &settlement))
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
        if let Some(conn) = self.inner.reader.try_lock() {
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
    pub(crate) async fn find(&self, filter: &Filter) -> Result<Vec<Attempt>, JournalError> {
        let filter = filter.clone();
        self.blocking(move |inner| inner.find(&filter)).await
    }

    /// The attempts made since `since`, by connector, state and minute.
    pub(crate) async fn per_minute(
        &self,
        since: i64,
    ) -> Result<Vec<crate::payments::journal::tally::Minute>, JournalError> {
        self.blocking(move |inner| inner.per_minute(since)).await
    }

    /// The backlog and the resolutions (see `Journal::tally`).
    pub(crate) async fn tally(&self) -> Result<crate::payments::journal::Tally, JournalError> {
        self.blocking(|inner| inner.tally()).await
    }

    /// Stores a connector file for every host.
    pub(crate) async fn publish(&self, upload: Upload) -> Result<i64, JournalError> {
        let Upload {
            file,
            sha256,
            bytes,
        } = upload;
        self.blocking(move |inner| {
            inner.grounded(|tx| {
                tx.prepare_cached(
                    "INSERT INTO published (file, sha256, bytes, published_at) VALUES (?1, ?2, ?3, ?4)",
                )
                .and_then(|mut stmt| stmt.execute(params![file, sha256, bytes, now()]))
                .map_err(|e| inner.fail(e))?;
                Ok(tx.last_insert_rowid())
            })
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
        self.inner.held.give_up();
        let inner = &self.inner;
        let mut conn = inner.writer();
        let tx = inner.immediate(&mut conn).map_err(|e| inner.fail(e))?;
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
        drop(self.jobs.lock().take());
        if let Some(writer) = self.writer.lock().take() {
            let _ = writer.join();
        }
        self.stop_renewing();
    }

    /// Stops renewing the lease (alone: a pause, in tests).
    fn stop_renewing(&self) {
        drop(self.stop.lock().take());
        if let Some(thread) = self.lease.lock().take() {
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

    fn writer(&self) -> parking_lot::MutexGuard<'_, Connection> {
        self.writer.lock()
    }

    /// Runs `f` in a write transaction of its own on the writer
    /// connection, the journal's ground looked at before and after: a
    /// journal moved under this host takes no write, nor reports one made
    /// into the old file (see `ground`).
    fn grounded<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, JournalError>,
    ) -> Result<T, JournalError> {
        let mut conn = self.writer();
        self.check_ground(&conn)?;
        let tx = self.immediate(&mut conn).map_err(|e| self.fail(e))?;
        let done = f(&tx)?;
        tx.commit().map_err(|e| self.fail(e))?;
        self.check_ground(&conn)?;
        Ok(done)
    }

    /// A write transaction on `conn`, its wait for the file's write lock
    /// counted.
    fn immediate<'c>(
        &self,
        conn: &'c mut Connection,
    ) -> rusqlite::Result<rusqlite::Transaction<'c>> {
        self.waits
            .time(|| conn.transaction_with_behavior(TransactionBehavior::Immediate))
    }

    fn reader(&self) -> parking_lot::MutexGuard<'_, Connection> {
        self.reader.lock()
    }

    fn health(&self) -> parking_lot::MutexGuard<'_, JournalHealth> {
        self.health.lock()
    }
}

/// Prepared statements kept per connection (the journal has about twenty).
const STATEMENTS: usize = 64;
/// What a SQLite failure on the journal at `path` is: busy when another
/// connection held its lock past `waited`.
fn error(path: &Path, waited: std::time::Duration, source: rusqlite::Error) -> JournalError {
    if is_busy(&source) {
        return JournalError::Busy {
            location: path.display().to_string(),
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

super::store::store_by_its_methods!(
    SqliteJournal,
    location: |journal| journal.path().display().to_string(),
    close: |journal| journal.close()
);
