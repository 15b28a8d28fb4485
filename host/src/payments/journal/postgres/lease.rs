//! This host's lease in the PostgreSQL journal, and the sweep that marks
//! the attempts of lapsed hosts `unknown`.

use super::*;

impl Inner {
    /// Refreshes this instance's lease, then marks `unknown` every attempt
    /// in flight of an instance whose lease lapsed; forgets lapsed instances.
    pub(super) async fn sweep(
        &self,
        tx: &deadpool_postgres::Transaction<'_>,
    ) -> Result<Vec<i64>, tokio_postgres::Error> {
        let lease_ms = self.options.lease.as_millis() as i64;
        tx.execute(
            "INSERT INTO instances (instance, pid, expires_at)
             VALUES ($1, $2, now() + $3 * interval '1 millisecond')
             ON CONFLICT (instance) DO UPDATE SET expires_at = GREATEST(instances.expires_at, excluded.expires_at)",
            &[
                &self.instance,
                &i64::from(std::process::id()),
                &(lease_ms as f64),
            ],
        )
        .await?;
        let outcome = serde_json::to_string(&lapsed()).unwrap_or_default();
        let rows = tx
            .query(
                "UPDATE attempts SET state = 'unknown', outcome = $1, lapsed = TRUE,
                        updated_at = extract(epoch from now())::bigint
                 WHERE state = 'in-flight' AND (instance IS NULL OR (instance <> $2 AND instance NOT IN
                       (SELECT instance FROM instances WHERE expires_at > now())))
                 RETURNING id",
                &[&outcome, &self.instance],
            )
            .await?;
        tx.execute("DELETE FROM instances WHERE expires_at <= now()", &[])
            .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    pub(super) async fn renew(&self) -> Result<(), JournalError> {
        let started = super::super::fence::moment();
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(|e| self.fail(e))?;
        let ids = self.sweep(&tx).await.map_err(|e| self.fail(e))?;
        tx.commit().await.map_err(|e| self.fail(e))?;
        self.held.renewed(started);
        rules::warn_swept(&ids);
        Ok(())
    }
}
