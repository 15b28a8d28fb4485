//! One query about one attempt, by the reconciler or by a person: the
//! attempt claimed so that no other host asks at the same time, the
//! supplier asked through the connector under the same limits as a
//! payment, and the answer recorded in the journal with what it decided.

use super::verdict::{Verdict, verdict};
use crate::host::Host;
use crate::payments::attempt::{Attempt, AttemptState};
use crate::payments::journal::{Journal, JournalError, NextQuery, QueryRecord};
use crate::payments::model::{ConnectorError, ErrorKind};
use crate::policy::settings::Schedule;
use std::time::Duration;

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
    /// Another host is asking about it now.
    #[error(
        "attempt {0} is being queried by another host right now; look at its history in a moment"
    )]
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

/// Asks the supplier about attempt `id` on behalf of `by` and records the
/// answer. With `schedule` (the reconciler), the next query is set by it
/// and an attempt past its horizon is left to a person instead; without
/// (a person asking), the schedule stays as it was.
pub async fn ask(
    host: &Host,
    journal: &Journal,
    id: i64,
    by: &str,
    schedule: Option<&Schedule>,
) -> Result<Asked, AskError> {
    let attempt = journal.get(id).await?;
    if !matches!(attempt.state, AttemptState::Unknown | AttemptState::Pending) {
        return Err(JournalError::NotUnknown {
            id,
            state: attempt.state,
        }
        .into());
    }
    if !journal.claim(id, hold(host, &attempt.connector)).await? {
        return Err(AskError::Held(id));
    }
    // Looked at again under the claim: a person may have settled it.
    let attempt = journal.get(id).await?;
    let seen = attempt.state;
    if !matches!(seen, AttemptState::Unknown | AttemptState::Pending) {
        // The claim lapses on its own; nothing asks about a settled attempt.
        return Err(JournalError::NotUnknown { id, state: seen }.into());
    }
    let now = crate::payments::journal::now();
    if let Some(schedule) = schedule {
        let horizon = i64::try_from(schedule.horizon.as_secs()).unwrap_or(i64::MAX / 2);
        if now > attempt.created_at.saturating_add(horizon) {
            let why = format!(
                "no definite answer within the horizon ({}): left to a person",
                humantime::format_duration(schedule.horizon)
            );
            let record = QueryRecord::stopped(id, now, by, &why);
            journal.note_query(record.clone(), NextQuery::Stop).await?;
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
    }
    let answer = match host.query(&attempt.connector, &attempt.order_id).await {
        Ok(answer) => answer,
        // Busy, or the connector is gone: no supplier was asked.
        Err(e) => Err(ConnectorError::host(ErrorKind::Denied, e.to_string())),
    };
    let record = QueryRecord::new(id, crate::payments::journal::now(), by, &answer);
    let asked_before = journal.queries(id).await.map_or(0, |q| q.len());
    let next = match schedule {
        Some(s) => {
            let wait = s.wait_after(u32::try_from(asked_before).unwrap_or(u32::MAX));
            NextQuery::At(now.saturating_add(i64::try_from(wait.as_secs()).unwrap_or(0).max(1)))
        }
        None => NextQuery::Keep,
    };
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
                    | JournalError::Postgres { .. }),
                ) => Some(e.to_string()),
                Err(e) => return Err(e.into()),
            }
        }
        Verdict::Undecided(why) => Some(why),
    };
    journal.note_query(record.clone(), next).await?;
    Ok(Asked {
        attempt: journal.get(id).await?,
        record,
        undecided,
    })
}
