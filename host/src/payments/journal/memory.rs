//! A journal in memory, for tests and trials: the journal's rules over a
//! store that forgets everything when the process ends. Journals opened
//! on one [`Memory`] share it as hosts share a database, each an instance
//! with a lease a thread of its own renews.

use super::rules::{self, InTheWay, Next};
use super::types::{
    Begin, Finished, JournalError, JournalHealth, JournalOptions, Published, lapsed, now,
};
use crate::payments::attempt::{Attempt, AttemptState};
use crate::payments::journal::filter::Filter;
use crate::payments::journal::queries::{Asking, DueSearch, QueryRecord};
use crate::payments::journal::types::{Asked, Settlement, Upload};
use crate::payments::model::PaymentOutcome;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Instant;

/// Memory a journal keeps its attempts in, shared by every journal opened
/// on it ([`super::Journal::in_memory`]).
#[derive(Clone, Default)]
pub struct Memory(Arc<Mutex<Tables>>);

impl Memory {
    /// Empty memory.
    pub fn new() -> Memory {
        Memory::default()
    }
}

#[derive(Default)]
struct Tables {
    attempts: Vec<Row>,
    /// Each instance's lease: when it lapses.
    leases: BTreeMap<String, Instant>,
    published: Vec<Published>,
    /// Every query's record, in order.
    queries: Vec<QueryRecord>,
    /// The reconciler's schedule and claim, by attempt.
    reconcile: BTreeMap<i64, Schedule>,
}

/// One attempt's row in the reconciler's schedule.
#[derive(Default)]
struct Schedule {
    queries: u32,
    next_at: Option<i64>,
    stopped_at: Option<i64>,
    claim: Option<(String, i64)>,
}

struct Row {
    attempt: Attempt,
    fingerprint: String,
    /// Marked unknown because its host's lease lapsed.
    lapsed: bool,
}

/// One instance's journal in [`Memory`].
pub(crate) struct MemoryJournal {
    memory: Memory,
    instance: String,
    options: JournalOptions,
    closed: AtomicBool,
    /// Dropped, the lease thread stops (a killed host renews nothing).
    renewing: Mutex<Option<mpsc::Sender<()>>>,
    /// This host's lease as its own clock knows it.
    held: Arc<super::fence::Lease>,
}

impl Tables {
    fn renew(&mut self, instance: &str, options: &JournalOptions) {
        self.leases
            .insert(instance.to_owned(), Instant::now() + options.lease);
    }

    /// Marks `unknown` every attempt in flight of another instance whose
    /// lease has lapsed, and forgets those instances; their ids.
    fn sweep(&mut self, me: &str) -> Vec<i64> {
        let moment = Instant::now();
        let lapsed_hosts: Vec<String> = self
            .leases
            .iter()
            .filter(|(instance, until)| instance.as_str() != me && **until <= moment)
            .map(|(instance, _)| instance.clone())
            .collect();
        let live = |instance: &Option<String>| {
            instance
                .as_deref()
                .is_some_and(|i| i == me || self.leases.get(i).is_some_and(|until| *until > moment))
        };
        let mut ids = Vec::new();
        let (in_flight, outcome) = (AttemptState::InFlight, lapsed());
        let stale: Vec<usize> = self
            .attempts
            .iter()
            .enumerate()
            .filter(|(_, r)| r.attempt.state == in_flight && !live(&r.attempt.instance))
            .map(|(i, _)| i)
            .collect();
        for i in stale {
            let row = &mut self.attempts[i];
            row.attempt.state = AttemptState::Unknown;
            row.attempt.outcome = Some(outcome.clone());
            row.attempt.updated_at = now();
            row.lapsed = true;
            ids.push(row.attempt.id);
        }
        for host in lapsed_hosts {
            self.leases.remove(&host);
        }
        ids
    }

    /// Writes `asking`'s record and schedule, releasing the claim.
    fn record(&mut self, asking: Asking, settled: bool) {
        let (next_at, stopped_at, keep) = asking.schedule();
        let counts = asking.counts() as u32;
        let row = self.reconcile.entry(asking.record.attempt).or_default();
        row.queries += counts;
        if !keep {
            row.next_at = next_at;
            row.stopped_at = stopped_at;
        }
        if row.claim.as_ref().map(|(token, _)| Some(token)) == Some(asking.claim.as_ref()) {
            row.claim = None;
        }
        self.queries.push(QueryRecord {
            settled,
            ..asking.record
        });
    }

    fn row(&mut self, id: i64) -> Result<&mut Row, JournalError> {
        self.attempts
            .iter_mut()
            .find(|r| r.attempt.id == id)
            .ok_or(JournalError::NotFound(id))
    }
}

impl MemoryJournal {
    /// A new instance on `memory`, its lease taken and renewed by a thread
    /// until it is closed or dropped; attempts of lapsed instances become
    /// `unknown`.
    pub(crate) fn open(memory: &Memory, options: JournalOptions) -> Result<Self, JournalError> {
        options.check()?;
        let instance = uuid::Uuid::new_v4().to_string();
        let held = super::fence::Lease::new(options.lease, super::fence::moment());
        {
            let mut tables = memory.0.lock();
            tables.renew(&instance, &options);
            rules::warn_swept(&tables.sweep(&instance));
        }
        let (renewing, stopped) = mpsc::channel::<()>();
        let (shared, me, renewed) = (memory.clone(), instance.clone(), held.clone());
        std::thread::Builder::new()
            .name("payhost-memory-lease".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) =
                    stopped.recv_timeout(options.lease / 3)
                {
                    let started = super::fence::moment();
                    let mut tables = shared.0.lock();
                    tables.renew(&me, &options);
                    renewed.renewed(started);
                    rules::warn_swept(&tables.sweep(&me));
                }
            })
            .map_err(|e| JournalError::Options(format!("cannot start the lease thread: {e}")))?;
        Ok(MemoryJournal {
            memory: memory.clone(),
            instance,
            options,
            closed: AtomicBool::new(false),
            renewing: Mutex::new(Some(renewing)),
            held,
        })
    }

    fn try_begin_now(&self, asked: &Asked) -> Result<Option<Begin>, JournalError> {
        let Asked {
            connector,
            request,
            fingerprint,
        } = asked;
        if self.closed.load(Ordering::SeqCst) {
            return Err(JournalError::Closed);
        }
        let started = super::fence::moment();
        let mut tables = self.memory.0.lock();
        // Begun only under a lease confirmed now.
        tables.renew(&self.instance, &self.options);
        self.held.renewed(started);
        let mut swept = false;
        loop {
            let by_key = tables
                .attempts
                .iter()
                .find(|r| r.attempt.idempotency_key == request.idempotency_key)
                .map(|r| (r.attempt.clone(), r.fingerprint.clone()));
            let by_order = match by_key {
                Some(_) => None,
                None => tables
                    .attempts
                    .iter()
                    .rev()
                    .find(|r| {
                        r.attempt.connector == *connector
                            && r.attempt.order_id == request.order_id
                            && AttemptState::MAY_HAVE_GONE_THROUGH.contains(&r.attempt.state)
                    })
                    .map(|r| (r.attempt.id, r.attempt.state)),
            };
            let way = InTheWay { by_key, by_order };
            match rules::begin_next(connector, request, fingerprint, way, swept)? {
                Next::Insert => break,
                Next::Replay(attempt) => return Ok(Some(Begin::Replay(attempt))),
                Next::Wait => return Ok(None),
                Next::Sweep => {
                    rules::warn_swept(&tables.sweep(&self.instance));
                    swept = true;
                }
            }
        }
        let id = tables.attempts.len() as i64 + 1;
        let now = now();
        tables.attempts.push(Row {
            attempt: Attempt {
                id,
                idempotency_key: request.idempotency_key.clone(),
                connector: connector.to_owned(),
                order_id: request.order_id.clone(),
                method: request.method.kind().to_string(),
                card: request.method.card().map(|c| c.masked_number()),
                amount: request.amount.amount.clone(),
                currency: request.amount.currency.clone(),
                state: AttemptState::InFlight,
                outcome: None,
                created_at: now,
                updated_at: now,
                resolution: None,
                resolved_by: None,
                instance: Some(self.instance.clone()),
                late_outcome: None,
                resolved_at: None,
                supplier_outcome: None,
            },
            fingerprint: fingerprint.to_owned(),
            lapsed: false,
        });
        Ok(Some(Begin::New(id)))
    }

    fn finish_now(&self, id: i64, outcome: &PaymentOutcome) -> Result<Finished, JournalError> {
        let json = serde_json::to_string(outcome).unwrap_or_default();
        let mut tables = self.memory.0.lock();
        let row = tables.row(id)?;
        let a = &mut row.attempt;
        if a.state == AttemptState::InFlight && a.instance.as_deref() == Some(&self.instance) {
            a.state = outcome.state.into();
            a.outcome = Some(outcome.clone());
            a.updated_at = now();
            return Ok(Finished::Recorded);
        }
        let stored = a
            .outcome
            .as_ref()
            .map(|o| serde_json::to_string(o).unwrap_or_default());
        if rules::finished_already(stored.as_deref(), &json) {
            return Ok(Finished::Recorded);
        }
        if a.late_outcome.is_none() {
            a.late_outcome = Some(outcome.clone());
        }
        rules::warn_late(id, outcome, a.state);
        Ok(Finished::Late { state: a.state })
    }

    fn resolve_now(&self, id: i64, settlement: Settlement) -> Result<Attempt, JournalError> {
        let mut tables = self.memory.0.lock();
        let found = tables.attempts.iter().find(|r| r.attempt.id == id);
        let state = found.map(|r| r.attempt.state);
        // A host that paused past its lease and came back may still be
        // waiting for the supplier: its answer comes first.
        let running = found.is_some_and(|r| {
            r.lapsed
                && r.attempt.late_outcome.is_none()
                && r.attempt.instance.as_deref() != Some(&self.instance)
                && r.attempt
                    .instance
                    .as_ref()
                    .and_then(|i| tables.leases.get(i))
                    .is_some_and(|until| *until > Instant::now())
        });
        rules::may_resolve(id, state, running)?;
        // A query under way (another call's claim) comes first.
        let own = settlement.asking.as_ref().and_then(|a| a.claim.as_ref());
        let held = tables.reconcile.get(&id).is_some_and(|r| {
            r.claim
                .as_ref()
                .is_some_and(|(token, until)| *until >= now() && Some(token) != own)
        });
        if held {
            return Err(JournalError::Queried { id });
        }
        if let Some(asking) = settlement.asking {
            tables.record(asking, true);
        }
        let a = &mut tables.row(id)?.attempt;
        a.state = settlement.outcome.state.into();
        if a.supplier_outcome.is_none() {
            a.supplier_outcome = a.outcome.take();
        }
        a.outcome = Some(settlement.outcome);
        a.resolved_at = Some(now());
        a.resolution = Some(settlement.note);
        a.resolved_by = Some(settlement.by);
        a.updated_at = now();
        Ok(a.clone())
    }

    fn close_now(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.renewing.lock().take();
        self.held.give_up();
        let mut tables = self.memory.0.lock();
        let me = Some(self.instance.clone());
        for row in tables
            .attempts
            .iter_mut()
            .filter(|r| r.attempt.state == AttemptState::InFlight && r.attempt.instance == me)
        {
            row.attempt.state = AttemptState::Unknown;
            row.attempt.outcome = Some(lapsed());
            row.lapsed = true;
            tracing::warn!(
                "payment attempt {} was still in flight when this host stopped: its outcome is unknown; resolve it with `payhost payments resolve {}`",
                row.attempt.id,
                row.attempt.id
            );
        }
        tables.leases.remove(&self.instance);
    }
}

impl super::store::Store for MemoryJournal {
    fn instance(&self) -> &str {
        &self.instance
    }
    fn held(&self) -> &Arc<super::fence::Lease> {
        &self.held
    }
    fn options(&self) -> JournalOptions {
        self.options
    }
    fn location(&self) -> String {
        "memory".to_owned()
    }
    fn lock_waits(&self) -> super::waits::LockWaits {
        // Memory has no lock to wait for.
        super::waits::LockWaits::default()
    }
    fn health(&self) -> JournalHealth {
        JournalHealth::writable()
    }
    fn try_begin<'a>(&'a self, asked: &'a Asked) -> super::store::Later<'a, Option<Begin>> {
        Box::pin(async move { self.try_begin_now(asked) })
    }
    fn finish<'a>(
        &'a self,
        id: i64,
        outcome: &'a PaymentOutcome,
    ) -> super::store::Later<'a, Finished> {
        Box::pin(async move { self.finish_now(id, outcome) })
    }
    fn resolve(&self, id: i64, settlement: Settlement) -> super::store::Later<'_, Attempt> {
        Box::pin(async move { self.resolve_now(id, settlement) })
    }
    fn get(&self, id: i64) -> super::store::Later<'_, Attempt> {
        Box::pin(async move { self.memory.0.lock().row(id).map(|r| r.attempt.clone()) })
    }
    fn by_key<'a>(&'a self, key: &'a str) -> super::store::Later<'a, Option<Attempt>> {
        Box::pin(async move {
            Ok(self
                .memory
                .0
                .lock()
                .attempts
                .iter()
                .find(|r| r.attempt.idempotency_key == key)
                .map(|r| r.attempt.clone()))
        })
    }
    fn find<'a>(&'a self, filter: &'a Filter) -> super::store::Later<'a, Vec<Attempt>> {
        Box::pin(async move {
            Ok(self
                .memory
                .0
                .lock()
                .attempts
                .iter()
                .rev()
                .filter(|r| filter.matches(&r.attempt))
                .take(filter.page_size())
                .map(|r| r.attempt.clone())
                .collect())
        })
    }
    fn tally(&self) -> super::store::Later<'_, super::tally::Tally> {
        Box::pin(async move {
            let tables = self.memory.0.lock();
            let connector = |id: i64| {
                tables
                    .attempts
                    .iter()
                    .find(|r| r.attempt.id == id)
                    .map(|r| (r.attempt.connector.clone(), r.attempt.state))
            };
            let queries = tables
                .queries
                .iter()
                .filter_map(|q| Some((connector(q.attempt)?.0, q.answer)));
            let stopped = tables
                .reconcile
                .iter()
                .filter(|(_, s)| s.stopped_at.is_some())
                .filter_map(|(id, _)| connector(*id))
                .filter(|(_, state)| matches!(state, AttemptState::Unknown | AttemptState::Pending))
                .map(|(c, _)| c);
            Ok(
                super::tally::Tally::of(tables.attempts.iter().map(|r| (&r.attempt, r.lapsed)))
                    .with_queries(queries, stopped),
            )
        })
    }
    fn per_minute(&self, since: i64) -> super::store::Later<'_, Vec<super::tally::Minute>> {
        Box::pin(async move {
            let tables = self.memory.0.lock();
            Ok(super::tally::per_minute_of(
                tables.attempts.iter().map(|r| &r.attempt),
                since,
            ))
        })
    }
    fn due<'a>(&'a self, search: &'a DueSearch) -> super::store::Later<'a, Vec<Attempt>> {
        Box::pin(async move {
            let tables = self.memory.0.lock();
            Ok(tables
                .attempts
                .iter()
                .filter(|r| {
                    let a = &r.attempt;
                    a.connector == search.connector
                        && matches!(a.state, AttemptState::Unknown | AttemptState::Pending)
                        && match tables.reconcile.get(&a.id) {
                            None => a.updated_at <= search.first_before,
                            Some(s) => {
                                s.stopped_at.is_none()
                                    && s.next_at.unwrap_or(a.updated_at) <= search.now
                                    && s.claim.as_ref().is_none_or(|(_, t)| *t < search.now)
                            }
                        }
                })
                .take(search.limit)
                .map(|r| r.attempt.clone())
                .collect())
        })
    }
    fn claim<'a>(
        &'a self,
        id: i64,
        token: &'a str,
        until: i64,
        scheduled: bool,
    ) -> super::store::Later<'a, bool> {
        Box::pin(async move {
            let mut tables = self.memory.0.lock();
            let now = now();
            let row = tables.reconcile.entry(id).or_default();
            let free = row.claim.as_ref().is_none_or(|(_, t)| *t < now)
                && (!scheduled || (row.stopped_at.is_none() && row.next_at.unwrap_or(0) <= now));
            if free {
                row.claim = Some((token.to_owned(), until));
            }
            Ok(free)
        })
    }
    fn note_query(&self, asking: Asking) -> super::store::Later<'_, ()> {
        Box::pin(async move {
            self.memory.0.lock().record(asking, false);
            Ok(())
        })
    }
    fn queries(&self, attempt: i64) -> super::store::Later<'_, Vec<QueryRecord>> {
        Box::pin(async move {
            Ok(self
                .memory
                .0
                .lock()
                .queries
                .iter()
                .filter(|q| q.attempt == attempt)
                .cloned()
                .collect())
        })
    }
    fn publish(&self, upload: Upload) -> super::store::Later<'_, i64> {
        let Upload {
            file,
            sha256,
            bytes,
        } = upload;
        Box::pin(async move {
            let mut tables = self.memory.0.lock();
            let seq = tables.published.len() as i64 + 1;
            tables.published.push(Published {
                seq,
                file: file.to_owned(),
                sha256: sha256.to_owned(),
                bytes,
            });
            Ok(seq)
        })
    }
    fn published_after(&self, seq: i64) -> super::store::Later<'_, Vec<Published>> {
        Box::pin(async move {
            Ok(self
                .memory
                .0
                .lock()
                .published
                .iter()
                .filter(|p| p.seq > seq)
                .take(8)
                .cloned()
                .collect())
        })
    }
    fn refuse_new(&self) {
        self.closed.store(true, Ordering::SeqCst);
    }
    fn close(&self) -> super::store::Later<'_, ()> {
        Box::pin(async move {
            self.close_now();
            Ok(())
        })
    }
}
