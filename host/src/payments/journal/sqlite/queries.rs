//! The reconciler's SQL: the attempts due for a query, the claim one host
//! holds on an attempt while it asks, and the record of each query.

use super::attempts::numbered;
use super::*;
use crate::payments::journal::queries::{
    self, Asking, DueSearch, QueryRecord, claim_sql, due_sql, records_sql,
};

impl Inner {
    pub(super) fn due(&self, search: &DueSearch) -> Result<Vec<Attempt>, JournalError> {
        let conn = self.reader();
        let sql = due_sql(Self::COLUMNS, search.limit, numbered);
        conn.prepare_cached(&sql)
            .and_then(|mut stmt| {
                stmt.query_map(
                    params![search.connector, search.first_before, search.now],
                    Self::row,
                )?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|e| self.fail(e))
    }

    pub(super) fn claim(
        &self,
        id: i64,
        token: &str,
        until: i64,
        scheduled: bool,
    ) -> Result<bool, JournalError> {
        let moved = self.grounded(|tx| {
            tx.prepare_cached(&claim_sql(scheduled, numbered))
                .and_then(|mut stmt| stmt.execute(params![id, token, until, now()]))
                .map_err(|e| self.fail(e))
        })?;
        Ok(moved == 1)
    }

    pub(super) fn note_query(&self, asking: &Asking) -> Result<(), JournalError> {
        self.grounded(|tx| self.record_in(tx, asking, false))
    }

    pub(super) fn queries(&self, attempt: i64) -> Result<Vec<QueryRecord>, JournalError> {
        let conn = self.reader();
        conn.prepare_cached(&records_sql(numbered))
            .and_then(|mut stmt| {
                stmt.query_map(params![attempt], |r| {
                    Ok(queries::record_of(
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        &r.get::<_, String>(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|e| self.fail(e))
    }
}

impl SqliteJournal {
    /// The attempts of one connector the reconciler may ask about now.
    pub(crate) async fn due(&self, search: &DueSearch) -> Result<Vec<Attempt>, JournalError> {
        let search = search.clone();
        self.blocking(move |inner| inner.due(&search)).await
    }

    /// Claims attempt `id` under `token` until `until`; whether it has it.
    pub(crate) async fn claim(
        &self,
        id: i64,
        token: &str,
        until: i64,
        scheduled: bool,
    ) -> Result<bool, JournalError> {
        let token = token.to_owned();
        self.blocking(move |inner| inner.claim(id, &token, until, scheduled))
            .await
    }

    /// Records a query that settled nothing.
    pub(crate) async fn note_query(&self, asking: Asking) -> Result<(), JournalError> {
        self.blocking(move |inner| inner.note_query(&asking)).await
    }

    /// The queries about one attempt, oldest first.
    pub(crate) async fn queries(&self, attempt: i64) -> Result<Vec<QueryRecord>, JournalError> {
        self.blocking(move |inner| inner.queries(attempt)).await
    }
}
