//! The PostgreSQL backend, for several hosts sharing one journal: a pool
//! of connections, versioned migrations, leases timed by the database's own
//! clock, and the rule "an order has at most one attempt in flight,
//! unknown or paid" kept by a unique index, not by a check before insert.

use super::rules::{self, Next};
use super::types::*;
use crate::payments::attempt::{Attempt, AttemptState};
use crate::payments::model::{PaymentOutcome, PaymentRequest};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use parking_lot::Mutex;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio_postgres::error::SqlState;
use tokio_postgres::{NoTls, Row};

mod attempts;
mod lease;
mod queries;
mod schema;

use schema::MIGRATIONS;

/// What one look at a begin found.
enum Tried {
    /// Decided (`None`: the key's attempt is in flight).
    Done(Option<Begin>),
    /// Lapsed hosts' attempts were in the way and are now unknown: look again.
    Swept,
}

/// The PostgreSQL journal.
pub(crate) struct PgJournal {
    inner: Arc<Inner>,
    lease: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

struct Inner {
    url: String,
    pool: Pool,
    instance: String,
    options: JournalOptions,
    health: Mutex<JournalHealth>,
    closed: AtomicBool,
    /// How long writes waited for a pooled connection.
    waits: super::waits::LockWaits,
    /// This host's lease as its own clock knows it.
    held: Arc<super::fence::Lease>,
}

/// `postgres://user:secret@host/db` shown without its password.
fn shown(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            // libpq takes the password as a parameter too.
            if u.query_pairs()
                .any(|(k, _)| k.eq_ignore_ascii_case("password"))
            {
                let pairs: Vec<(String, String)> = u
                    .query_pairs()
                    .map(|(k, v)| {
                        let v = if k.eq_ignore_ascii_case("password") {
                            "***".to_owned()
                        } else {
                            v.into_owned()
                        };
                        (k.into_owned(), v)
                    })
                    .collect();
                u.query_pairs_mut().clear().extend_pairs(pairs);
            }
            u.to_string()
        }
        Err(_) => "the PostgreSQL URL".to_owned(),
    }
}

impl Inner {
    fn fail(&self, e: impl std::fmt::Display + 'static) -> JournalError {
        // The server's own words, where it gave them ("db error" says none).
        let message = match (&e as &dyn std::any::Any)
            .downcast_ref::<tokio_postgres::Error>()
            .and_then(tokio_postgres::Error::as_db_error)
        {
            Some(db) => format!("{} ({})", db.message(), db.code().code()),
            None => e.to_string(),
        };
        JournalError::Postgres {
            url: shown(&self.url),
            message,
        }
    }

    fn health(&self) -> parking_lot::MutexGuard<'_, JournalHealth> {
        self.health.lock()
    }

    async fn client(&self) -> Result<deadpool_postgres::Client, JournalError> {
        let started = std::time::Instant::now();
        let got = tokio::time::timeout(self.options.busy_timeout, self.pool.get()).await;
        self.waits.observe(started.elapsed());
        got.map_err(|_| JournalError::Busy {
            location: shown(&self.url),
            waited: self.options.busy_timeout,
        })?
        .map_err(|e| self.fail(e))
    }
}

impl PgJournal {
    /// Connects, migrates the schema to this version, takes a lease for
    /// this process and marks attempts of lapsed instances `unknown`.
    pub(crate) async fn connect(
        url: &str,
        options: JournalOptions,
    ) -> Result<PgJournal, JournalError> {
        let fail = |e: &dyn std::fmt::Display| JournalError::Postgres {
            url: shown(url),
            message: e.to_string(),
        };
        options.check()?;
        let mut config: tokio_postgres::Config = url.parse().map_err(|e| fail(&e))?;
        // A server that stops answering without closing the connection (a
        // host gone, a network cut) must not hold a payment, a lease
        // renewal or a shutdown for hours: connecting, and any write the
        // server does not acknowledge, give up within the lease (unless
        // the URL says otherwise); each call is bounded by it as well.
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(options.lease);
        }
        if config.get_tcp_user_timeout().is_none() {
            config.tcp_user_timeout(options.lease);
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(16)
            .build()
            .map_err(|e| fail(&e))?;
        let inner = Arc::new(Inner {
            url: url.to_owned(),
            pool,
            instance: uuid::Uuid::new_v4().to_string(),
            options,
            health: Mutex::new(JournalHealth::writable()),
            closed: AtomicBool::new(false),
            waits: super::waits::LockWaits::default(),
            held: super::fence::Lease::new(options.lease, super::fence::moment()),
        });
        {
            let mut client = inner.client().await?;
            let tx = client.transaction().await.map_err(|e| inner.fail(e))?;
            // One host migrates at a time.
            tx.execute("SELECT pg_advisory_xact_lock(7466870)", &[])
                .await
                .map_err(|e| inner.fail(e))?;
            tx.execute(
                "CREATE TABLE IF NOT EXISTS payhost_schema (version INTEGER NOT NULL)",
                &[],
            )
            .await
            .map_err(|e| inner.fail(e))?;
            let version: i32 = tx
                .query_opt("SELECT version FROM payhost_schema", &[])
                .await
                .map_err(|e| inner.fail(e))?
                .map_or(0, |r| r.get(0));
            let known = MIGRATIONS.len() as i32;
            if version > known {
                return Err(JournalError::Newer {
                    location: shown(&inner.url),
                    version: version.into(),
                    known: known.into(),
                });
            }
            for migration in &MIGRATIONS[version as usize..] {
                tx.batch_execute(migration)
                    .await
                    .map_err(|e| inner.fail(e))?;
            }
            tx.execute("DELETE FROM payhost_schema", &[])
                .await
                .map_err(|e| inner.fail(e))?;
            tx.execute(
                "INSERT INTO payhost_schema (version) VALUES ($1)",
                &[&known],
            )
            .await
            .map_err(|e| inner.fail(e))?;
            tx.commit().await.map_err(|e| inner.fail(e))?;
        }
        inner.renew().await?;
        let renewing = inner.clone();
        let lease = tokio::spawn(async move {
            let every = renewing.options.lease / 3;
            loop {
                tokio::time::sleep(every).await;
                let result = answered_within(
                    renewing.options.lease,
                    || shown(&renewing.url),
                    renewing.renew(),
                )
                .await;
                renewing.health().record(result);
            }
        });
        Ok(PgJournal {
            inner,
            lease: Mutex::new(Some(lease)),
        })
    }

    pub(crate) fn instance(&self) -> &str {
        &self.inner.instance
    }

    /// Takes no new attempt from now on.
    pub(crate) fn refuse_new(&self) {
        self.inner.closed.store(true, Ordering::SeqCst);
    }

    /// How it was opened.
    pub(crate) fn options(&self) -> JournalOptions {
        self.inner.options
    }

    pub(crate) fn url(&self) -> String {
        shown(&self.inner.url)
    }

    pub(crate) fn health(&self) -> JournalHealth {
        self.inner.health().clone()
    }

    /// Ends this instance: its attempts still in flight become `unknown`,
    /// its lease is given up.
    pub(crate) async fn close(&self) -> Result<(), JournalError> {
        let inner = &self.inner;
        inner.closed.store(true, Ordering::SeqCst);
        if let Some(lease) = self.lease.lock().take() {
            lease.abort();
        }
        inner.held.give_up();
        let mut client = inner.client().await?;
        let tx = client.transaction().await.map_err(|e| inner.fail(e))?;
        let outcome = serde_json::to_string(&lapsed()).unwrap_or_default();
        let rows = tx
            .query(
                "UPDATE attempts SET state = 'unknown', outcome = $1, lapsed = TRUE,
                        updated_at = extract(epoch from now())::bigint
                 WHERE state = 'in-flight' AND instance = $2 RETURNING id",
                &[&outcome, &inner.instance],
            )
            .await
            .map_err(|e| inner.fail(e))?;
        tx.execute(
            "DELETE FROM instances WHERE instance = $1",
            &[&inner.instance],
        )
        .await
        .map_err(|e| inner.fail(e))?;
        tx.commit().await.map_err(|e| inner.fail(e))?;
        for r in rows {
            let id: i64 = r.get(0);
            tracing::warn!(
                "payment attempt {id} was still in flight when this host stopped: its outcome is unknown; resolve it with `payhost payments resolve {id}`"
            );
        }
        Ok(())
    }
}

impl Drop for PgJournal {
    fn drop(&mut self) {
        if let Some(lease) = self.lease.lock().take() {
            lease.abort();
        }
    }
}

super::store::store_by_its_methods!(
    PgJournal,
    location: |journal| journal.url(),
    close: |journal| journal.close().await
);

#[cfg(test)]
mod tests {
    use super::shown;

    #[test]
    fn a_url_is_shown_without_its_password_wherever_it_is_written() {
        assert_eq!(
            shown("postgres://payhost:hunter2@db.example/payments"),
            "postgres://payhost:***@db.example/payments"
        );
        let with_parameter =
            shown("postgres://payhost@db.example/payments?sslmode=disable&PASSWORD=hunter2");
        assert!(!with_parameter.contains("hunter2"), "{with_parameter}");
        assert!(
            with_parameter.contains("sslmode=disable"),
            "{with_parameter}"
        );
        assert_eq!(shown("host=db password=hunter2"), "the PostgreSQL URL");
    }
}
