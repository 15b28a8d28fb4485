//! The payment journal: every attempt is written before the supplier is
//! called and updated after. It is what makes a payment idempotent and
//! keeps a crash from losing one or sending one twice:
//!
//! - an idempotency key replays the stored outcome; the same key with other
//!   parameters is refused;
//! - two requests with one key make one supplier call (the second waits and
//!   replays);
//! - an order with an attempt that may have gone through (in flight,
//!   `unknown`, `succeeded`, `pending`) takes no new attempt under another
//!   key: an `unknown` one is resolved by `query` or by the operator;
//! - each process that opens the journal is an *instance* with a lease it
//!   renews; an attempt in flight whose instance's lease has lapsed (the
//!   process was killed, or stopped renewing) becomes `unknown`, never
//!   retried on its own; the write after the supplier call moves only an
//!   attempt still in flight and still its own.
//!
//! Two backends keep it: an embedded SQLite file (`sqlite`, the default;
//! several processes on one machine) and PostgreSQL (`postgres`; several
//! hosts), with the shared types in `types` and the rules both follow in
//! `rules` (each store finds the facts with its own SQL; the rules decide).
//!
//! Card numbers are stored masked (first 6 / last 4); CVVs never.

mod columns;
mod fence;
mod filter;
mod ground;
mod memory;
mod postgres;
mod queries;
mod rules;
mod running;
mod sqlite;
mod store;
mod tally;
mod types;
mod waits;

pub use types::{
    Begin, Finished, JournalError, JournalHealth, JournalOptions, Published, fingerprint,
};
pub(crate) use types::{abandoned, now, unsent};

use crate::payments::attempt::Attempt;
use crate::payments::journal::types::{Asked, Settlement, Upload};
use crate::payments::model::{PaymentOutcome, PaymentRequest};
pub use fence::Fence;
pub use filter::{Filter, MAX_PAGE, Page, Search, SearchError};
pub use memory::Memory;
use postgres::PgJournal;
pub use queries::{Answer, NextQuery, QueryRecord};
use sqlite::SqliteJournal;
use std::path::Path;
use std::time::Duration;
use store::Store;
pub use tally::{Minute, Queries, Tally};
pub use waits::LockWaits;

/// Where the journal is: a SQLite file, or a PostgreSQL database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JournalTarget {
    /// A SQLite file.
    Sqlite(std::path::PathBuf),
    /// A `postgres://` URL.
    Postgres(String),
}

/// The journal: its rules over a store.
pub struct Journal {
    store: Box<dyn Store>,
    running: running::Running,
    /// How long one call to the store may take before it is given up as
    /// failed: PostgreSQL's, whose server or network may stop answering
    /// without closing the connection (a file's calls are bounded by its
    /// lock wait).
    answer_within: Option<Duration>,
    /// Set once the journal is closed: its orphans were settled then.
    closed: std::sync::atomic::AtomicBool,
}

impl Journal {
    /// Opens (or creates) a SQLite journal file with the default options.
    pub fn open(path: &Path) -> Result<Journal, JournalError> {
        Journal::open_with(path, JournalOptions::default())
    }

    /// Opens (or creates, 0600) a SQLite journal file, takes a lease for
    /// this process and marks attempts of lapsed instances `unknown`.
    /// Blocks while another process holds the write lock, up to the wait.
    pub fn open_with(path: &Path, options: JournalOptions) -> Result<Journal, JournalError> {
        Ok(Journal::over(
            Box::new(SqliteJournal::open_with(path, options)?),
            None,
        ))
    }

    /// Connects to a PostgreSQL journal (`postgres://user@host/db`),
    /// migrating its schema, and takes a lease for this process.
    pub async fn connect(url: &str, options: JournalOptions) -> Result<Journal, JournalError> {
        // Past the lease another host may have marked this one's attempts
        // unknown: an answer later than that is no answer.
        Ok(Journal::over(
            Box::new(PgJournal::connect(url, options).await?),
            Some(options.lease),
        ))
    }

    /// A journal in `memory`, shared with every journal opened on it as
    /// hosts share a database: for tests and trials, nothing of it
    /// outlives the process.
    pub fn in_memory(memory: &Memory, options: JournalOptions) -> Result<Journal, JournalError> {
        Ok(Journal::over(
            Box::new(memory::MemoryJournal::open(memory, options)?),
            None,
        ))
    }

    /// Opens the journal at `target`.
    pub async fn open_target(
        target: &JournalTarget,
        options: JournalOptions,
    ) -> Result<Journal, JournalError> {
        match target {
            JournalTarget::Sqlite(path) => {
                let path = path.clone();
                tokio::task::spawn_blocking(move || Journal::open_with(&path, options))
                    .await
                    .map_err(|e| {
                        JournalError::Options(format!("opening the journal stopped: {e}"))
                    })?
            }
            JournalTarget::Postgres(url) => Journal::connect(url, options).await,
        }
    }

    /// The journal over `store`, each of whose calls is given up past
    /// `answer_within`, if any.
    fn over(store: Box<dyn Store>, answer_within: Option<Duration>) -> Journal {
        Journal {
            store,
            running: running::Running::default(),
            answer_within,
            closed: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// One store call, given up as failed past `answer_within`: the
    /// caller hears the journal did not answer, and what a write did on
    /// a server that answers late is found again by the key or the id
    /// (see [`Journal::settle_orphans`]).
    async fn bounded<T>(&self, call: store::Later<'_, T>) -> Result<T, JournalError> {
        match self.answer_within {
            Some(limit) => types::answered_within(limit, || self.location(), call).await,
            None => call.await,
        }
    }

    /// This process's instance id in the journal.
    pub fn instance(&self) -> &str {
        self.store.instance()
    }

    /// The fence of an attempt this process is about to begin: it holds
    /// for as long as this host's lease is held without a break from now
    /// (see [`Fence`]). A payment's supplier requests pass it.
    pub fn fence(&self) -> Fence {
        self.store.held().fence()
    }

    /// How it was opened: its lease and its wait for a lock.
    pub fn options(&self) -> JournalOptions {
        self.store.options()
    }

    /// Where it is: the file, or the URL without its password.
    pub fn location(&self) -> String {
        self.store.location()
    }

    /// Whether the journal could be written at the last lease renewal.
    pub fn health(&self) -> JournalHealth {
        self.store.health()
    }

    /// How long its writes waited for a lock (or a connection).
    pub fn lock_waits(&self) -> LockWaits {
        self.store.lock_waits()
    }

    /// Writes a new attempt before the supplier is called, or answers with
    /// the earlier attempt under the same key; refuses what could pay twice.
    /// Waits (up to `wait`) while another request with the same key is in flight.
    #[tracing::instrument(name = "journal.begin", level = "info", skip_all, fields(connector = connector))]
    pub async fn begin(
        &self,
        connector: &str,
        request: &PaymentRequest,
        wait: Duration,
    ) -> Result<Begin, JournalError> {
        let asked = Asked {
            connector: connector.to_owned(),
            request: request.clone(),
            fingerprint: fingerprint(connector, request),
        };
        let deadline = std::time::Instant::now() + wait;
        loop {
            // Held around each try alone: a try that found the key taken
            // wrote nothing, and the wait between tries must not keep an
            // orphan under this key from being settled.
            let beginning = self.running.beginning(&request.idempotency_key);
            let tried = self.bounded(self.store.try_begin(&asked)).await?;
            if let Some(Begin::New(id)) = &tried {
                self.running.begun(*id);
            }
            drop(beginning);
            match tried {
                Some(begin) => return Ok(begin),
                None if std::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(25)).await
                }
                None => {
                    let existing = self
                        .by_key(&request.idempotency_key)
                        .await?
                        .ok_or(JournalError::NotFound(0))?;
                    return Ok(Begin::Replay(Box::new(existing)));
                }
            }
        }
    }

    /// Records an attempt's outcome, if the attempt is still in flight and
    /// still this instance's. Otherwise (its lease lapsed and it was marked
    /// `unknown`, and perhaps resolved since) the outcome is kept beside it
    /// as a late outcome for the operator and the state does not move.
    #[tracing::instrument(name = "journal.finish", level = "info", skip_all, fields(attempt = id))]
    pub async fn finish(
        &self,
        id: i64,
        outcome: &PaymentOutcome,
    ) -> Result<Finished, JournalError> {
        let finished = self.bounded(self.store.finish(id, outcome)).await?;
        self.running.finished(id);
        Ok(finished)
    }

    /// Settles this process's orphans: attempts in flight under its
    /// instance that no call of it began or is beginning. A begin whose
    /// answer never came leaves one (the server stalled past the call's
    /// limit and wrote it later, a reply was lost, the caller's future was
    /// dropped): its connector was never called, so it is written
    /// `failed`, never sent, instead of holding its key and its order in
    /// flight under this host's live lease for as long as the host runs.
    /// How many it settled.
    pub async fn settle_orphans(&self) -> Result<usize, JournalError> {
        let mut filter = Filter {
            states: vec![crate::payments::attempt::AttemptState::InFlight],
            instance: Some(self.instance().to_owned()),
            limit: MAX_PAGE,
            ..Filter::default()
        };
        let mut settled = 0;
        loop {
            let page = self.find(&filter).await?;
            for a in &page.attempts {
                if self.is_closed() {
                    return Ok(settled);
                }
                // The page may be stale: a call that has since recorded its
                // outcome let go of its attempt after writing it, so an
                // attempt unclaimed now and still in flight when read again
                // afterwards is an orphan (a call's attempt is claimed from
                // before it is written until after it is recorded).
                if !self.running.unclaimed(&a.idempotency_key, a.id)
                    || self.get(a.id).await?.state
                        != crate::payments::attempt::AttemptState::InFlight
                {
                    continue;
                }
                // Marked unknown meanwhile (closing, or another host after
                // this one's lease lapsed), it keeps that state, and the
                // write is kept beside it.
                if self.finish(a.id, &unsent()).await? == Finished::Recorded {
                    settled += 1;
                    tracing::warn!(
                        "payment attempt {} was written by a begin whose answer never came; it was never sent to the supplier and is now failed",
                        a.id
                    );
                }
            }
            match page.next {
                Some(before) => filter.before = Some(before),
                None => return Ok(settled),
            }
        }
    }

    /// Records the operator's decision on an `unknown` attempt, and who
    /// made it; refused while the attempt's host may still answer (this
    /// process among them: an attempt it began and has not recorded).
    #[tracing::instrument(name = "journal.resolve", level = "info", skip_all, fields(attempt = id))]
    pub async fn resolve(
        &self,
        id: i64,
        outcome: &PaymentOutcome,
        note: &str,
        by: &str,
    ) -> Result<Attempt, JournalError> {
        let settlement = Settlement {
            outcome: outcome.clone(),
            note: note.to_owned(),
            by: by.to_owned(),
            asking: None,
        };
        self.settle(id, settlement).await
    }

    /// Records a query about attempt `id` whose answer decides it: the
    /// attempt (`unknown`, or `pending`) takes `outcome` with `note`, its
    /// earlier outcome kept as the supplier's, in one write with the
    /// query's record and when to ask `next`. Refused as a resolution is
    /// (then record the query with [`Journal::note_query`]).
    #[tracing::instrument(name = "journal.settle", level = "info", skip_all, fields(attempt = record.attempt))]
    pub async fn settle_by_query(
        &self,
        record: QueryRecord,
        outcome: &PaymentOutcome,
        note: &str,
        next: NextQuery,
        claim: Option<String>,
    ) -> Result<Attempt, JournalError> {
        let id = record.attempt;
        let settlement = Settlement {
            outcome: outcome.clone(),
            note: note.to_owned(),
            by: record.by.clone(),
            asking: Some(queries::Asking {
                record,
                next,
                claim,
            }),
        };
        self.settle(id, settlement).await
    }

    /// Writes a settlement of attempt `id`, a person's or a query's;
    /// refused while this process runs the attempt (begun here, its
    /// outcome not yet recorded).
    async fn settle(&self, id: i64, settlement: Settlement) -> Result<Attempt, JournalError> {
        if self.running.holds(id) {
            return Err(JournalError::StillRunning { id });
        }
        self.bounded(self.store.resolve(id, settlement)).await
    }

    /// Records a query that decided nothing (or the reconciler's stop),
    /// sets when to ask `next`, and releases the query's `claim`.
    #[tracing::instrument(name = "journal.query", level = "info", skip_all, fields(attempt = record.attempt))]
    pub async fn note_query(
        &self,
        record: QueryRecord,
        next: NextQuery,
        claim: Option<String>,
    ) -> Result<(), JournalError> {
        self.bounded(self.store.note_query(queries::Asking {
            record,
            next,
            claim,
        }))
        .await
    }

    /// The attempts of `connector` the reconciler may ask about now: those
    /// never asked whose last change was at or before `first_before`, and
    /// those whose next query's time has come, not held by another host;
    /// at most `limit`, oldest first.
    pub async fn due(
        &self,
        connector: &str,
        first_before: i64,
        limit: usize,
    ) -> Result<Vec<Attempt>, JournalError> {
        let search = queries::DueSearch {
            connector: connector.to_owned(),
            first_before,
            now: now(),
            limit,
        };
        self.bounded(self.store.due(&search)).await
    }

    /// Claims attempt `id` for one query for `hold`: the claim's token, or
    /// `None` when another claim is live (another host, or another call of
    /// this one, is asking) or, `scheduled` (the reconciler), when the
    /// attempt is no longer due. Released when the query is recorded with
    /// it; lapses after `hold` should this host die. While it holds, a
    /// person's resolution of the attempt waits.
    pub async fn claim(
        &self,
        id: i64,
        hold: Duration,
        scheduled: bool,
    ) -> Result<Option<String>, JournalError> {
        let until = now().saturating_add(i64::try_from(hold.as_secs()).unwrap_or(i64::MAX / 2));
        let token = format!("{}/{}", self.instance(), uuid::Uuid::new_v4());
        Ok(self
            .bounded(self.store.claim(id, &token, until, scheduled))
            .await?
            .then_some(token))
    }

    /// The queries about attempt `id`, oldest first.
    pub async fn queries(&self, id: i64) -> Result<Vec<QueryRecord>, JournalError> {
        self.bounded(self.store.queries(id)).await
    }

    /// One attempt.
    pub async fn get(&self, id: i64) -> Result<Attempt, JournalError> {
        self.bounded(self.store.get(id)).await
    }

    /// The attempt under a key.
    pub async fn by_key(&self, key: &str) -> Result<Option<Attempt>, JournalError> {
        self.bounded(self.store.by_key(key)).await
    }

    /// The latest attempts, newest first.
    pub async fn list(&self, limit: usize) -> Result<Vec<Attempt>, JournalError> {
        let filter = Filter {
            limit,
            ..Filter::default()
        };
        Ok(self.find(&filter).await?.attempts)
    }

    /// The backlog of attempts not settled and the resolutions made, for
    /// `/metrics`.
    pub async fn tally(&self) -> Result<Tally, JournalError> {
        self.bounded(self.store.tally()).await
    }

    /// The attempts made since `since` (Unix seconds), by connector, state
    /// and minute: the console's chart.
    pub async fn per_minute(&self, since: i64) -> Result<Vec<Minute>, JournalError> {
        self.bounded(self.store.per_minute(since)).await
    }

    /// The attempts `filter` finds, newest first, one page at a time.
    pub async fn find(&self, filter: &Filter) -> Result<Page, JournalError> {
        let attempts = self.bounded(self.store.find(filter)).await?;
        Ok(filter.page(attempts))
    }

    /// The attempt and every other attempt for its order, oldest first:
    /// what happened to the order.
    pub async fn history(&self, id: i64) -> Result<(Attempt, Vec<Attempt>), JournalError> {
        let attempt = self.get(id).await?;
        let filter = Filter {
            connector: Some(attempt.connector.clone()),
            order: Some(attempt.order_id.clone()),
            limit: MAX_PAGE,
            ..Filter::default()
        };
        let mut order = self.bounded(self.store.find(&filter)).await?;
        order.reverse();
        Ok((attempt, order))
    }

    /// Stores a connector file under its name for every host sharing this
    /// journal (`payhost plugins publish`); its place in the order.
    pub async fn publish(&self, file: &str, bytes: Vec<u8>) -> Result<i64, JournalError> {
        use sha2::Digest as _;
        let sha256 = hex::encode(sha2::Sha256::digest(&bytes));
        let upload = Upload {
            file: file.to_owned(),
            sha256,
            bytes,
        };
        self.bounded(self.store.publish(upload)).await
    }

    /// The next connector files published after `seq` (a few at a time),
    /// in order.
    pub async fn published_after(&self, seq: i64) -> Result<Vec<Published>, JournalError> {
        self.bounded(self.store.published_after(seq)).await
    }

    /// Takes no new attempt from now on (a stopping host); attempts under
    /// way are still finished.
    pub fn refuse_new(&self) {
        self.store.refuse_new()
    }

    /// Ends this instance cleanly: its attempts still in flight (their
    /// payments did not finish within the shutdown's grace) become
    /// `unknown` now, its lease is given up (and a SQLite file's WAL
    /// checkpointed). No attempt begins after it.
    pub async fn close(&self) -> Result<(), JournalError> {
        // Orphans first (written failed, never sent, where closing would
        // make them unknown), for no longer than a write may wait.
        let _ = tokio::time::timeout(self.options().busy_timeout, self.settle_orphans()).await;
        self.closed.store(true, std::sync::atomic::Ordering::SeqCst);
        self.store.close().await
    }

    /// Whether the journal was closed.
    pub fn is_closed(&self) -> bool {
        self.closed.load(std::sync::atomic::Ordering::SeqCst)
    }
}
