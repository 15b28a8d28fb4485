//! What both journal backends share: the errors, what a begin or a finish
//! decided, the options, the health report, and the request fingerprint.

use crate::payments::attempt::Attempt;
use crate::payments::attempt::AttemptState;
use crate::payments::model::{
    ConnectorError, ErrorKind, PaymentOutcome, PaymentRequest, PaymentState,
};
use sha2::Digest;
use std::path::PathBuf;
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
    #[error(
        "attempt {id} is {state}: only an unknown or pending outcome is resolved (a final one stays as it is)"
    )]
    NotUnknown {
        /// The attempt.
        id: i64,
        /// Its state.
        state: AttemptState,
    },
    /// Another process held the journal's write lock past the busy timeout.
    #[error(
        "the journal {location} is busy: another process held its write lock for more than {waited:?}; try again once it is free"
    )]
    Busy {
        /// The file, or the URL without its password.
        location: String,
        /// How long this one waited.
        waited: Duration,
    },
    /// The journal's server did not answer in time (it may be down, or the
    /// network to it): what was asked may or may not have been done.
    #[error(
        "the journal {location} did not answer within {waited:?}: it may be down or out of reach, and what was asked may or may not have been done; look before trying again once it answers"
    )]
    Unanswered {
        /// The URL without its password.
        location: String,
        /// How long this one waited.
        waited: Duration,
    },
    /// The journal's file (or its WAL) is no longer the one this host
    /// opened, or belongs with another: see `ground`.
    #[error("the journal {path} {what}")]
    Moved {
        /// The file.
        path: PathBuf,
        /// What changed, and what to do.
        what: String,
    },
    /// The lease and the wait do not fit together.
    #[error("{0}")]
    Options(String),
    /// The host is stopping: it takes no new attempt.
    #[error("this host is stopping and takes no new payment; try another host or again later")]
    Closed,
    /// Another host is still running the attempt (its lease is live).
    #[error(
        "attempt {id}'s host is still running (its lease is live): its outcome may still come; wait for it, or stop that host first"
    )]
    StillRunning {
        /// The attempt.
        id: i64,
    },
    /// A query to the supplier about the attempt is under way: its answer
    /// comes first.
    #[error(
        "attempt {id} is being asked about at its supplier right now; look at it again in a moment, its answer may settle it"
    )]
    Queried {
        /// The attempt.
        id: i64,
    },
    /// PostgreSQL failed (the URL is shown without its password).
    #[error("the journal at {url} cannot be used: {message}")]
    Postgres {
        /// The database.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// A batch of writes could not be committed.
    #[error("the journal {path} could not be written: {message}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The journal's file, or a thread that works on it, could not be
    /// had from the system.
    #[error("the journal {path} {what}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// What could not be done.
        what: &'static str,
        /// The system's error.
        source: std::io::Error,
    },
    /// The journal's schema is newer than this host knows: a newer
    /// payhost made it.
    #[error(
        "the journal {location} has schema version {version}, newer than this host's {known}: a newer payhost made it; run that version (or restore a backup of the journal made before it)"
    )]
    Newer {
        /// The file, or the URL without its password.
        location: String,
        /// Its schema's version.
        version: i64,
        /// The newest this host knows.
        known: i64,
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

/// `call`'s answer, or [`JournalError::Unanswered`] for the journal at
/// `location` once `limit` has passed without one.
pub(crate) async fn answered_within<T>(
    limit: Duration,
    location: impl FnOnce() -> String,
    call: impl Future<Output = Result<T, JournalError>>,
) -> Result<T, JournalError> {
    tokio::time::timeout(limit, call).await.unwrap_or_else(|_| {
        Err(JournalError::Unanswered {
            location: location(),
            waited: limit,
        })
    })
}

impl JournalError {
    /// Whether trying again later may work (a lock, a server that did
    /// not answer; not a broken file).
    pub fn is_busy(&self) -> bool {
        matches!(
            self,
            JournalError::Busy { .. } | JournalError::Unanswered { .. }
        )
    }
}

/// What [`Journal::begin`](crate::Journal::begin) decided.
#[derive(Debug)]
pub enum Begin {
    /// A new attempt, written before the supplier is called.
    New(i64),
    /// The key was used for this very payment: its outcome.
    Replay(Box<Attempt>),
}

/// What [`Journal::finish`](crate::Journal::finish) did with an outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    /// The attempt took the outcome's state.
    Recorded,
    /// The attempt had already been moved (marked `unknown` when this
    /// host's lease lapsed, perhaps resolved since): it keeps `state`, and
    /// the outcome is kept beside it as a late outcome.
    Late {
        /// The state the attempt keeps.
        state: AttemptState,
    },
}

/// How a journal is opened.
#[derive(Debug, Clone, Copy)]
pub struct JournalOptions {
    /// How long an instance's lease lasts without renewal; it is renewed
    /// every third of that. An attempt whose instance's lease has lapsed
    /// becomes `unknown`.
    pub lease: Duration,
    /// How long a write waits for another process's lock.
    pub busy_timeout: Duration,
}

impl Default for JournalOptions {
    fn default() -> Self {
        JournalOptions {
            lease: Duration::from_secs(15),
            busy_timeout: Duration::from_secs(5),
        }
    }
}

impl JournalOptions {
    /// Refuses a lease too short for the wait: a renewal that waits out
    /// another writer twice must still come before the lease lapses.
    pub fn check(&self) -> Result<(), JournalError> {
        if self.lease < self.lease / 3 + self.busy_timeout * 2 {
            return Err(JournalError::Options(format!(
                "lease = \"{}\" is too short for journal_wait = \"{}\": a renewal that waits out another process's lock twice must still come before the lease lapses; make lease at least {} (or shorten journal_wait)",
                humantime::format_duration(self.lease),
                humantime::format_duration(self.busy_timeout),
                humantime::format_duration(self.busy_timeout * 3)
            )));
        }
        Ok(())
    }
}

/// Whether the journal can be written, as the last lease renewal found.
#[derive(Debug, Clone)]
pub struct JournalHealth {
    /// The last renewal succeeded.
    pub writable: bool,
    /// Why it did not.
    pub problem: Option<String>,
}

impl JournalHealth {
    /// Writable, as a journal starts.
    pub(crate) fn writable() -> JournalHealth {
        JournalHealth {
            writable: true,
            problem: None,
        }
    }

    /// Takes what a lease renewal found; says so in the log when the
    /// journal stops being writable.
    pub(crate) fn record(&mut self, renewed: Result<(), JournalError>) {
        *self = match renewed {
            Ok(()) => JournalHealth::writable(),
            Err(e) => {
                if self.writable {
                    tracing::error!("cannot renew this host's lease: {e}");
                }
                JournalHealth {
                    writable: false,
                    problem: Some(e.to_string()),
                }
            }
        };
    }
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

pub(crate) fn now() -> i64 {
    now_ms() / 1000
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

/// The outcome an attempt gets when its host's lease lapsed.
pub(crate) fn lapsed() -> PaymentOutcome {
    PaymentOutcome::host(
        PaymentState::Unknown,
        ConnectorError::host(
            ErrorKind::ConnectorFault,
            "the host stopped during this payment; it may have reached the supplier: query it or resolve it by hand",
        ),
    )
}

/// The outcome an attempt gets when the call running it was abandoned
/// (its future dropped, or a panic unwound it) after it was begun: it
/// may have reached the supplier, so it is unknown.
pub(crate) fn abandoned() -> PaymentOutcome {
    PaymentOutcome::host(
        PaymentState::Unknown,
        ConnectorError::host(
            ErrorKind::ConnectorFault,
            "the host abandoned this payment before its outcome was known; it may have reached the supplier: query it or resolve it by hand",
        ),
    )
}

/// The outcome of an attempt the journal wrote but never confirmed to a
/// call that would send it, which therefore never sent it.
pub(crate) fn unsent() -> PaymentOutcome {
    PaymentOutcome::host(
        PaymentState::Failed,
        ConnectorError::host(
            ErrorKind::Denied,
            "the journal wrote this attempt without confirming it to a call that would send it (its answer came too late or not at all, or the call had gone), so it was never sent to the supplier; no money moved: pay again under a new key",
        ),
    )
}

/// A connector file published to the journal for every host.
#[derive(Debug, Clone)]
pub struct Published {
    /// Its place in the order of publication.
    pub seq: i64,
    /// The file name it takes in each host's plugin directory.
    pub file: String,
    /// Its SHA-256, hex.
    pub sha256: String,
    /// The file.
    pub bytes: Vec<u8>,
}

/// A connector file to publish, as a store writes it.
#[derive(Debug, Clone)]
pub(crate) struct Upload {
    /// The file name hosts write it as.
    pub file: String,
    /// The SHA-256 of its bytes, hex.
    pub sha256: String,
    /// The file.
    pub bytes: Vec<u8>,
}

/// A payment asked of the journal, as a store begins it.
#[derive(Debug, Clone)]
pub(crate) struct Asked {
    /// The connector it goes through.
    pub connector: String,
    /// The request.
    pub request: PaymentRequest,
    /// What the key stands for (see `fingerprint`).
    pub fingerprint: String,
}

/// An operator's decision on an attempt, as a store records it.
#[derive(Debug, Clone)]
pub(crate) struct Settlement {
    /// The outcome decided.
    pub outcome: PaymentOutcome,
    /// Why, in the operator's words.
    pub note: String,
    /// Who decided.
    pub by: String,
    /// The query whose answer decided, recorded with the decision; an
    /// attempt settled by a query may be `pending` as well as `unknown`.
    pub asking: Option<super::queries::Asking>,
}
