//! The reconciler's record in the journal: every question put to a
//! supplier about an attempt whose outcome is not final (`unknown`,
//! `pending`), its answer, who asked, and when the attempt is asked about
//! next. One host asks about one attempt at a time: it *claims* the
//! attempt for as long as a query may take, and the claim is released
//! when the answer is recorded (or lapses when that host dies).

use crate::payments::model::{ConnectorError, PaymentOutcome, PaymentState};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What a query brought back, as the journal keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Answer {
    /// The supplier says the payment went through.
    Succeeded,
    /// The supplier says it is accepted and settles later.
    Pending,
    /// The supplier says it did not go through.
    Failed,
    /// The supplier does not know yet.
    Unknown,
    /// No answer: the connector or the supplier failed (its error is kept).
    Error,
    /// Not a query: the horizon passed, so the reconciler stopped asking
    /// and left the attempt to a person.
    Stopped,
}

impl Answer {
    /// Every answer.
    pub const ALL: [Answer; 6] = [
        Answer::Succeeded,
        Answer::Pending,
        Answer::Failed,
        Answer::Unknown,
        Answer::Error,
        Answer::Stopped,
    ];

    /// The answer's name, as stored and shown (`succeeded`).
    pub fn as_str(self) -> &'static str {
        match self {
            Answer::Succeeded => "succeeded",
            Answer::Pending => "pending",
            Answer::Failed => "failed",
            Answer::Unknown => "unknown",
            Answer::Error => "error",
            Answer::Stopped => "stopped",
        }
    }

    /// The answer named `text` (as stored).
    pub(crate) fn named(text: &str) -> Answer {
        Answer::ALL
            .into_iter()
            .find(|a| a.as_str() == text)
            .unwrap_or(Answer::Error)
    }

    /// The answer a connector's `query` gave.
    pub fn of(answer: &Result<PaymentOutcome, ConnectorError>) -> Answer {
        match answer {
            Ok(o) => match o.state {
                PaymentState::Succeeded => Answer::Succeeded,
                PaymentState::Pending => Answer::Pending,
                PaymentState::Failed => Answer::Failed,
                PaymentState::Unknown => Answer::Unknown,
            },
            Err(_) => Answer::Error,
        }
    }
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One query about an attempt and its answer, as the journal keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryRecord {
    /// The attempt asked about.
    pub attempt: i64,
    /// When (Unix seconds).
    pub at: i64,
    /// Who asked: `reconciler@INSTANCE`, `api:TOKEN` or `cli:USER`.
    pub by: String,
    /// What came back.
    pub answer: Answer,
    /// The supplier's answer, when there was one (card data masked,
    /// hidden values scrubbed, as every outcome).
    pub outcome: Option<PaymentOutcome>,
    /// Why there was none, for [`Answer::Error`].
    pub error: Option<ConnectorError>,
    /// Whether this answer settled the attempt.
    pub settled: bool,
}

impl QueryRecord {
    /// The record of `answer`, asked by `by` about `attempt` at `at` (Unix
    /// seconds).
    pub fn new(
        attempt: i64,
        at: i64,
        by: &str,
        answer: &Result<PaymentOutcome, ConnectorError>,
    ) -> QueryRecord {
        let (outcome, error) = match answer {
            Ok(o) => (Some(o.clone()), None),
            Err(e) => (None, Some(e.clone())),
        };
        QueryRecord {
            attempt,
            at,
            by: by.to_owned(),
            answer: Answer::of(answer),
            outcome,
            error,
            settled: false,
        }
    }

    /// The record that the reconciler stopped asking about `attempt` at
    /// `at`.
    pub fn stopped(attempt: i64, at: i64, by: &str, why: &str) -> QueryRecord {
        QueryRecord {
            attempt,
            at,
            by: by.to_owned(),
            answer: Answer::Stopped,
            outcome: None,
            error: Some(ConnectorError::host(
                crate::payments::model::ErrorKind::Timeout,
                why,
            )),
            settled: false,
        }
    }
}

/// When the attempt is asked about next, as a query's record sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextQuery {
    /// At this time (Unix seconds).
    At(i64),
    /// Never again by the reconciler: the attempt is left to a person.
    Stop,
    /// As it was (a person asked, off the schedule).
    Keep,
}

/// A query and what it sets next, recorded together.
#[derive(Debug, Clone)]
pub(crate) struct Asking {
    /// The query.
    pub record: QueryRecord,
    /// When to ask next.
    pub next: NextQuery,
    /// The claim it was asked under, released with the record (another
    /// call's claim is left as it is).
    pub claim: Option<String>,
}

impl Asking {
    /// Whether this record counts as a query (a stop does not).
    pub(crate) fn counts(&self) -> i64 {
        i64::from(self.record.answer != Answer::Stopped)
    }

    /// `(next_at, stopped_at, keep)` for the schedule's row.
    pub(crate) fn schedule(&self) -> (Option<i64>, Option<i64>, bool) {
        match self.next {
            NextQuery::At(t) => (Some(t), None, false),
            NextQuery::Stop => (None, Some(self.record.at), false),
            NextQuery::Keep => (None, None, true),
        }
    }

    /// The outcome and error as stored (JSON).
    pub(crate) fn json(&self) -> (Option<String>, Option<String>) {
        let r = &self.record;
        (
            r.outcome
                .as_ref()
                .and_then(|o| serde_json::to_string(o).ok()),
            r.error.as_ref().and_then(|e| serde_json::to_string(e).ok()),
        )
    }
}

/// What the reconciler looks for, one connector at a time.
#[derive(Debug, Clone)]
pub(crate) struct DueSearch {
    /// The connector.
    pub connector: String,
    /// An attempt never asked about is due once it was last updated at or
    /// before this (Unix seconds): the schedule's first wait.
    pub first_before: i64,
    /// Now (Unix seconds): an attempt asked before is due once its next
    /// query's time has come and no other host holds it.
    pub now: i64,
    /// At most this many.
    pub limit: usize,
}

/// The due search's SQL, the same in both SQL stores but for its
/// placeholders (`p(1)` is `?1` or `$1`): `$1` the connector, `$2`
/// `first_before`, `$3` now. `columns` are the attempt's columns
/// (`id, idempotency_key, …`), read from the attempts' table.
pub(crate) fn due_sql(columns: &str, limit: usize, p: impl Fn(u8) -> String) -> String {
    let columns = columns
        .split(", ")
        .map(|c| format!("a.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT {columns} FROM attempts a LEFT JOIN reconcile r ON r.attempt_id = a.id
         WHERE a.connector = {p1} AND a.state IN ('unknown', 'pending')
           AND ((r.attempt_id IS NULL AND a.updated_at <= {p2})
             OR (r.attempt_id IS NOT NULL AND r.stopped_at IS NULL AND COALESCE(r.next_at, a.updated_at) <= {p3}
                 AND (r.claim_until IS NULL OR r.claim_until < {p3})))
         ORDER BY a.id LIMIT {limit}",
        p1 = p(1),
        p2 = p(2),
        p3 = p(3)
    )
}

/// The claim's SQL (`$1` attempt, `$2` the claim's token, `$3` until,
/// `$4` now): one row moved when the call has the attempt, which no live
/// claim holds; a `scheduled` claim (the reconciler's) also needs the
/// attempt still due and not left to a person.
pub(crate) fn claim_sql(scheduled: bool, p: impl Fn(u8) -> String) -> String {
    let due = if scheduled {
        format!(
            " AND reconcile.stopped_at IS NULL AND COALESCE(reconcile.next_at, 0) <= {}",
            p(4)
        )
    } else {
        String::new()
    };
    format!(
        "INSERT INTO reconcile (attempt_id, claimed_by, claim_until) VALUES ({p1}, {p2}, {p3})
         ON CONFLICT (attempt_id) DO UPDATE SET claimed_by = excluded.claimed_by, claim_until = excluded.claim_until
         WHERE (reconcile.claim_until IS NULL OR reconcile.claim_until < {p4}){due}",
        p1 = p(1),
        p2 = p(2),
        p3 = p(3),
        p4 = p(4)
    )
}

/// How many claims other than `$2` (a query's own; NULL for a person's
/// resolution) hold attempt `$1` at `$3` (now): a resolution waits for the
/// query under way.
pub(crate) fn held_sql(p: impl Fn(u8) -> String) -> String {
    format!(
        "SELECT COUNT(*) FROM reconcile WHERE attempt_id = {p1} AND claimed_by IS NOT NULL
         AND claimed_by <> COALESCE({p2}, '') AND claim_until >= {p3}",
        p1 = p(1),
        p2 = p(2),
        p3 = p(3)
    )
}

/// The record's SQL: the query's row (`$1` attempt, `$2` at, `$3` by,
/// `$4` answer, `$5` outcome, `$6` error, `$7` settled).
pub(crate) fn record_sql(p: impl Fn(u8) -> String) -> String {
    format!(
        "INSERT INTO queries (attempt_id, at, asked_by, answer, outcome, error, settled)
         VALUES ({}, {}, {}, {}, {}, {}, {})",
        p(1),
        p(2),
        p(3),
        p(4),
        p(5),
        p(6),
        p(7)
    )
}

/// The schedule's SQL after a record (`$1` attempt, `$2` counts (0 or 1),
/// `$3` next_at, `$4` stopped_at, `$5` keep, `$6` the record's claim):
/// that claim released, another left as it is.
pub(crate) fn schedule_sql(p: impl Fn(u8) -> String) -> String {
    format!(
        "INSERT INTO reconcile (attempt_id, queries, next_at, stopped_at) VALUES ({p1}, {p2}, {p3}, {p4})
         ON CONFLICT (attempt_id) DO UPDATE SET queries = reconcile.queries + excluded.queries,
             next_at = CASE WHEN {p5} THEN reconcile.next_at ELSE excluded.next_at END,
             stopped_at = CASE WHEN {p5} THEN reconcile.stopped_at ELSE excluded.stopped_at END,
             claimed_by = CASE WHEN reconcile.claimed_by = {p6} THEN NULL ELSE reconcile.claimed_by END,
             claim_until = CASE WHEN reconcile.claimed_by = {p6} THEN NULL ELSE reconcile.claim_until END",
        p1 = p(1),
        p2 = p(2),
        p3 = p(3),
        p4 = p(4),
        p5 = p(5),
        p6 = p(6)
    )
}

/// The records of one attempt, oldest first (`$1` attempt).
pub(crate) fn records_sql(p: impl Fn(u8) -> String) -> String {
    format!(
        "SELECT attempt_id, at, asked_by, answer, outcome, error, settled FROM queries
         WHERE attempt_id = {} ORDER BY id",
        p(1)
    )
}

/// A record from its stored columns.
pub(crate) fn record_of(
    attempt: i64,
    at: i64,
    by: String,
    answer: &str,
    outcome: Option<String>,
    error: Option<String>,
    settled: bool,
) -> QueryRecord {
    QueryRecord {
        attempt,
        at,
        by,
        answer: Answer::named(answer),
        outcome: outcome.and_then(|o| serde_json::from_str(&o).ok()),
        error: error.and_then(|e| serde_json::from_str(&e).ok()),
        settled,
    }
}

/// Queries by connector and answer, for `/metrics`.
pub(crate) const QUERIES_SQL: &str =
    "SELECT a.connector, q.answer, COUNT(*) FROM queries q JOIN attempts a ON a.id = q.attempt_id
     GROUP BY a.connector, q.answer";

/// Attempts the reconciler stopped asking about, still not settled, by
/// connector.
pub(crate) const STOPPED_SQL: &str =
    "SELECT a.connector, COUNT(*) FROM reconcile r JOIN attempts a ON a.id = r.attempt_id
     WHERE r.stopped_at IS NOT NULL AND a.state IN ('unknown', 'pending') GROUP BY a.connector";

#[cfg(test)]
mod tests {
    use crate::payments::journal::{
        Begin, Journal, JournalError, JournalOptions, Memory, NextQuery, QueryRecord,
    };
    use crate::payments::model::{
        ConnectorError, ErrorKind, Money, PaymentMethod, PaymentOutcome, PaymentRequest,
        PaymentState,
    };
    use std::time::Duration;

    async fn unknown_attempt(journal: &Journal) -> i64 {
        let request = PaymentRequest {
            order_id: "O-1".into(),
            client_order_id: None,
            method: PaymentMethod::Balance,
            amount: Money {
                amount: "1.00".into(),
                currency: "USD".into(),
            },
            idempotency_key: "k-1".into(),
            attributes: Default::default(),
        };
        let Ok(Begin::New(id)) = journal.begin("atlas", &request, Duration::ZERO).await else {
            panic!("a new attempt");
        };
        let unknown = PaymentOutcome::host(
            PaymentState::Unknown,
            ConnectorError::host(ErrorKind::Timeout, "no answer"),
        );
        journal.finish(id, &unknown).await.unwrap();
        id
    }

    #[tokio::test]
    async fn one_query_at_a_time_and_a_person_waits_for_it() {
        let dir = tempfile::tempdir().unwrap();
        let memory = Memory::new();
        let journals = [
            Journal::in_memory(&memory, JournalOptions::default()).unwrap(),
            Journal::open(&dir.path().join("payhost.db")).unwrap(),
        ];
        let hold = Duration::from_secs(60);
        let failed = PaymentOutcome::host(
            PaymentState::Failed,
            ConnectorError::host(ErrorKind::Declined, "no charge"),
        );
        for journal in &journals {
            let id = unknown_attempt(journal).await;
            let claim = journal.claim(id, hold, true).await.unwrap().expect("free");
            // Another call of this very host waits, as another host would.
            assert!(journal.claim(id, hold, false).await.unwrap().is_none());
            assert!(matches!(
                journal
                    .resolve(id, &failed, "support: no charge", "api:ops")
                    .await,
                Err(JournalError::Queried { .. })
            ));
            // Recorded with its claim: released; the reconciler waits for the
            // next time, a person may ask at once.
            let record = QueryRecord::new(
                id,
                super::super::now(),
                "reconciler@test",
                &Ok(PaymentOutcome::new(PaymentState::Unknown)),
            );
            let next = NextQuery::At(super::super::now() + 3600);
            journal
                .note_query(record.clone(), next, Some(claim))
                .await
                .unwrap();
            assert!(journal.claim(id, hold, true).await.unwrap().is_none());
            let person = journal.claim(id, hold, false).await.unwrap().expect("free");
            // Another call's record does not release this claim.
            journal
                .note_query(record.clone(), NextQuery::Keep, Some("another".into()))
                .await
                .unwrap();
            assert!(journal.claim(id, hold, false).await.unwrap().is_none());
            journal
                .note_query(record, NextQuery::Keep, Some(person))
                .await
                .unwrap();
            let settled = journal
                .resolve(id, &failed, "support: no charge", "api:ops")
                .await
                .unwrap();
            assert_eq!(settled.resolved_by.as_deref(), Some("api:ops"));
            assert_eq!(journal.queries(id).await.unwrap().len(), 3);
        }
    }
}
