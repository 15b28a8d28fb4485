//! One query about one attempt, by the reconciler or by a person: the
//! attempt claimed so that nobody else asks at the same time (another
//! host, or another call of this one), the supplier asked through the
//! connector under the same limits as a payment, and the answer recorded
//! in the journal with what it decided.

use super::verdict::{Verdict, verdict};
use crate::host::Host;
use crate::payments::attempt::{Attempt, AttemptState};
use crate::payments::journal::{Journal, JournalError, NextQuery, QueryRecord};
use crate::payments::model::{ConnectorError, ErrorKind, PaymentState};
use crate::policy::settings::Schedule;
use std::time::Duration;

/// Who asks.
#[derive(Debug, Clone, Copy)]
pub enum Asker<'a> {
    /// The reconciler, on `schedule`: an attempt past its horizon is left
    /// to a person instead of asked about.
    Reconciler(&'a Schedule),
    /// A person, off the schedule: the reconciler's next query is put off
    /// by the connector's schedule as after any other.
    Person,
}

/// What one query did.
#[derive(Debug, Clone)]
pub struct Asked {
    /// The attempt afterwards.
    pub attempt: Attempt,
    /// The query's record.
    pub record: QueryRecord,
    /// Why it stays as it was, when the answer settled nothing.
    pub undecided: Option<String>,
}

/// Why an attempt was not asked about.
#[derive(Debug, thiserror::Error)]
pub enum AskError {
    /// Another host, or another call, is asking about it now, or (for the
    /// reconciler) it is no longer due.
    #[error("attempt {0} is being queried right now; look at its history in a moment")]
    Held(i64),
    /// The journal refused or failed (the attempt is settled already, or
    /// missing).
    #[error(transparent)]
    Journal(#[from] JournalError),
}

/// How long a claim holds: a query's whole time, and some.
fn hold(host: &Host, connector: &str) -> Duration {
    host.settings().limits_for(connector).timeout * 2 + Duration::from_secs(30)
}

/// Seconds, for the journal's Unix times.
fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2)
}

/// Asks the supplier about attempt `id` on behalf of `by` and records the
/// answer with when to ask next.
pub async fn ask(
    host: &Host,
    journal: &Journal,
    id: i64,
    by: &str,
    asker: Asker<'_>,
) -> Result<Asked, AskError> {
    let attempt = journal.get(id).await?;
    if !matches!(attempt.state, AttemptState::Unknown | AttemptState::Pending) {
        return Err(JournalError::NotUnknown {
            id,
            state: attempt.state,
        }
        .into());
    }
    let scheduled = matches!(asker, Asker::Reconciler(_));
    let Some(claim) = journal
        .claim(id, hold(host, &attempt.connector), scheduled)
        .await?
    else {
        return Err(AskError::Held(id));
    };
    // Looked at again under the claim: a person may have settled it.
    let attempt = journal.get(id).await?;
    let seen = attempt.state;
    if !matches!(seen, AttemptState::Unknown | AttemptState::Pending) {
        // The claim lapses on its own; nothing asks about a settled attempt.
        return Err(JournalError::NotUnknown { id, state: seen }.into());
    }
    let now = crate::payments::journal::now();
    if let Asker::Reconciler(schedule) = asker
        && now > attempt.created_at.saturating_add(secs(schedule.horizon))
    {
        let why = format!(
            "no definite answer within the horizon ({}): left to a person",
            humantime::format_duration(schedule.horizon)
        );
        let record = QueryRecord::stopped(id, now, by, &why);
        journal
            .note_query(record.clone(), NextQuery::Stop, Some(claim))
            .await?;
        tracing::warn!(
            attempt = id,
            connector = %attempt.connector,
            "the reconciler stopped asking about attempt {id}: {why}; settle it with `payhost payments resolve {id}`"
        );
        return Ok(Asked {
            attempt: journal.get(id).await?,
            record,
            undecided: Some(why),
        });
    }
    let answer = match host.query(&attempt.connector, &attempt.order_id).await {
        Ok(answer) => answer,
        // Busy, or the connector is gone: no supplier was asked.
        Err(e) => Err(ConnectorError::host(ErrorKind::Denied, e.to_string())),
    };
    let record = QueryRecord::new(id, crate::payments::journal::now(), by, &answer);
    let asked_before = journal.queries(id).await.map_or(0, |q| q.len());
    let schedule = match asker {
        Asker::Reconciler(schedule) => *schedule,
        Asker::Person => host.settings().schedule_for(&attempt.connector),
    };
    let wait = schedule.wait_after(u32::try_from(asked_before).unwrap_or(u32::MAX));
    let next = NextQuery::At(now.saturating_add(secs(wait).max(1)));
    let undecided = match verdict(seen, &answer) {
        Verdict::Settle { outcome, note } => {
            let settled = journal
                .settle_by_query(
                    QueryRecord {
                        settled: true,
                        ..record.clone()
                    },
                    &outcome,
                    &note,
                    next,
                    Some(claim.clone()),
                )
                .await;
            match settled {
                Ok(attempt) => {
                    tracing::info!(
                        attempt = id,
                        connector = %attempt.connector,
                        order = %attempt.order_id,
                        state = %attempt.state,
                        by,
                        "settled by a query"
                    );
                    return Ok(Asked {
                        attempt,
                        record: QueryRecord {
                            settled: true,
                            ..record
                        },
                        undecided: None,
                    });
                }
                // Settled by somebody else meanwhile, or its host came
                // back: the answer is kept, the attempt is not moved.
                Err(
                    e @ (JournalError::NotUnknown { .. }
                    | JournalError::StillRunning { .. }
                    | JournalError::Queried { .. }),
                ) => {
                    contradicts(journal, id, &outcome.state).await;
                    Some(e.to_string())
                }
                Err(e) => {
                    // The answer is still worth keeping, if the journal takes it.
                    let _ = journal.note_query(record, next, Some(claim)).await;
                    return Err(e.into());
                }
            }
        }
        Verdict::Undecided(why) => Some(why),
    };
    journal
        .note_query(record.clone(), next, Some(claim))
        .await?;
    Ok(Asked {
        attempt: journal.get(id).await?,
        record,
        undecided,
    })
}

/// Says loudly when a supplier's answer that money moved comes for an
/// attempt settled `failed` meanwhile: the order may be paid, and a failed
/// order may be paid again.
async fn contradicts(journal: &Journal, id: i64, said: &PaymentState) {
    if !matches!(said, PaymentState::Succeeded | PaymentState::Pending) {
        return;
    }
    if let Ok(now) = journal.get(id).await
        && now.state == AttemptState::Failed
    {
        tracing::error!(
            attempt = id,
            connector = %now.connector,
            order = %now.order_id,
            "the supplier answered {said} for attempt {id}, which {} settled failed meanwhile: the order may be paid; check it with its supplier before paying it again (the answer is in `payhost payments show {id}`)",
            now.resolved_by.as_deref().unwrap_or("someone"),
        );
    }
}
