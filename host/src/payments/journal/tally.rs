//! What the journal says about the payments as a whole, for `/metrics`:
//! the attempts not yet settled by connector and state with the age of the
//! oldest, and the resolutions by who made them and what they decided.
//! Counted from the journal, which every host and the CLI share, so that
//! a payment made by `payhost pay` or left unknown by a host that died
//! counts too.

use crate::payments::attempt::{Attempt, AttemptState};
use serde::Serialize;
use std::collections::BTreeMap;

/// Attempts of one connector in one state that is not settled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Backlog {
    /// The connector.
    pub connector: String,
    /// `in-flight`, `unknown` or `pending`.
    pub state: AttemptState,
    /// How many.
    pub count: u64,
    /// When the oldest was made (Unix seconds).
    pub oldest: i64,
}

/// Resolutions by who made them and the state they decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resolutions {
    /// `api:NAME` or `cli:USER`.
    pub by: String,
    /// The state decided.
    pub state: AttemptState,
    /// How many.
    pub count: u64,
}

/// The journal's tally.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// The attempts not settled.
    pub backlog: Vec<Backlog>,
    /// The resolutions.
    pub resolutions: Vec<Resolutions>,
    /// Attempts marked unknown because their host's lease lapsed (the host
    /// died or paused), by connector.
    pub lapsed: Vec<(String, u64)>,
    /// Queries put to suppliers (by the reconciler or by hand), by
    /// connector and answer.
    pub queries: Vec<Queries>,
    /// Attempts not settled that the reconciler stopped asking about (the
    /// horizon passed): left to a person, by connector.
    pub stopped: Vec<(String, u64)>,
}

/// Queries of one connector with one answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Queries {
    /// The connector.
    pub connector: String,
    /// The answer.
    pub answer: super::queries::Answer,
    /// How many.
    pub count: u64,
}

/// Attempts of one connector in one state made in one minute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Minute {
    /// The connector.
    pub connector: String,
    /// The attempt's state now.
    pub state: AttemptState,
    /// The minute it was made in (Unix seconds / 60).
    pub minute: i64,
    /// How many.
    pub count: u64,
}

/// The attempts made since `$1` (Unix seconds) by connector, state and
/// minute: the index on `created_at` serves it. `p(1)` is the placeholder.
pub(crate) fn per_minute_sql(p: &str) -> String {
    format!(
        "SELECT connector, state, created_at / 60, COUNT(*) FROM attempts WHERE created_at >= {p}
         GROUP BY connector, state, created_at / 60"
    )
}

/// [`Minute`]s as the memory store counts them.
pub(crate) fn per_minute_of<'a>(
    attempts: impl Iterator<Item = &'a Attempt>,
    since: i64,
) -> Vec<Minute> {
    let mut counted: BTreeMap<(String, &str, i64), (AttemptState, u64)> = BTreeMap::new();
    for a in attempts.filter(|a| a.created_at >= since) {
        counted
            .entry((a.connector.clone(), a.state.as_str(), a.created_at / 60))
            .or_insert((a.state, 0))
            .1 += 1;
    }
    counted
        .into_iter()
        .map(|((connector, _, minute), (state, count))| Minute {
            connector,
            state,
            minute,
            count,
        })
        .collect()
}

/// The states an attempt waits in.
pub(crate) const UNSETTLED: [AttemptState; 3] = [
    AttemptState::InFlight,
    AttemptState::Unknown,
    AttemptState::Pending,
];

/// The backlog's SQL, the same in both SQL stores (an index on `state`
/// serves it).
pub(crate) const BACKLOG_SQL: &str =
    "SELECT connector, state, COUNT(*), MIN(created_at) FROM attempts
     WHERE state IN ('in-flight', 'unknown', 'pending') GROUP BY connector, state";

/// The lapsed attempts' SQL (a partial index serves it).
pub(crate) const LAPSED_SQL: &str =
    "SELECT connector, COUNT(*) FROM attempts WHERE lapsed GROUP BY connector";

/// The resolutions' SQL (a partial index on `resolved_by` serves it).
pub(crate) const RESOLUTIONS_SQL: &str = "SELECT resolved_by, state, COUNT(*) FROM attempts
     WHERE resolved_by IS NOT NULL GROUP BY resolved_by, state";

impl Tally {
    /// The tally of `attempts`, as the memory store counts it.
    pub(crate) fn of<'a>(attempts: impl Iterator<Item = (&'a Attempt, bool)>) -> Tally {
        let mut backlog: BTreeMap<(String, &str), (AttemptState, u64, i64)> = BTreeMap::new();
        let mut resolutions: BTreeMap<(String, &str), (AttemptState, u64)> = BTreeMap::new();
        let mut lapsed: BTreeMap<String, u64> = BTreeMap::new();
        for (a, was_lapsed) in attempts {
            if was_lapsed {
                *lapsed.entry(a.connector.clone()).or_default() += 1;
            }
            if UNSETTLED.contains(&a.state) {
                let e = backlog
                    .entry((a.connector.clone(), a.state.as_str()))
                    .or_insert((a.state, 0, a.created_at));
                e.1 += 1;
                e.2 = e.2.min(a.created_at);
            }
            if let Some(by) = &a.resolved_by {
                resolutions
                    .entry((by.clone(), a.state.as_str()))
                    .or_insert((a.state, 0))
                    .1 += 1;
            }
        }
        Tally {
            backlog: backlog
                .into_iter()
                .map(|((connector, _), (state, count, oldest))| Backlog {
                    connector,
                    state,
                    count,
                    oldest,
                })
                .collect(),
            resolutions: resolutions
                .into_iter()
                .map(|((by, _), (state, count))| Resolutions { by, state, count })
                .collect(),
            lapsed: lapsed.into_iter().collect(),
            queries: Vec::new(),
            stopped: Vec::new(),
        }
    }

    /// Adds the queries and the attempts given up, as the memory store
    /// counts them: `queries` are each query's connector and answer,
    /// `stopped` each given-up attempt's connector.
    pub(crate) fn with_queries(
        mut self,
        queries: impl Iterator<Item = (String, super::queries::Answer)>,
        stopped: impl Iterator<Item = String>,
    ) -> Tally {
        let mut counted: BTreeMap<(String, super::queries::Answer), u64> = BTreeMap::new();
        for key in queries {
            *counted.entry(key).or_default() += 1;
        }
        self.queries = counted
            .into_iter()
            .map(|((connector, answer), count)| Queries {
                connector,
                answer,
                count,
            })
            .collect();
        let mut by: BTreeMap<String, u64> = BTreeMap::new();
        for connector in stopped {
            *by.entry(connector).or_default() += 1;
        }
        self.stopped = by.into_iter().collect();
        self
    }
}

/// A state as a column holds it.
pub(crate) fn state(text: &str) -> AttemptState {
    AttemptState::ALL
        .into_iter()
        .find(|s| s.as_str() == text)
        .unwrap_or(AttemptState::Unknown)
}
