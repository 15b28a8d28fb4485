//! The attempts' SQL: begin, finish and resolve, the reads, and the
//! published connector files.

use super::*;
use crate::payments::journal::filter::{Bound, Filter};
use crate::payments::journal::queries::{Asking, record_sql, schedule_sql};
use crate::payments::journal::types::{Asked, Settlement, Upload};

/// A stored state; one this version does not know reads as `unknown`.
pub(super) fn parse_state(text: &str) -> AttemptState {
    AttemptState::ALL
        .into_iter()
        .find(|s| s.as_str() == text)
        .unwrap_or(AttemptState::Unknown)
}

pub(super) fn row(r: &Row) -> Attempt {
    let outcome: Option<String> = r.get("outcome");
    let late: Option<String> = r.get("late_outcome");
    let supplier: Option<String> = r.get("supplier_outcome");
    let state: String = r.get("state");
    Attempt {
        id: r.get("id"),
        idempotency_key: r.get("idempotency_key"),
        connector: r.get("connector"),
        order_id: r.get("order_id"),
        method: r.get("method"),
        card: r.get("card"),
        amount: r.get("amount"),
        currency: r.get("currency"),
        state: parse_state(&state),
        outcome: outcome.and_then(|o| serde_json::from_str(&o).ok()),
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
        resolution: r.get("resolution"),
        resolved_by: r.get("resolved_by"),
        instance: r.get("instance"),
        late_outcome: late.and_then(|o| serde_json::from_str(&o).ok()),
        resolved_at: r.get("resolved_at"),
        supplier_outcome: supplier.and_then(|o| serde_json::from_str(&o).ok()),
    }
}

pub(super) const COLUMNS: &str = "id, idempotency_key, connector, order_id, method, card, amount, currency, state, created_at, outcome, updated_at, resolution, resolved_by, instance, late_outcome, resolved_at, supplier_outcome";

impl PgJournal {
    pub(crate) async fn try_begin(&self, asked: &Asked) -> Result<Option<Begin>, JournalError> {
        let Asked {
            connector,
            request,
            fingerprint: fp,
        } = asked;
        match self.try_begin_once(connector, request, fp, false).await? {
            Tried::Done(begin) => Ok(begin),
            // Swept: one more look, no more sweeping.
            Tried::Swept => match self.try_begin_once(connector, request, fp, true).await? {
                Tried::Done(begin) => Ok(begin),
                Tried::Swept => Ok(None),
            },
        }
    }

    async fn try_begin_once(
        &self,
        connector: &str,
        request: &PaymentRequest,
        fp: &str,
        swept_before: bool,
    ) -> Result<Tried, JournalError> {
        let inner = &self.inner;
        if inner.closed.load(Ordering::SeqCst) {
            return Err(JournalError::Closed);
        }
        let mut client = inner.client().await?;
        // Closing may have come while this waited for a connection: an
        // attempt inserted now would renew the lease closing gave up and
        // be written in flight under a host that is going away.
        if inner.closed.load(Ordering::SeqCst) {
            return Err(JournalError::Closed);
        }
        let card = request.method.card().map(|c| c.masked_number());
        // The database decides: a second attempt under the key, or a second
        // live attempt for the order, inserts nothing. The insert is one
        // statement on its own (one round trip, prepared once per
        // connection); only a conflict opens a transaction to look why.
        // The same statement renews this instance's lease by the
        // database's clock: an attempt is only ever begun under a lease
        // confirmed in its own transaction, so that after an outage no
        // other host can sweep it before that lease could have lapsed.
        let insert = client
            .prepare_cached(
                "WITH lease AS (
                     INSERT INTO instances (instance, pid, expires_at)
                     VALUES ($9, $10, now() + $11 * interval '1 millisecond')
                     ON CONFLICT (instance) DO UPDATE SET expires_at = GREATEST(instances.expires_at, excluded.expires_at)
                     RETURNING instance
                 )
                 INSERT INTO attempts (idempotency_key, fingerprint, connector, order_id, method, card, amount, currency,
                                       state, created_at, updated_at, instance)
                 SELECT $1, $2, $3, $4, $5, $6, $7, $8, 'in-flight',
                        extract(epoch from now())::bigint, extract(epoch from now())::bigint, lease.instance
                 FROM lease
                 ON CONFLICT DO NOTHING RETURNING id",
            )
            .await
            .map_err(|e| inner.fail(e))?;
        let started = super::super::fence::moment();
        let inserted = client
            .query_opt(
                &insert,
                &[
                    &request.idempotency_key,
                    &fp,
                    &connector,
                    &request.order_id,
                    &request.method.kind().to_string(),
                    &card,
                    &request.amount.amount,
                    &request.amount.currency,
                    &inner.instance,
                    &i64::from(std::process::id()),
                    &(inner.options.lease.as_millis() as f64),
                ],
            )
            .await
            .map_err(|e| inner.fail(e))?;
        if let Some(r) = inserted {
            // The attempt's own statement renewed the lease it is under.
            inner.held.renewed(started);
            return Ok(Tried::Done(Some(Begin::New(r.get(0)))));
        }
        let tx = client.transaction().await.map_err(|e| inner.fail(e))?;
        let by_key = tx
            .query_opt(
                &format!("SELECT {COLUMNS}, fingerprint FROM attempts WHERE idempotency_key = $1"),
                &[&request.idempotency_key],
            )
            .await
            .map_err(|e| inner.fail(e))?
            .map(|r| (row(&r), r.get::<_, String>("fingerprint")));
        // The order's attempts are looked at only when the key is new.
        let by_order = match by_key {
            Some(_) => None,
            None => tx
                .query_opt(
                    &format!(
                        "SELECT id, state FROM attempts WHERE connector = $1 AND order_id = $2
                         AND state IN ({}) ORDER BY id DESC LIMIT 1",
                        rules::may_have_gone_through_sql()
                    ),
                    &[&connector, &request.order_id],
                )
                .await
                .map_err(|e| inner.fail(e))?
                .map(|r| (r.get::<_, i64>(0), parse_state(&r.get::<_, String>(1)))),
        };
        let way = rules::InTheWay { by_key, by_order };
        let next = match rules::begin_next(connector, request, fp, way, swept_before) {
            // An attempt in flight in the way may be a dead host's: the
            // sweep runs then (not on every payment), and the look is made
            // again from the insert.
            Ok(Next::Sweep) => {
                let swept = inner.sweep(&tx).await.map_err(|e| inner.fail(e))?;
                tx.commit().await.map_err(|e| inner.fail(e))?;
                rules::warn_swept(&swept);
                return Ok(Tried::Swept);
            }
            decided => decided?,
        };
        Ok(match next {
            Next::Replay(attempt) => Tried::Done(Some(Begin::Replay(attempt))),
            // In flight under the key: wait. Nothing in the way any more:
            // the conflicting attempt ended between the insert and the
            // look; try again.
            Next::Wait | Next::Insert | Next::Sweep => Tried::Done(None),
        })
    }

    pub(crate) async fn finish(
        &self,
        id: i64,
        outcome: &PaymentOutcome,
    ) -> Result<Finished, JournalError> {
        let inner = &self.inner;
        let json = serde_json::to_string(outcome).unwrap_or_default();
        let client = inner.client().await?;
        let update = client
            .prepare_cached(
                "UPDATE attempts SET state = $1, outcome = $2, updated_at = extract(epoch from now())::bigint
                 WHERE id = $3 AND state = 'in-flight' AND instance = $4",
            )
            .await
            .map_err(|e| inner.fail(e))?;
        let moved = client
            .execute(
                &update,
                &[
                    &AttemptState::from(outcome.state).as_str(),
                    &json,
                    &id,
                    &inner.instance,
                ],
            )
            .await
            .map_err(|e| inner.fail(e))?;
        if moved == 1 {
            return Ok(Finished::Recorded);
        }
        // A retry after a write whose answer was lost finds its own outcome.
        let r = client
            .query_one("SELECT state, outcome FROM attempts WHERE id = $1", &[&id])
            .await
            .map_err(|e| inner.fail(e))?;
        let (state, stored): (String, Option<String>) = (r.get(0), r.get(1));
        if rules::finished_already(stored.as_deref(), &json) {
            return Ok(Finished::Recorded);
        }
        client
            .execute(
                "UPDATE attempts SET late_outcome = $1 WHERE id = $2 AND late_outcome IS NULL",
                &[&json, &id],
            )
            .await
            .map_err(|e| inner.fail(e))?;
        let state = parse_state(&state);
        rules::warn_late(id, outcome, state);
        Ok(Finished::Late { state })
    }

    pub(crate) async fn resolve(
        &self,
        id: i64,
        settled: Settlement,
    ) -> Result<Attempt, JournalError> {
        let Settlement {
            outcome,
            note,
            by,
            asking,
        } = &settled;
        let inner = &self.inner;
        let json = serde_json::to_string(outcome).unwrap_or_default();
        let mut client = inner.client().await?;
        let tx = client.transaction().await.map_err(|e| inner.fail(e))?;
        let current = tx
            .query_opt(
                "SELECT a.state, (a.lapsed AND a.late_outcome IS NULL AND EXISTS
                     (SELECT 1 FROM instances i WHERE i.instance = a.instance AND i.expires_at > now()
                      AND i.instance <> $2))
                 FROM attempts a WHERE a.id = $1 FOR UPDATE",
                &[&id, &inner.instance],
            )
            .await
            .map_err(|e| inner.fail(e))?;
        let state = current
            .as_ref()
            .map(|r| parse_state(&r.get::<_, String>(0)));
        let running = current.as_ref().is_some_and(|r| r.get::<_, bool>(1));
        rules::may_resolve(id, state, running)?;
        // A query under way (another call's claim) comes first.
        let held: i64 = tx
            .query_one(
                &crate::payments::journal::queries::held_sql(numbered),
                &[&id, &asking.as_ref().and_then(|a| a.claim.clone()), &now()],
            )
            .await
            .map_err(|e| inner.fail(e))?
            .get(0);
        if held > 0 {
            return Err(JournalError::Queried { id });
        }
        let updated = tx
            .query_one(
                &format!(
                    "UPDATE attempts SET state = $1, outcome = $2, updated_at = extract(epoch from now())::bigint,
                            resolution = $3, resolved_by = $4, resolved_at = extract(epoch from now())::bigint,
                            supplier_outcome = COALESCE(supplier_outcome, outcome)
                     WHERE id = $5 RETURNING {COLUMNS}"
                ),
                &[
                    &AttemptState::from(outcome.state).as_str(),
                    &json,
                    &note,
                    &by,
                    &id,
                ],
            )
            .await;
        let updated = match updated {
            Ok(r) => r,
            // Resolved to a state that may have gone through while another
            // attempt for the order is live: the index refuses it.
            Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                return Err(inner.fail(
                    "another attempt for this order is in flight, unknown or paid: resolve this one as failed",
                ));
            }
            Err(e) => return Err(inner.fail(e)),
        };
        if let Some(asking) = asking {
            record_in(inner, &tx, asking, true).await?;
        }
        tx.commit().await.map_err(|e| inner.fail(e))?;
        Ok(row(&updated))
    }

    pub(crate) async fn get(&self, id: i64) -> Result<Attempt, JournalError> {
        let inner = &self.inner;
        let client = inner.client().await?;
        client
            .query_opt(
                &format!("SELECT {COLUMNS} FROM attempts WHERE id = $1"),
                &[&id],
            )
            .await
            .map_err(|e| inner.fail(e))?
            .map(|r| row(&r))
            .ok_or(JournalError::NotFound(id))
    }

    pub(crate) async fn by_key(&self, key: &str) -> Result<Option<Attempt>, JournalError> {
        let inner = &self.inner;
        let client = inner.client().await?;
        let select = client
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM attempts WHERE idempotency_key = $1"
            ))
            .await
            .map_err(|e| inner.fail(e))?;
        Ok(client
            .query_opt(&select, &[&key])
            .await
            .map_err(|e| inner.fail(e))?
            .map(|r| row(&r)))
    }

    /// The backlog and the resolutions (see `Journal::tally`).
    pub(crate) async fn tally(&self) -> Result<crate::payments::journal::Tally, JournalError> {
        use crate::payments::journal::tally::{
            BACKLOG_SQL, Backlog, LAPSED_SQL, RESOLUTIONS_SQL, Resolutions, Tally, state,
        };
        let inner = &self.inner;
        let client = inner.client().await?;
        let lapsed = client
            .query(LAPSED_SQL, &[])
            .await
            .map_err(|e| inner.fail(e))?
            .iter()
            .map(|r| (r.get(0), r.get::<_, i64>(1).max(0) as u64))
            .collect();
        let backlog = client
            .query(BACKLOG_SQL, &[])
            .await
            .map_err(|e| inner.fail(e))?
            .iter()
            .map(|r| Backlog {
                connector: r.get(0),
                state: state(r.get(1)),
                count: r.get::<_, i64>(2).max(0) as u64,
                oldest: r.get(3),
            })
            .collect();
        let resolutions = client
            .query(RESOLUTIONS_SQL, &[])
            .await
            .map_err(|e| inner.fail(e))?
            .iter()
            .map(|r| Resolutions {
                by: r.get(0),
                state: state(r.get(1)),
                count: r.get::<_, i64>(2).max(0) as u64,
            })
            .collect();
        let queries = client
            .query(crate::payments::journal::queries::QUERIES_SQL, &[])
            .await
            .map_err(|e| inner.fail(e))?
            .iter()
            .map(|r| crate::payments::journal::tally::Queries {
                connector: r.get(0),
                answer: crate::payments::journal::queries::Answer::named(r.get(1)),
                count: r.get::<_, i64>(2).max(0) as u64,
            })
            .collect();
        let stopped = client
            .query(crate::payments::journal::queries::STOPPED_SQL, &[])
            .await
            .map_err(|e| inner.fail(e))?
            .iter()
            .map(|r| (r.get(0), r.get::<_, i64>(1).max(0) as u64))
            .collect();
        Ok(Tally {
            backlog,
            resolutions,
            lapsed,
            queries,
            stopped,
        })
    }

    /// The attempts made since `since`, by connector, state and minute.
    pub(crate) async fn per_minute(
        &self,
        since: i64,
    ) -> Result<Vec<crate::payments::journal::tally::Minute>, JournalError> {
        use crate::payments::journal::tally::{Minute, per_minute_sql, state};
        let inner = &self.inner;
        let client = inner.client().await?;
        Ok(client
            .query(&per_minute_sql("$1"), &[&since])
            .await
            .map_err(|e| inner.fail(e))?
            .iter()
            .map(|r| Minute {
                connector: r.get(0),
                state: state(r.get(1)),
                minute: r.get(2),
                count: r.get::<_, i64>(3).max(0) as u64,
            })
            .collect())
    }

    pub(crate) async fn find(&self, filter: &Filter) -> Result<Vec<Attempt>, JournalError> {
        let inner = &self.inner;
        let client = inner.client().await?;
        let (clause, bound) = filter.sql(|n| format!("${n}"));
        let values: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = bound
            .iter()
            .map(|b| match b {
                Bound::Text(t) => t as &(dyn tokio_postgres::types::ToSql + Sync),
                Bound::Int(n) => n as &(dyn tokio_postgres::types::ToSql + Sync),
            })
            .collect();
        Ok(client
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM attempts WHERE {clause} ORDER BY id DESC LIMIT {}",
                    filter.page_size()
                ),
                &values,
            )
            .await
            .map_err(|e| inner.fail(e))?
            .iter()
            .map(row)
            .collect())
    }

    /// `Journal::publish` in PostgreSQL: one row, numbered by its sequence.
    pub(crate) async fn publish(&self, upload: Upload) -> Result<i64, JournalError> {
        let Upload {
            file,
            sha256,
            bytes,
        } = &upload;
        let inner = &self.inner;
        let client = inner.client().await?;
        let r = client
            .query_one(
                "INSERT INTO published (file, sha256, bytes) VALUES ($1, $2, $3) RETURNING seq",
                &[&file, &sha256, &bytes],
            )
            .await
            .map_err(|e| inner.fail(e))?;
        Ok(r.get(0))
    }

    /// The files published after `seq`, in order.
    pub(crate) async fn published_after(&self, seq: i64) -> Result<Vec<Published>, JournalError> {
        let inner = &self.inner;
        let client = inner.client().await?;
        Ok(client
            .query(
                "SELECT seq, file, sha256, bytes FROM published WHERE seq > $1 ORDER BY seq LIMIT 8",
                &[&seq],
            )
            .await
            .map_err(|e| inner.fail(e))?
            .iter()
            .map(|r| Published {
                seq: r.get(0),
                file: r.get(1),
                sha256: r.get(2),
                bytes: r.get(3),
            })
            .collect())
    }
}

/// `$n`, PostgreSQL's placeholder.
pub(super) fn numbered(n: u8) -> String {
    format!("${n}")
}

/// Writes `asking`'s record and schedule inside `tx`.
pub(super) async fn record_in(
    inner: &Inner,
    tx: &deadpool_postgres::Transaction<'_>,
    asking: &Asking,
    settled: bool,
) -> Result<(), JournalError> {
    let r = &asking.record;
    let (outcome, error) = asking.json();
    tx.execute(
        &record_sql(numbered),
        &[
            &r.attempt,
            &r.at,
            &r.by,
            &r.answer.as_str(),
            &outcome,
            &error,
            &settled,
        ],
    )
    .await
    .map_err(|e| inner.fail(e))?;
    let (next_at, stopped_at, keep) = asking.schedule();
    tx.execute(
        &schedule_sql(numbered),
        &[
            &r.attempt,
            &asking.counts(),
            &next_at,
            &stopped_at,
            &keep,
            &asking.claim,
        ],
    )
    .await
    .map_err(|e| inner.fail(e))?;
    Ok(())
}
