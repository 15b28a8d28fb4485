//! Which attempts a search asks for (`payhost payments list`,
//! `GET /v1/payments`), and the one `WHERE` clause both SQL stores run
//! for it; the memory store asks [`Filter::matches`].

use crate::payments::attempt::{Attempt, AttemptState};
use serde::{Deserialize, Serialize};

/// The most attempts one page holds.
pub const MAX_PAGE: usize = 500;

/// Which attempts to find. Every field set narrows the search; the
/// attempts come newest first, `before` (the last page's `next`) asks for
/// the page after.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    /// Any of these states (all when empty).
    pub states: Vec<AttemptState>,
    /// This connector's.
    pub connector: Option<String>,
    /// This order's.
    pub order: Option<String>,
    /// Made at or after this time (Unix seconds).
    pub since: Option<i64>,
    /// Made before this time (Unix seconds).
    pub until: Option<i64>,
    /// Settled by a person (`true`) or not (`false`).
    pub resolved: Option<bool>,
    /// Begun by this host instance (the `instance` an attempt carries).
    pub instance: Option<String>,
    /// Older than this attempt id: the cursor of the next page.
    pub before: Option<i64>,
    /// How many at most (1 to [`MAX_PAGE`]).
    pub limit: usize,
}

/// One page of a search.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Page {
    /// The attempts, newest first.
    pub attempts: Vec<Attempt>,
    /// The cursor of the next page (`before`), when there may be one.
    pub next: Option<i64>,
}

/// A search as a person writes it, on the command line or in a URL's
/// query: every field text, read by [`Search::filter`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Search {
    /// States, comma-separated: `unknown,pending`.
    pub state: Option<String>,
    /// A connector's name.
    pub connector: Option<String>,
    /// An order id.
    pub order: Option<String>,
    /// From this time: Unix seconds, an RFC 3339 time
    /// (`2026-12-05T08:00:00Z`), or a duration ago (`2h`).
    pub since: Option<String>,
    /// Before this time, written as `since` is.
    pub until: Option<String>,
    /// `true` for attempts a person settled, `false` for the others.
    pub resolved: Option<bool>,
    /// The `next` of the page before.
    pub cursor: Option<i64>,
    /// How many at most (50 unless said; at most 500).
    pub limit: Option<usize>,
}

/// Why a search cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    /// A state that is none.
    #[error(
        "`{0}` is not a state: write in-flight, succeeded, pending, failed or unknown (several with commas)"
    )]
    State(String),
    /// A time that is none.
    #[error(
        "`{0}` is not a time: write Unix seconds, an RFC 3339 time like 2026-12-05T08:00:00Z, or a duration ago like 2h"
    )]
    Time(String),
    /// A cursor or limit out of range.
    #[error("`limit` must be 1 to {MAX_PAGE}, and `cursor` the `next` of an earlier page")]
    Range,
}

impl SearchError {
    /// The same, without the text the caller sent: for an answer over the
    /// API, where that text could be anything (a card number).
    pub fn form(&self) -> String {
        match self {
            SearchError::State(_) => {
                "`state` takes in-flight, succeeded, pending, failed or unknown, several with commas".to_owned()
            }
            SearchError::Time(_) => {
                "`since` and `until` take Unix seconds, an RFC 3339 time like 2026-12-05T08:00:00Z, or a duration ago like 2h".to_owned()
            }
            SearchError::Range => self.to_string(),
        }
    }
}

impl Search {
    /// The filter this search asks for; `now` (Unix seconds) places a
    /// duration ago.
    pub fn filter(&self, now: i64) -> Result<Filter, SearchError> {
        let states = match &self.state {
            None => Vec::new(),
            Some(text) => text
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    AttemptState::ALL
                        .into_iter()
                        .find(|state| state.as_str() == s)
                        .ok_or_else(|| SearchError::State(s.to_owned()))
                })
                .collect::<Result<_, _>>()?,
        };
        let time = |text: &Option<String>| -> Result<Option<i64>, SearchError> {
            text.as_deref().map(|t| time(t, now)).transpose()
        };
        let limit = self.limit.unwrap_or(50);
        if !(1..=MAX_PAGE).contains(&limit) || self.cursor.is_some_and(|c| c < 1) {
            return Err(SearchError::Range);
        }
        Ok(Filter {
            states,
            connector: self.connector.clone().filter(|c| !c.is_empty()),
            order: self.order.clone().filter(|o| !o.is_empty()),
            since: time(&self.since)?,
            until: time(&self.until)?,
            resolved: self.resolved,
            instance: None,
            before: self.cursor,
            limit,
        })
    }
}

/// Unix seconds, an RFC 3339 time, or a duration before `now`.
fn time(text: &str, now: i64) -> Result<i64, SearchError> {
    let text = text.trim();
    let wrong = || SearchError::Time(text.to_owned());
    if let Ok(seconds) = text.parse::<i64>() {
        return Ok(seconds);
    }
    if let Ok(at) = humantime::parse_rfc3339_weak(text) {
        return at
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .map_err(|_| wrong());
    }
    let ago = humantime::parse_duration(text).map_err(|_| wrong())?;
    Ok(now - i64::try_from(ago.as_secs()).map_err(|_| wrong())?)
}

/// A value a search's SQL is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Bound {
    /// Text.
    Text(String),
    /// A whole number.
    Int(i64),
}

impl Filter {
    /// The page size asked for, kept within 1 and [`MAX_PAGE`].
    pub fn page_size(&self) -> usize {
        self.limit.clamp(1, MAX_PAGE)
    }

    /// Whether `attempt` is one this search finds.
    pub fn matches(&self, attempt: &Attempt) -> bool {
        (self.states.is_empty() || self.states.contains(&attempt.state))
            && self
                .connector
                .as_ref()
                .is_none_or(|c| *c == attempt.connector)
            && self.order.as_ref().is_none_or(|o| *o == attempt.order_id)
            && self.since.is_none_or(|t| attempt.created_at >= t)
            && self.until.is_none_or(|t| attempt.created_at < t)
            && self
                .resolved
                .is_none_or(|r| r == attempt.resolved_by.is_some())
            && self
                .instance
                .as_ref()
                .is_none_or(|i| attempt.instance.as_ref() == Some(i))
            && self.before.is_none_or(|id| attempt.id < id)
    }

    /// The `WHERE` clause (`TRUE` when nothing narrows), its parameters
    /// written by `mark` from 1 (`?1` for SQLite, `$1` for PostgreSQL),
    /// and the values they are bound to, in order.
    pub(crate) fn sql(&self, mark: fn(usize) -> String) -> (String, Vec<Bound>) {
        let mut clauses = Vec::new();
        let mut bound = Vec::new();
        let mut bind = |value: Bound| {
            bound.push(value);
            mark(bound.len())
        };
        if !self.states.is_empty() {
            let marks: Vec<String> = self
                .states
                .iter()
                .map(|s| bind(Bound::Text(s.as_str().to_owned())))
                .collect();
            clauses.push(format!("state IN ({})", marks.join(", ")));
        }
        if let Some(c) = &self.connector {
            clauses.push(format!("connector = {}", bind(Bound::Text(c.clone()))));
        }
        if let Some(o) = &self.order {
            clauses.push(format!("order_id = {}", bind(Bound::Text(o.clone()))));
        }
        if let Some(t) = self.since {
            clauses.push(format!("created_at >= {}", bind(Bound::Int(t))));
        }
        if let Some(t) = self.until {
            clauses.push(format!("created_at < {}", bind(Bound::Int(t))));
        }
        match self.resolved {
            Some(true) => clauses.push("resolved_by IS NOT NULL".to_owned()),
            Some(false) => clauses.push("resolved_by IS NULL".to_owned()),
            None => {}
        }
        if let Some(i) = &self.instance {
            clauses.push(format!("instance = {}", bind(Bound::Text(i.clone()))));
        }
        if let Some(id) = self.before {
            clauses.push(format!("id < {}", bind(Bound::Int(id))));
        }
        let clause = if clauses.is_empty() {
            "1 = 1".to_owned()
        } else {
            clauses.join(" AND ")
        };
        (clause, bound)
    }

    /// The page `attempts` make: a next cursor when the page is full.
    pub(crate) fn page(&self, attempts: Vec<Attempt>) -> Page {
        let next = (attempts.len() == self.page_size())
            .then(|| attempts.last().map(|a| a.id))
            .flatten();
        Page { attempts, next }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_narrows_the_sql_with_its_own_parameter() {
        let filter = Filter {
            states: vec![AttemptState::Unknown, AttemptState::Pending],
            connector: Some("atlas".into()),
            since: Some(10),
            resolved: Some(false),
            instance: Some("host-a".into()),
            before: Some(99),
            limit: 20,
            ..Filter::default()
        };
        let (sql, bound) = filter.sql(|n| format!("${n}"));
        assert_eq!(
            sql,
            "state IN ($1, $2) AND connector = $3 AND created_at >= $4 AND resolved_by IS NULL AND instance = $5 AND id < $6"
        );
        assert_eq!(bound.len(), 6);
        assert_eq!(Filter::default().sql(|n| format!("?{n}")).0, "1 = 1");
    }

    #[test]
    fn a_search_reads_states_times_and_bounds_or_says_what_is_wrong() {
        let search = Search {
            state: Some("unknown, pending".into()),
            since: Some("2h".into()),
            until: Some("2026-12-05T08:00:00Z".into()),
            ..Search::default()
        };
        let filter = search.filter(10_000).unwrap();
        assert_eq!(
            filter.states,
            vec![AttemptState::Unknown, AttemptState::Pending]
        );
        assert_eq!(filter.since, Some(10_000 - 7_200));
        assert_eq!(filter.until, Some(1_796_457_600));
        assert_eq!(filter.limit, 50);
        let wrong = |s: Search| s.filter(0).unwrap_err().to_string();
        assert!(
            wrong(Search {
                state: Some("lost".into()),
                ..Search::default()
            })
            .contains("not a state")
        );
        assert!(
            wrong(Search {
                since: Some("yesterday".into()),
                ..Search::default()
            })
            .contains("not a time")
        );
        assert!(
            wrong(Search {
                limit: Some(501),
                ..Search::default()
            })
            .contains("1 to 500")
        );
    }
}
