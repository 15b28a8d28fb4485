//! The reconciler's SQL in PostgreSQL: the attempts due for a query, the
//! claim one host holds on an attempt while it asks, and the record of
//! each query.

use super::attempts::row;
use super::attempts::{numbered, record_in};
use super::*;
use crate::payments::journal::queries::{
    self, Asking, DueSearch, QueryRecord, claim_sql, due_sql, records_sql,
};

impl PgJournal {
    /// The attempts of one connector the reconciler may ask about now.
    pub(crate) async fn due(&self, search: &DueSearch) -> Result<Vec<Attempt>, JournalError> {
        let inner = &self.inner;
        let client = inner.client().await?;
        let sql = due_sql(attempts::COLUMNS, search.limit, numbered);
        Ok(client
            .query(
                &sql,
                &[&search.connector, &search.first_before, &search.now],
            )
            .await
            .map_err(|e| inner.fail(e))?
            .iter()
            .map(row)
            .collect())
    }

    /// Claims attempt `id` under `token` until `until`; whether it has it.
    pub(crate) async fn claim(
        &self,
        id: i64,
        token: &str,
        until: i64,
        scheduled: bool,
    ) -> Result<bool, JournalError> {
        let inner = &self.inner;
        let client = inner.client().await?;
        let moved = client
            .execute(
                &claim_sql(scheduled, numbered),
                &[&id, &token, &until, &now()],
            )
            .await
            .map_err(|e| inner.fail(e))?;
        Ok(moved == 1)
    }

    /// Records a query that settled nothing.
    pub(crate) async fn note_query(&self, asking: Asking) -> Result<(), JournalError> {
        let inner = &self.inner;
        let mut client = inner.client().await?;
        let tx = client.transaction().await.map_err(|e| inner.fail(e))?;
        record_in(inner, &tx, &asking, false).await?;
        tx.commit().await.map_err(|e| inner.fail(e))
    }

    /// The queries about one attempt, oldest first.
    pub(crate) async fn queries(&self, attempt: i64) -> Result<Vec<QueryRecord>, JournalError> {
        let inner = &self.inner;
        let client = inner.client().await?;
        Ok(client
            .query(&records_sql(numbered), &[&attempt])
            .await
            .map_err(|e| inner.fail(e))?
            .iter()
            .map(|r| {
                queries::record_of(
                    r.get(0),
                    r.get(1),
                    r.get(2),
                    r.get(3),
                    r.get(4),
                    r.get(5),
                    r.get(6),
                )
            })
            .collect())
    }
}
