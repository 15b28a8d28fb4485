//! Making one payment: the request validated, the method checked against
//! the connector's, the attempt journaled before the connector runs and
//! updated after, and a key seen before answered with its stored outcome.

use super::error::PayError;
use crate::payments::journal::{Begin, Finished, Journal, JournalError, abandoned, unsent};
use crate::payments::model::{
    ConnectorError, ErrorKind, PaymentOutcome, PaymentRequest, PaymentState,
};
use crate::policy::limits::BUSY_WAIT;
use crate::registry::{Connector, Registry};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::Notify;

/// A payment as the journal saw it.
#[derive(Debug, Clone)]
pub struct Executed {
    /// The journal's attempt id (`None` without a journal).
    pub id: Option<i64>,
    /// Whether the outcome is an earlier attempt's, replayed for its key.
    pub replayed: bool,
    /// The outcome.
    pub outcome: PaymentOutcome,
}

/// Executes payments through a registry's connectors, journaling each
/// attempt when it has a journal.
pub struct Executor {
    journal: Option<Arc<Journal>>,
    /// Started with the first payment, again should its runtime have
    /// ended it: settles this process's orphans in the journal every
    /// third of a lease (see [`Journal::settle_orphans`]); stopped when
    /// the executor is dropped.
    sweeping: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    in_flight: Arc<InFlight>,
    /// Set when the host stops waiting for payments to end (its shutdown
    /// grace is over): every caller still waiting is answered.
    stopping: tokio::sync::watch::Sender<bool>,
}

/// Where an attempt's id is told as soon as it is written, so that a
/// caller who cannot wait for the outcome can be given the id to look it
/// up by.
pub type Begun = tokio::sync::watch::Sender<Option<i64>>;

/// Payments (and journal writes after them) not yet ended.
#[derive(Default)]
struct InFlight {
    count: AtomicUsize,
    idle: Notify,
}

/// One payment counted in flight until dropped.
struct Counted(Arc<InFlight>);

impl Counted {
    fn new(in_flight: &Arc<InFlight>) -> Counted {
        in_flight.count.fetch_add(1, Ordering::SeqCst);
        Counted(in_flight.clone())
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

/// The outcome an earlier attempt under the same key gave (or, still in
/// flight, says so).
fn replayed(attempt: crate::payments::attempt::Attempt) -> Executed {
    let outcome = attempt.outcome.unwrap_or_else(|| {
        PaymentOutcome::host(
            PaymentState::Unknown,
            ConnectorError::host(
                ErrorKind::InProgress,
                format!("attempt {} with this key is still in flight", attempt.id),
            ),
        )
    });
    Executed {
        id: Some(attempt.id),
        replayed: true,
        outcome,
    }
}

/// An attempt begun and not yet finished; dropped armed (its future was
/// dropped, or a panic unwound it), it writes the attempt `unknown`,
/// trying again while the journal cannot take the write (a lock held
/// past the wait, a full disk), counted in flight until it is written.
struct Unfinished {
    journal: Option<Arc<Journal>>,
    id: i64,
    in_flight: Arc<InFlight>,
}

impl Drop for Unfinished {
    fn drop(&mut self) {
        let (Some(journal), Ok(runtime)) =
            (self.journal.take(), tokio::runtime::Handle::try_current())
        else {
            return;
        };
        let id = self.id;
        tracing::error!(
            "payment attempt {id} was abandoned before its outcome was written: it is unknown"
        );
        record_later(&runtime, journal, &self.in_flight, id, abandoned());
    }
}

/// Writes attempt `id`'s outcome in a task of its own on `runtime`, trying
/// again for as long as the journal cannot take it (see [`record`]),
/// counted in flight until it is written.
fn record_later(
    runtime: &tokio::runtime::Handle,
    journal: Arc<Journal>,
    in_flight: &Arc<InFlight>,
    id: i64,
    outcome: PaymentOutcome,
) {
    let counted = Counted::new(in_flight);
    runtime.spawn(async move {
        let _counted = counted;
        if let Err(e) = record(&journal, id, &outcome, None).await {
            tracing::error!(
                "payment attempt {id} cannot be recorded: {e}; it becomes unknown (when this journal closes or this host's lease lapses)"
            );
        }
    });
}

/// Settles the journal's orphans of this process every third of a lease,
/// for as long as the journal is in use, on `runtime`.
fn sweep_orphans(
    runtime: &tokio::runtime::Handle,
    journal: std::sync::Weak<Journal>,
) -> tokio::task::JoinHandle<()> {
    runtime.spawn(async move {
        loop {
            let Some(every) = journal.upgrade().map(|j| j.options().lease / 3) else {
                return;
            };
            tokio::time::sleep(every).await;
            let Some(journal) = journal.upgrade().filter(|j| !j.is_closed()) else {
                return;
            };
            if let Err(e) = journal.settle_orphans().await {
                tracing::debug!("looking for attempts begun without an answer: {e}");
            }
        }
    })
}

/// Writes an attempt's outcome, trying again while the journal cannot take
/// it (a lock held past the wait, a database away): until `until`, for a
/// caller still waiting (as long as the attempt's lease can keep it in
/// flight: past that, another host may mark it `unknown`, and the outcome
/// becomes a late one), or for as long as it takes once the caller has
/// been told it is not recorded. What was recorded is what the caller is
/// told.
async fn record(
    journal: &Journal,
    id: i64,
    outcome: &PaymentOutcome,
    until: Option<tokio::time::Instant>,
) -> Result<Finished, JournalError> {
    let mut pause = Duration::from_millis(100);
    let mut told = false;
    loop {
        match journal.finish(id, outcome).await {
            Ok(finished) => {
                if told {
                    tracing::info!("payment attempt {id} recorded {} after all", outcome.state);
                }
                return Ok(finished);
            }
            // A stopping host's writer is gone, a moved journal takes no
            // write: no retry will reach them.
            Err(e @ (JournalError::Closed | JournalError::Moved { .. })) => return Err(e),
            Err(e) if until.is_none_or(|until| tokio::time::Instant::now() + pause < until) => {
                if !told && until.is_some() {
                    tracing::warn!(
                        "payment attempt {id} ended {} at the supplier; the journal could not record it yet ({e}); trying again",
                        outcome.state
                    );
                }
                told = true;
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
            }
            Err(e) => return Err(e),
        }
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        if let Some(task) = self
            .sweeping
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
        {
            task.abort();
        }
    }
}

impl Default for Executor {
    fn default() -> Self {
        Executor::new(None)
    }
}

impl Executor {
    /// An executor that journals in `journal`, if any.
    pub fn new(journal: Option<Journal>) -> Executor {
        Executor {
            journal: journal.map(Arc::new),
            sweeping: std::sync::Mutex::default(),
            in_flight: Arc::default(),
            stopping: tokio::sync::watch::Sender::new(false),
        }
    }

    /// Starts the orphan sweep on the current runtime unless it runs.
    fn sweep(&self, journal: &Arc<Journal>) {
        let mut sweeping = self
            .sweeping
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if sweeping.as_ref().is_some_and(|task| !task.is_finished()) {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            *sweeping = Some(sweep_orphans(&runtime, Arc::downgrade(journal)));
        }
    }

    /// Stops waiting for payments: the journal takes no new attempt, and
    /// every caller still waiting for an outcome is told (see
    /// [`Executor::stopping`]). Payments under way run on.
    pub fn answer_waiting(&self) {
        if let Some(journal) = &self.journal {
            journal.refuse_new();
        }
        self.stopping.send_replace(true);
    }

    /// Becomes `true` once [`Executor::answer_waiting`] was called.
    pub fn stopping(&self) -> tokio::sync::watch::Receiver<bool> {
        self.stopping.subscribe()
    }

    /// The journal, if payments are journaled.
    pub fn journal(&self) -> Option<&Journal> {
        self.journal.as_deref()
    }

    /// Payments under way, and journal writes after them still retried.
    pub fn in_flight(&self) -> usize {
        self.in_flight.count.load(Ordering::SeqCst)
    }

    /// Waits until no payment is under way, at most `grace`; whether none is.
    pub async fn wait_idle(&self, grace: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + grace;
        loop {
            let idle = self.in_flight.idle.notified();
            if self.in_flight() == 0 {
                return true;
            }
            if tokio::time::timeout_at(deadline, idle).await.is_err() {
                return self.in_flight() == 0;
            }
        }
    }

    /// Validates, journals and makes one payment: with a journal, the attempt
    /// is written before the connector runs and updated after, and a key
    /// seen before replays its outcome.
    pub async fn execute(
        &self,
        registry: &Registry,
        connector: &str,
        request: PaymentRequest,
    ) -> Result<Executed, PayError> {
        self.execute_noting(registry, connector, request, None)
            .await
    }

    /// [`Executor::execute`], telling `begun` the attempt's id once it is
    /// written.
    pub async fn execute_noting(
        &self,
        registry: &Registry,
        connector: &str,
        mut request: PaymentRequest,
        begun: Option<&Begun>,
    ) -> Result<Executed, PayError> {
        let connector = registry.connector(connector)?;
        request.validate()?;
        let kind = request.method.kind();
        if !connector.info.methods.contains(&kind) {
            return Err(PayError::MethodNotSupported {
                name: connector.name().to_owned(),
                method: kind.to_string(),
                supported: connector
                    .info
                    .methods
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        let _counted = Counted::new(&self.in_flight);
        if let Some(journal) = &self.journal {
            self.sweep(journal);
        }
        let wait = connector.limits.timeout + Duration::from_secs(5);
        // A key seen before is answered from the journal, without taking a
        // place or an instance: retries with their key cost nothing.
        if let Some(journal) = &self.journal
            && journal.by_key(&request.idempotency_key).await?.is_some()
        {
            return match journal.begin(connector.name(), &request, wait).await? {
                Begin::Replay(attempt) => Ok(replayed(*attempt)),
                // Never for a key already in the journal; should it come,
                // nothing is sent for it, and it is not left in flight.
                Begin::New(id) => {
                    let runtime = tokio::runtime::Handle::current();
                    record_later(&runtime, journal.clone(), &self.in_flight, id, unsent());
                    Err(PayError::Journal(JournalError::NotFound(id)))
                }
            };
        }
        let _reserved = reserve(registry, &connector).await?;
        let Some(journal) = &self.journal else {
            let started = std::time::Instant::now();
            let outcome = connector.pay(registry.runtime(), &request).await;
            log_payment(
                None,
                connector.name(),
                &request,
                &outcome,
                started.elapsed(),
            );
            return Ok(Executed {
                id: None,
                replayed: false,
                outcome,
            });
        };
        // Taken before the attempt is begun: a lapse of this host's lease
        // noticed at any time after shuts it (see `Fence`).
        let fence = journal.fence();
        match journal.begin(connector.name(), &request, wait).await? {
            Begin::Replay(attempt) => Ok(replayed(*attempt)),
            Begin::New(id) => {
                if let Some(begun) = begun {
                    begun.send_replace(Some(id));
                }
                // Should this future be dropped or panic before the outcome
                // is written, the attempt becomes unknown, not in flight
                // for as long as this host runs.
                let mut unfinished = Unfinished {
                    journal: Some(journal.clone()),
                    id,
                    in_flight: self.in_flight.clone(),
                };
                let started = std::time::Instant::now();
                let outcome = connector
                    .pay_within(registry.runtime(), &request, Some(fence))
                    .await;
                unfinished.journal = None;
                log_payment(
                    Some(id),
                    connector.name(),
                    &request,
                    &outcome,
                    started.elapsed(),
                );
                let lease = tokio::time::Instant::now() + journal.options().lease;
                let finished = record(journal, id, &outcome, Some(lease)).await;
                if let Ok(Finished::Late { state }) = finished {
                    return Err(PayError::Superseded {
                        id,
                        state,
                        late: outcome.state,
                    });
                }
                if let Err(error) = finished {
                    // Never answered as a plain outcome: the client is told
                    // it is not recorded, and the write is retried until it
                    // is (or the lease lapses and the attempt is unknown).
                    tracing::error!(
                        "payment attempt {id} ended {} at the supplier and the journal could not record it within its lease ({error}); the host keeps trying",
                        outcome.state
                    );
                    let state = outcome.state;
                    let runtime = tokio::runtime::Handle::current();
                    record_later(&runtime, journal.clone(), &self.in_flight, id, outcome);
                    return Err(PayError::Unrecorded { id, state, error });
                }
                Ok(Executed {
                    id: Some(id),
                    replayed: false,
                    outcome,
                })
            }
        }
    }
}

/// What one call into a connector holds while it runs: one of the
/// connector's places, then one of the host's instances.
pub(crate) type Reserved = (
    tokio::sync::OwnedSemaphorePermit,
    tokio::sync::OwnedSemaphorePermit,
);

/// Takes a place first, so that a busy connector is refused before
/// anything is journaled or sent; then an instance, so that the pool
/// running out is a clear refusal, not the connector's fault.
pub(crate) async fn reserve(
    registry: &Registry,
    connector: &Connector,
) -> Result<Reserved, PayError> {
    let Some(place) = connector.place(BUSY_WAIT).await else {
        return Err(PayError::Busy {
            name: connector.name().to_owned(),
            limit: connector.limits.max_concurrent,
            wait: BUSY_WAIT,
        });
    };
    let Some(slot) = registry.runtime().slot(BUSY_WAIT).await else {
        return Err(PayError::HostBusy {
            limit: registry.runtime().max_instances(),
            wait: BUSY_WAIT,
        });
    };
    Ok((place, slot))
}

/// The one line a payment leaves at info level: which attempt, order and
/// connector, how it ended, the supplier's code, and how long the call
/// took; inside a request's span, its id too.
fn log_payment(
    id: Option<i64>,
    connector: &str,
    request: &PaymentRequest,
    outcome: &PaymentOutcome,
    took: Duration,
) {
    tracing::info!(
        attempt = id,
        connector,
        order = %request.order_id,
        state = %outcome.state,
        kind = outcome.kind().map(|k| k.as_str()),
        supplier_code = outcome.supplier_code.as_deref(),
        ms = took.as_millis() as u64,
        "payment"
    );
}
