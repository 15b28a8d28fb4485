//! The payment journal: every attempt is written before the supplier is
//! called and updated after, in an embedded SQLite file (WAL, each write
//! durably committed). It is what makes a payment idempotent and keeps a
//! crash from losing one or sending one twice:
//!
//! - an idempotency key replays the stored outcome; the same key with other
//!   parameters is refused;
//! - two requests with one key make one supplier call (the second waits and
//!   replays);
//! - an order with an attempt that may have gone through (in flight,
//!   `unknown`, `succeeded`, `pending`) takes no new attempt under another
//!   key: an `unknown` one is resolved by `query` or by the operator;
//! - an attempt found in flight when the journal opens (the host stopped
//!   during the payment) becomes `unknown`, never retried on its own.
//!
//! Card numbers are stored masked (first 6 / last 4); CVVs never.

use crate::payments::attempt::{Attempt, AttemptState};
use crate::payments::model::{
    ConnectorError, ErrorKind, PaymentOutcome, PaymentRequest, PaymentState,
};
use rusqlite::{Connection, OptionalExtension, params};
use sha2::Digest;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Why the journal refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The key was used before with other parameters.
    #[error(
        "idempotency key `{key}` was used for a different payment (attempt {id}); use a new key for a new payment"
    )]
    KeyReused {
        /// The key.
        key: String,
        /// The earlier attempt.
        id: i64,
    },
    /// The order has an attempt that may have gone through.
    #[error("order {order} at {connector} already has attempt {id} in state {state}; {advice}")]
    OrderBusy {
        /// The connector.
        connector: String,
        /// The order.
        order: String,
        /// The attempt.
        id: i64,
        /// Its state.
        state: AttemptState,
        /// What to do.
        advice: &'static str,
    },
    /// No attempt with this id.
    #[error("no payment attempt {0} in the journal")]
    NotFound(i64),
    /// The attempt cannot be resolved (it is not `unknown`).
    #[error("attempt {id} is {state}, not unknown: only an unknown outcome is resolved by hand")]
    NotUnknown {
        /// The attempt.
        id: i64,
        /// Its state.
        state: AttemptState,
    },
    /// SQLite failed.
    #[error("the journal {path} cannot be used: {source}")]
    Sqlite {
        /// The file.
        path: PathBuf,
        /// The error.
        source: rusqlite::Error,
    },
}

/// What [`Journal::begin`] decided.
#[derive(Debug)]
pub enum Begin {
    /// A new attempt, written before the supplier is called.
    New(i64),
    /// The key was used for this very payment: its outcome.
    Replay(Box<Attempt>),
}

/// The journal.
pub struct Journal {
    path: PathBuf,
    conn: Mutex<Connection>,
}

/// Whether the process that wrote an attempt is still running.
fn process_alive(pid: i64) -> bool {
    if pid == i64::from(std::process::id()) {
        return true;
    }
    // Linux: a live process has a /proc entry. Elsewhere there is no cheap
    // check: assume it is alive, so that nothing still running is marked
    // unknown; `payhost payments resolve` settles what is left.
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// What makes two requests the same payment: everything but the key, with
/// the card reduced to what the journal keeps.
pub fn fingerprint(connector: &str, r: &PaymentRequest) -> String {
    let method = match &r.method {
        crate::payments::model::PaymentMethod::Balance => "balance".to_owned(),
        crate::payments::model::PaymentMethod::Account(a) => format!("account:{a}"),
        crate::payments::model::PaymentMethod::Card(c)
        | crate::payments::model::PaymentMethod::MerchantOfRecord(c) => {
            format!(
                "{}:{}:{:02}/{}",
                r.method.kind(),
                c.masked_number(),
                c.expiry_month,
                c.expiry_year
            )
        }
    };
    let text = serde_json::json!([
        connector,
        r.order_id,
        r.client_order_id,
        method,
        r.amount.amount,
        r.amount.currency,
        r.attributes
    ])
    .to_string();
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

impl Journal {
    /// Opens (or creates) the journal file and marks attempts left in
    /// flight by a stopped host as `unknown`.
    pub fn open(path: &Path) -> Result<Journal, JournalError> {
        let fail = |source| JournalError::Sqlite {
            path: path.to_owned(),
            source,
        };
        let conn = Connection::open(path).map_err(fail)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(fail)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             CREATE TABLE IF NOT EXISTS attempts (
                 id INTEGER PRIMARY KEY AUTOINCREMENT,
                 idempotency_key TEXT NOT NULL UNIQUE,
                 fingerprint TEXT NOT NULL,
                 connector TEXT NOT NULL,
                 order_id TEXT NOT NULL,
                 method TEXT NOT NULL,
                 card TEXT,
                 amount TEXT NOT NULL,
                 currency TEXT NOT NULL,
                 state TEXT NOT NULL,
                 outcome TEXT,
                 created_at INTEGER NOT NULL,
                 updated_at INTEGER NOT NULL,
                 resolution TEXT,
                 owner INTEGER
             );
             CREATE INDEX IF NOT EXISTS attempts_order ON attempts (connector, order_id);",
        )
        .map_err(fail)?;
        let journal = Journal {
            path: path.to_owned(),
            conn: Mutex::new(conn),
        };
        journal.recover()?;
        Ok(journal)
    }

    fn fail(&self, source: rusqlite::Error) -> JournalError {
        JournalError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Attempts left in flight by a process that is gone (the host was
    /// killed or crashed): their outcome is unknown. Attempts of a process
    /// still running (a server beside this CLI) are left alone.
    fn recover(&self) -> Result<(), JournalError> {
        let in_flight: Vec<(i64, Option<i64>)> = {
            let conn = self.conn();
            let mut stmt = conn
                .prepare("SELECT id, owner FROM attempts WHERE state = ?1")
                .map_err(|e| self.fail(e))?;
            stmt.query_map([AttemptState::InFlight], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .map_err(|e| self.fail(e))?
            .filter_map(Result::ok)
            .collect()
        };
        for (id, owner) in in_flight {
            if owner.is_some_and(process_alive) {
                continue;
            }
            tracing::warn!(
                "payment attempt {id} was in flight when its host stopped: its outcome is unknown; resolve it with `payhost payments resolve {id}`"
            );
            let outcome = PaymentOutcome::host(
                PaymentState::Unknown,
                ConnectorError::host(
                    ErrorKind::ConnectorFault,
                    "the host stopped during this payment; it may have reached the supplier: query it or resolve it by hand",
                ),
            );
            self.finish(id, &outcome)?;
        }
        Ok(())
    }

    /// Writes a new attempt before the supplier is called, or answers with
    /// the earlier attempt under the same key; refuses what could pay twice.
    /// Waits (up to `wait`) while another request with the same key is in flight.
    pub async fn begin(
        &self,
        connector: &str,
        request: &PaymentRequest,
        wait: Duration,
    ) -> Result<Begin, JournalError> {
        let fp = fingerprint(connector, request);
        let deadline = std::time::Instant::now() + wait;
        loop {
            match self.try_begin(connector, request, &fp)? {
                Some(begin) => return Ok(begin),
                None if std::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(25)).await
                }
                None => {
                    let existing = self
                        .by_key(&request.idempotency_key)?
                        .ok_or(JournalError::NotFound(0))?;
                    return Ok(Begin::Replay(Box::new(existing)));
                }
            }
        }
    }

    /// `None` while an attempt with this key is in flight.
    fn try_begin(
        &self,
        connector: &str,
        request: &PaymentRequest,
        fp: &str,
    ) -> Result<Option<Begin>, JournalError> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|e| self.fail(e))?;
        let existing: Option<(i64, String, AttemptState)> = tx
            .query_row(
                "SELECT id, fingerprint, state FROM attempts WHERE idempotency_key = ?1",
                params![request.idempotency_key],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()
            .map_err(|e| self.fail(e))?;
        if let Some((id, existing_fp, state)) = existing {
            drop(tx);
            drop(conn);
            if existing_fp != fp {
                return Err(JournalError::KeyReused {
                    key: request.idempotency_key.clone(),
                    id,
                });
            }
            if state == AttemptState::InFlight {
                return Ok(None);
            }
            return Ok(Some(Begin::Replay(Box::new(self.get(id)?))));
        }
        let [s1, s2, s3, s4] = AttemptState::MAY_HAVE_GONE_THROUGH;
        let busy: Option<(i64, AttemptState)> = tx
            .query_row(
                "SELECT id, state FROM attempts WHERE connector = ?1 AND order_id = ?2
                 AND state IN (?3, ?4, ?5, ?6) ORDER BY id DESC LIMIT 1",
                params![connector, request.order_id, s1, s2, s3, s4],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .map_err(|e| self.fail(e))?;
        if let Some((id, state)) = busy {
            let advice = match state {
                AttemptState::Unknown => {
                    "it may have gone through: resolve it first (`payhost payments resolve`)"
                }
                AttemptState::InFlight => "wait for it to finish",
                _ => "the order is paid; do not pay it again",
            };
            return Err(JournalError::OrderBusy {
                connector: connector.to_owned(),
                order: request.order_id.clone(),
                id,
                state,
                advice,
            });
        }
        let card = request.method.card().map(|c| c.masked_number());
        let t = now();
        tx.execute(
            "INSERT INTO attempts (idempotency_key, fingerprint, connector, order_id, method, card, amount, currency, state, created_at, updated_at, owner)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?11, ?9, ?9, ?10)",
            params![request.idempotency_key, fp, connector, request.order_id, request.method.kind().to_string(), card, request.amount.amount, request.amount.currency, t, i64::from(std::process::id()), AttemptState::InFlight],
        )
        .map_err(|e| self.fail(e))?;
        let id = tx.last_insert_rowid();
        tx.commit().map_err(|e| self.fail(e))?;
        Ok(Some(Begin::New(id)))
    }

    /// Records an attempt's outcome.
    pub fn finish(&self, id: i64, outcome: &PaymentOutcome) -> Result<(), JournalError> {
        let json = serde_json::to_string(outcome).unwrap_or_default();
        self.conn()
            .execute(
                "UPDATE attempts SET state = ?1, outcome = ?2, updated_at = ?3 WHERE id = ?4",
                params![AttemptState::from(outcome.state), json, now(), id],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// Records the operator's decision on an `unknown` attempt.
    pub fn resolve(
        &self,
        id: i64,
        outcome: &PaymentOutcome,
        note: &str,
    ) -> Result<Attempt, JournalError> {
        let attempt = self.get(id)?;
        if attempt.state != AttemptState::Unknown {
            return Err(JournalError::NotUnknown {
                id,
                state: attempt.state,
            });
        }
        let json = serde_json::to_string(outcome).unwrap_or_default();
        self.conn()
            .execute(
                "UPDATE attempts SET state = ?1, outcome = ?2, updated_at = ?3, resolution = ?4 WHERE id = ?5",
                params![AttemptState::from(outcome.state), json, now(), note, id],
            )
            .map_err(|e| self.fail(e))?;
        self.get(id)
    }

    fn row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Attempt> {
        let outcome: Option<String> = row.get(10)?;
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
        })
    }

    const COLUMNS: &str = "id, idempotency_key, connector, order_id, method, card, amount, currency, state, created_at, outcome, updated_at, resolution";

    /// One attempt.
    pub fn get(&self, id: i64) -> Result<Attempt, JournalError> {
        self.conn()
            .query_row(
                &format!("SELECT {} FROM attempts WHERE id = ?1", Self::COLUMNS),
                params![id],
                Self::row,
            )
            .optional()
            .map_err(|e| self.fail(e))?
            .ok_or(JournalError::NotFound(id))
    }

    /// The attempt under a key.
    pub fn by_key(&self, key: &str) -> Result<Option<Attempt>, JournalError> {
        self.conn()
            .query_row(
                &format!(
                    "SELECT {} FROM attempts WHERE idempotency_key = ?1",
                    Self::COLUMNS
                ),
                params![key],
                Self::row,
            )
            .optional()
            .map_err(|e| self.fail(e))
    }

    /// The latest attempts, newest first.
    pub fn list(&self, limit: usize) -> Result<Vec<Attempt>, JournalError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {} FROM attempts ORDER BY id DESC LIMIT ?1",
                Self::COLUMNS
            ))
            .map_err(|e| self.fail(e))?;
        let rows = stmt
            .query_map(params![limit as i64], Self::row)
            .map_err(|e| self.fail(e))?;
        Ok(rows.filter_map(Result::ok).collect())
    }
}
