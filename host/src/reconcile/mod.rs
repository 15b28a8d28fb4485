//! The reconciler: `payhost serve` asks suppliers about every payment whose
//! outcome is not final (`unknown`, `pending`) through connectors that can
//! `query`, on each connector's schedule (a first wait, doubling up to a
//! most, until a horizon after which the attempt is left to a person). It
//! records each query and its answer in the journal, and settles an
//! attempt only on a definite answer: `failed` only when the supplier says
//! no money moved. Hosts sharing a journal share the work: each attempt is
//! claimed by one host for the length of its query.

mod ask;
mod verdict;

pub use ask::{AskError, Asked, Asker, ask};
pub use verdict::{Verdict, verdict};

use crate::host::Host;
use crate::policy::settings::Schedule;
use std::sync::Arc;
use std::time::Duration;

/// The most attempts of one connector asked about in one round.
const PER_ROUND: usize = 32;

/// Who the reconciler of the host with journal instance `instance` is, as
/// the journal records it.
pub fn reconciler_name(instance: &str) -> String {
    format!("reconciler@{}", instance.get(..8).unwrap_or(instance))
}

/// Runs the reconciler until `stop` turns `true`: a round every
/// `[reconcile] every`.
pub async fn run(host: Arc<Host>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let Some(journal) = host.journal() else {
        return;
    };
    let by = reconciler_name(journal.instance());
    let every = host.settings().reconcile.every.max(MIN_EVERY);
    let mut trouble = Trouble::default();
    loop {
        round(&host, &by, &mut trouble).await;
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|stopping| *stopping) => return,
        }
        if *stop.borrow() {
            return;
        }
    }
}

/// What went wrong in the last round, so that a repeated error is logged
/// once, when it starts, and its end once too.
#[derive(Default)]
struct Trouble {
    journal: Option<String>,
}

impl Trouble {
    /// Notes the journal's answer to a round's read.
    fn journal(&mut self, error: Option<String>) {
        match (&self.journal, &error) {
            (None, Some(e)) => tracing::warn!(
                "the reconciler cannot read the journal: {e}; it tries again every round"
            ),
            (Some(_), None) => tracing::info!("the reconciler reads the journal again"),
            (Some(before), Some(e)) if before != e => {
                tracing::warn!("the reconciler cannot read the journal: {e}")
            }
            _ => {}
        }
        self.journal = error;
    }
}

/// One round: every live connector that can query, its attempts due; the
/// connectors side by side, so that a slow supplier holds up only its own.
async fn round(host: &Arc<Host>, by: &str, trouble: &mut Trouble) {
    let mut rounds = tokio::task::JoinSet::new();
    for connector in host.connectors() {
        let schedule = host.settings().schedule_for(connector.name());
        if !connector.can_query || !connector.grant.configured || !schedule.enabled {
            continue;
        }
        let (host, by) = (host.clone(), by.to_owned());
        rounds.spawn(async move { connector_round(&host, connector.name(), &schedule, &by).await });
    }
    while let Some(done) = rounds.join_next().await {
        trouble.journal(done.ok().flatten());
    }
}

/// One connector's attempts due, asked about one after another; the
/// journal's error, if it could not be read.
async fn connector_round(host: &Host, name: &str, schedule: &Schedule, by: &str) -> Option<String> {
    let journal = host.journal()?;
    let first_before = crate::payments::journal::now()
        .saturating_sub(i64::try_from(schedule.first.as_secs()).unwrap_or(i64::MAX / 2));
    let due = match journal.due(name, first_before, PER_ROUND).await {
        Ok(due) => due,
        Err(e) => return Some(e.to_string()),
    };
    for attempt in due {
        let id = attempt.id;
        match ask(host, journal, id, by, Asker::Reconciler(schedule)).await {
            Ok(asked) => tracing::debug!(
                attempt = id,
                answer = %asked.record.answer,
                undecided = asked.undecided.as_deref().unwrap_or(""),
                "reconciler asked"
            ),
            Err(AskError::Held(_)) => {}
            Err(e) => tracing::warn!(attempt = id, "the reconciler could not ask: {e}"),
        }
    }
    None
}

/// How long the reconciler sleeps between rounds at least (a test's
/// `every` may be short; the journal is not polled faster than this).
pub const MIN_EVERY: Duration = Duration::from_millis(100);
