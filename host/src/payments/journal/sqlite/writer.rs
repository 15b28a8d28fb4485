//! Group commit: the writer thread that runs every queued write of the
//! journal in one transaction, each in a savepoint of its own.

use super::*;

/// A write the batching writer runs inside its batch's transaction.
pub(super) trait Job: Send {
    /// Runs in a savepoint; whether to keep what it wrote, and how to
    /// answer once the batch is committed (or failed).
    fn run(self: Box<Self>, inner: &Inner, tx: &Connection) -> Ran;
    /// Answers without running: the batch could not begin.
    fn refuse(self: Box<Self>, error: JournalError);
}

/// How a job answers once its batch is committed or has failed.
pub(super) type Deliver = Box<dyn FnOnce(Option<JournalError>) + Send>;

/// What a job did.
pub(super) struct Ran {
    keep: bool,
    deliver: Deliver,
}

/// What to do with a write's result that nobody waits for any more.
pub(super) type Unheard<T> = Box<dyn FnOnce(T) + Send>;

/// A write with its typed answer.
pub(super) struct Typed<T, F> {
    pub(super) f: F,
    pub(super) reply: tokio::sync::oneshot::Sender<Result<T, JournalError>>,
    pub(super) unheard: Option<Unheard<T>>,
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

/// How many writes the last batch must have held for the next to wait
/// [`GATHER`] for more.
pub(super) const GATHER_SIBLINGS: usize = 2;

/// How long a batch under load waits for more writes before it commits.
pub(super) const GATHER: std::time::Duration = std::time::Duration::from_micros(500);

/// The most writes one transaction takes.
pub(super) const BATCH: usize = 256;

/// Group commit: every write queued while the last batch committed goes
/// into the next transaction, each in a savepoint of its own, and one
/// durable commit answers them all. Runs on its own thread until the
/// queue's senders are gone.
pub(super) fn batch_writer(inner: &Inner, queue: &mpsc::Receiver<Box<dyn Job>>) {
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
        // The lease this batch renews counts from before it is written.
        let started = super::super::fence::moment();
        let tx = match inner.immediate(&mut conn) {
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
        // Before any answer: an attempt begun in this batch is fenced by
        // the lease the batch confirmed.
        if committed.is_ok() {
            inner.held.renewed(started);
        }
        for (deliver, own) in answers {
            deliver(committed.as_ref().err().map(copy_error).or(own));
        }
    }
}

/// Runs one cached statement that takes no parameters and returns no rows.
pub(super) fn step(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.execute([]))
        .map(drop)
}

/// The same failure, for each write of a batch.
pub(super) fn copy_error(e: &JournalError) -> JournalError {
    match e {
        JournalError::Busy { location, waited } => JournalError::Busy {
            location: location.clone(),
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
