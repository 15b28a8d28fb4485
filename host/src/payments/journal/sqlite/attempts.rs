//! The attempts' SQL: begin, finish and resolve inside the writer's
//! transactions, and the reads.

use super::*;
use crate::payments::journal::filter::{Bound, Filter};
use crate::payments::journal::queries::{Asking, record_sql, schedule_sql};
use crate::payments::journal::types::{Asked, Settlement};

/// `?n`, SQLite's numbered placeholder.
pub(super) fn numbered(n: u8) -> String {
    format!("?{n}")
}

impl Inner {
    /// `None` while an attempt with this key is in flight. Runs inside the
    /// batch's transaction (see [`batch_writer`]).
    pub(super) fn try_begin_in(
        &self,
        tx: &Connection,
        asked: &Asked,
    ) -> Result<Option<Begin>, JournalError> {
        if self.closed.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(JournalError::Closed);
        }
        let Asked {
            connector,
            request,
            fingerprint,
        } = asked;
        self.try_begin_once(tx, connector, request, fingerprint, false)
    }

    /// One look; an attempt in flight in the way is first checked against
    /// its host's lease (`swept`: already done), so that an attempt whose
    /// host is gone is unknown before anything is decided. The sweep runs
    /// only then, not on every payment.
    pub(super) fn try_begin_once(
        &self,
        tx: &Connection,
        connector: &str,
        request: &PaymentRequest,
        fp: &str,
        swept: bool,
    ) -> Result<Option<Begin>, JournalError> {
        let by_key = tx
            .prepare_cached(&format!(
                "SELECT {}, fingerprint FROM attempts WHERE idempotency_key = ?1",
                Self::COLUMNS
            ))
            .and_then(|mut stmt| {
                stmt.query_row(params![request.idempotency_key], |row| {
                    Ok((Self::row(row)?, row.get("fingerprint")?))
                })
            })
            .optional()
            .map_err(|e| self.fail(e))?;
        // The order's attempts are looked at only when the key is new.
        let by_order = if by_key.is_some() {
            None
        } else {
            let [s1, s2, s3, s4] = AttemptState::MAY_HAVE_GONE_THROUGH;
            tx.prepare_cached(
                "SELECT id, state FROM attempts WHERE connector = ?1 AND order_id = ?2
                 AND state IN (?3, ?4, ?5, ?6) ORDER BY id DESC LIMIT 1",
            )
            .and_then(|mut stmt| {
                stmt.query_row(
                    params![connector, request.order_id, s1, s2, s3, s4],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
            })
            .optional()
            .map_err(|e| self.fail(e))?
        };
        let way = rules::InTheWay { by_key, by_order };
        match rules::begin_next(connector, request, fp, way, swept)? {
            Next::Insert => {}
            Next::Replay(attempt) => return Ok(Some(Begin::Replay(attempt))),
            Next::Wait => return Ok(None),
            Next::Sweep => {
                let ids = self.sweep(tx).map_err(|e| self.fail(e))?;
                rules::warn_swept(&ids);
                return self.try_begin_once(tx, connector, request, fp, true);
            }
        }
        let card = request.method.card().map(|c| c.masked_number());
        let t = now();
        tx.prepare_cached("INSERT INTO attempts (idempotency_key, fingerprint, connector, order_id, method, card, amount, currency, state, created_at, updated_at, instance, instance_pid)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11, ?12)").and_then(|mut stmt| stmt.execute(params![
                request.idempotency_key,
                fp,
                connector,
                request.order_id,
                request.method.kind().to_string(),
                card,
                request.amount.amount,
                request.amount.currency,
                AttemptState::InFlight,
                t,
                self.instance,
                i64::from(std::process::id())
            ]))
        .map_err(|e| self.fail(e))?;
        let id = tx.last_insert_rowid();
        Ok(Some(Begin::New(id)))
    }

    /// Runs inside the batch's transaction (see [`batch_writer`]).
    pub(super) fn finish_in(
        &self,
        tx: &Connection,
        id: i64,
        outcome: &PaymentOutcome,
    ) -> Result<Finished, JournalError> {
        let json = serde_json::to_string(outcome).unwrap_or_default();
        let moved = tx
            .prepare_cached(
                "UPDATE attempts SET state = ?1, outcome = ?2, updated_at = ?3
                 WHERE id = ?4 AND state = ?5 AND instance = ?6",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    AttemptState::from(outcome.state),
                    json,
                    now(),
                    id,
                    AttemptState::InFlight,
                    self.instance
                ])
            })
            .map_err(|e| self.fail(e))?;
        if moved == 1 {
            return Ok(Finished::Recorded);
        }
        let (state, stored): (AttemptState, Option<String>) = tx
            .prepare_cached("SELECT state, outcome FROM attempts WHERE id = ?1")
            .and_then(|mut stmt| stmt.query_row(params![id], |row| Ok((row.get(0)?, row.get(1)?))))
            .map_err(|e| self.fail(e))?;
        if rules::finished_already(stored.as_deref(), &json) {
            return Ok(Finished::Recorded);
        }
        tx.prepare_cached(
            "UPDATE attempts SET late_outcome = ?1 WHERE id = ?2 AND late_outcome IS NULL",
        )
        .and_then(|mut stmt| stmt.execute(params![json, id]))
        .map_err(|e| self.fail(e))?;
        rules::warn_late(id, outcome, state);
        Ok(Finished::Late { state })
    }

    pub(super) fn resolve(&self, id: i64, settled: &Settlement) -> Result<Attempt, JournalError> {
        let Settlement {
            outcome,
            note,
            by,
            asking,
        } = settled;
        let json = serde_json::to_string(outcome).unwrap_or_default();
        self.grounded(|tx| {
            let state: Option<AttemptState> = tx
                .prepare_cached("SELECT state FROM attempts WHERE id = ?1")
                .and_then(|mut stmt| stmt.query_row(params![id], |r| r.get(0)))
                .optional()
                .map_err(|e| self.fail(e))?;
            // A host that paused past its lease and came back may still be
            // waiting for the supplier: its answer comes first.
            let running: bool = tx
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM attempts a JOIN instances i ON i.instance = a.instance
                     WHERE a.id = ?1 AND a.lapsed = 1 AND a.late_outcome IS NULL
                       AND i.expires_at > ?2 AND i.instance != ?3)").and_then(|mut stmt| stmt.query_row(params![id, now_ms(), self.instance],
                    |r| r.get(0)))
                .map_err(|e| self.fail(e))?;
            rules::may_resolve(id, state, running)?;
            // A query under way (another call's claim) comes first.
            let held: i64 = tx
                .prepare_cached(&crate::payments::journal::queries::held_sql(numbered))
                .and_then(|mut stmt| {
                    stmt.query_row(
                        params![id, asking.as_ref().and_then(|a| a.claim.clone()), now()],
                        |r| r.get(0),
                    )
                })
                .map_err(|e| self.fail(e))?;
            if held > 0 {
                return Err(JournalError::Queried { id });
            }
            tx.prepare_cached("UPDATE attempts SET state = ?1, outcome = ?2, updated_at = ?3, resolution = ?4, resolved_by = ?5,
                 resolved_at = ?3, supplier_outcome = COALESCE(supplier_outcome, outcome)
                 WHERE id = ?6 AND state = ?7").and_then(|mut stmt| stmt.execute(params![
                    AttemptState::from(outcome.state),
                    json,
                    now(),
                    note,
                    by,
                    id,
                    state
                ]))
            .map_err(|e| self.fail(e))?;
            if let Some(asking) = asking {
                self.record_in(tx, asking, true)?;
            }
            Ok(())
        })?;
        self.get(id)
    }

    /// Writes `asking`'s record and schedule inside `tx`.
    pub(super) fn record_in(
        &self,
        tx: &Connection,
        asking: &Asking,
        settled: bool,
    ) -> Result<(), JournalError> {
        let r = &asking.record;
        let (outcome, error) = asking.json();
        tx.prepare_cached(&record_sql(numbered))
            .and_then(|mut stmt| {
                stmt.execute(params![
                    r.attempt,
                    r.at,
                    r.by,
                    r.answer.as_str(),
                    outcome,
                    error,
                    settled
                ])
            })
            .map_err(|e| self.fail(e))?;
        let (next_at, stopped_at, keep) = asking.schedule();
        tx.prepare_cached(&schedule_sql(numbered))
            .and_then(|mut stmt| {
                stmt.execute(params![
                    r.attempt,
                    asking.counts(),
                    next_at,
                    stopped_at,
                    keep,
                    asking.claim
                ])
            })
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    pub(super) fn row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Attempt> {
        let outcome: Option<String> = row.get(10)?;
        let late: Option<String> = row.get(15)?;
        let supplier: Option<String> = row.get(17)?;
        Ok(Attempt {
            id: row.get(0)?,
            idempotency_key: row.get(1)?,
            connector: row.get(2)?,
            order_id: row.get(3)?,
            method: row.get(4)?,
            card: row.get(5)?,
            amount: row.get(6)?,
            currency: row.get(7)?,
            state: row.get(8)?,
            created_at: row.get(9)?,
            outcome: outcome.and_then(|o| serde_json::from_str(&o).ok()),
            updated_at: row.get(11)?,
            resolution: row.get(12)?,
            resolved_by: row.get(13)?,
            instance: row.get(14)?,
            late_outcome: late.and_then(|o| serde_json::from_str(&o).ok()),
            resolved_at: row.get(16)?,
            supplier_outcome: supplier.and_then(|o| serde_json::from_str(&o).ok()),
        })
    }

    pub(super) const COLUMNS: &str = "id, idempotency_key, connector, order_id, method, card, amount, currency, state, created_at, outcome, updated_at, resolution, resolved_by, instance, late_outcome, resolved_at, supplier_outcome";

    pub(super) fn get(&self, id: i64) -> Result<Attempt, JournalError> {
        self.reader()
            .prepare_cached(&format!(
                "SELECT {} FROM attempts WHERE id = ?1",
                Self::COLUMNS
            ))
            .and_then(|mut stmt| stmt.query_row(params![id], Self::row))
            .optional()
            .map_err(|e| self.fail(e))?
            .ok_or(JournalError::NotFound(id))
    }

    pub(super) fn by_key(&self, key: &str) -> Result<Option<Attempt>, JournalError> {
        Self::by_key_on(&self.reader(), key).map_err(|e| self.fail(e))
    }

    /// The attempt under `key`, read on `conn`.
    pub(super) fn by_key_on(conn: &Connection, key: &str) -> rusqlite::Result<Option<Attempt>> {
        conn.prepare_cached(&format!(
            "SELECT {} FROM attempts WHERE idempotency_key = ?1",
            Self::COLUMNS
        ))
        .and_then(|mut stmt| stmt.query_row(params![key], Self::row))
        .optional()
    }

    pub(super) fn tally(&self) -> Result<crate::payments::journal::Tally, JournalError> {
        use crate::payments::journal::tally::{
            BACKLOG_SQL, Backlog, LAPSED_SQL, RESOLUTIONS_SQL, Resolutions, Tally, state,
        };
        let conn = self.reader();
        let lapsed = conn
            .prepare_cached(LAPSED_SQL)
            .and_then(|mut stmt| {
                stmt.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)?.max(0) as u64)))?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|e| self.fail(e))?;
        let backlog = conn
            .prepare_cached(BACKLOG_SQL)
            .and_then(|mut stmt| {
                stmt.query_map([], |r| {
                    Ok(Backlog {
                        connector: r.get(0)?,
                        state: state(&r.get::<_, String>(1)?),
                        count: r.get::<_, i64>(2)?.max(0) as u64,
                        oldest: r.get(3)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|e| self.fail(e))?;
        let resolutions = conn
            .prepare_cached(RESOLUTIONS_SQL)
            .and_then(|mut stmt| {
                stmt.query_map([], |r| {
                    Ok(Resolutions {
                        by: r.get(0)?,
                        state: state(&r.get::<_, String>(1)?),
                        count: r.get::<_, i64>(2)?.max(0) as u64,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|e| self.fail(e))?;
        let queries = conn
            .prepare_cached(crate::payments::journal::queries::QUERIES_SQL)
            .and_then(|mut stmt| {
                stmt.query_map([], |r| {
                    Ok(crate::payments::journal::tally::Queries {
                        connector: r.get(0)?,
                        answer: crate::payments::journal::queries::Answer::named(
                            &r.get::<_, String>(1)?,
                        ),
                        count: r.get::<_, i64>(2)?.max(0) as u64,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|e| self.fail(e))?;
        let stopped = conn
            .prepare_cached(crate::payments::journal::queries::STOPPED_SQL)
            .and_then(|mut stmt| {
                stmt.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)?.max(0) as u64)))?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|e| self.fail(e))?;
        Ok(Tally {
            backlog,
            resolutions,
            lapsed,
            queries,
            stopped,
        })
    }

    pub(super) fn per_minute(
        &self,
        since: i64,
    ) -> Result<Vec<crate::payments::journal::tally::Minute>, JournalError> {
        use crate::payments::journal::tally::{Minute, per_minute_sql, state};
        let conn = self.reader();
        conn.prepare_cached(&per_minute_sql("?1"))
            .and_then(|mut stmt| {
                stmt.query_map(params![since], |r| {
                    Ok(Minute {
                        connector: r.get(0)?,
                        state: state(&r.get::<_, String>(1)?),
                        minute: r.get(2)?,
                        count: r.get::<_, i64>(3)?.max(0) as u64,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|e| self.fail(e))
    }

    pub(super) fn find(&self, filter: &Filter) -> Result<Vec<Attempt>, JournalError> {
        let conn = self.reader();
        let (clause, bound) = filter.sql(|n| format!("?{n}"));
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {} FROM attempts WHERE {clause} ORDER BY id DESC LIMIT {}",
                Self::COLUMNS,
                filter.page_size()
            ))
            .map_err(|e| self.fail(e))?;
        let values = bound.into_iter().map(|b| match b {
            Bound::Text(t) => rusqlite::types::Value::Text(t),
            Bound::Int(n) => rusqlite::types::Value::Integer(n),
        });
        let rows = stmt
            .query_map(rusqlite::params_from_iter(values), Self::row)
            .map_err(|e| self.fail(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.fail(e))
    }
}
