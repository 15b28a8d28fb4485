//! Making one payment: the request validated, the method checked against
//! the connector's, the attempt journaled before the connector runs and
//! updated after, and a key seen before answered with its stored outcome.

use super::error::PayError;
use crate::payments::journal::{Begin, Journal};
use crate::payments::model::{
    ConnectorError, ErrorKind, PaymentOutcome, PaymentRequest, PaymentState,
};
use crate::policy::limits::BUSY_WAIT;
use crate::registry::Registry;
use std::time::Duration;

/// A payment as the journal saw it.
#[derive(Debug, Clone)]
pub struct Executed {
    /// The journal's attempt id (`None` without a journal).
    pub id: Option<i64>,
    /// Whether the outcome is an earlier attempt's, replayed for its key.
    pub replayed: bool,
    /// The outcome.
    pub outcome: PaymentOutcome,
}

/// Executes payments through a registry's connectors, journaling each
/// attempt when it has a journal.
#[derive(Default)]
pub struct Executor {
    journal: Option<Journal>,
}

impl Executor {
    /// An executor that journals in `journal`, if any.
    pub fn new(journal: Option<Journal>) -> Executor {
        Executor { journal }
    }

    /// The journal, if payments are journaled.
    pub fn journal(&self) -> Option<&Journal> {
        self.journal.as_ref()
    }

    /// Validates, journals and makes one payment: with a journal, the attempt
    /// is written before the connector runs and updated after, and a key
    /// seen before replays its outcome.
    pub async fn execute(
        &self,
        registry: &Registry,
        connector: &str,
        mut request: PaymentRequest,
    ) -> Result<Executed, PayError> {
        let connector = registry.connector(connector)?;
        request.validate()?;
        let kind = request.method.kind();
        if !connector.info.methods.contains(&kind) {
            return Err(PayError::MethodNotSupported {
                name: connector.name().to_owned(),
                method: kind.to_string(),
                supported: connector
                    .info
                    .methods
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        // A place first: a busy connector refuses before anything is
        // journaled or sent.
        let Some(_place) = connector.place(BUSY_WAIT).await else {
            return Err(PayError::Busy {
                name: connector.name().to_owned(),
                limit: connector.limits.max_concurrent,
                wait: BUSY_WAIT,
            });
        };
        // Then one of the host's instances, so that the pool running out
        // is a clear refusal, not the connector's fault.
        let Some(_slot) = registry.runtime().slot(BUSY_WAIT).await else {
            return Err(PayError::HostBusy {
                limit: registry.runtime().max_instances(),
                wait: BUSY_WAIT,
            });
        };
        let Some(journal) = &self.journal else {
            let outcome = connector.pay(registry.runtime(), &request).await;
            return Ok(Executed {
                id: None,
                replayed: false,
                outcome,
            });
        };
        let wait = connector.limits.timeout + Duration::from_secs(5);
        match journal.begin(connector.name(), &request, wait).await? {
            Begin::Replay(attempt) => {
                let outcome = attempt.outcome.unwrap_or_else(|| {
                    PaymentOutcome::host(
                        PaymentState::Unknown,
                        ConnectorError::host(
                            ErrorKind::InProgress,
                            format!("attempt {} with this key is still in flight", attempt.id),
                        ),
                    )
                });
                Ok(Executed {
                    id: Some(attempt.id),
                    replayed: true,
                    outcome,
                })
            }
            Begin::New(id) => {
                let outcome = connector.pay(registry.runtime(), &request).await;
                if let Err(e) = journal.finish(id, &outcome) {
                    // The outcome is returned all the same; the attempt stays
                    // in flight in the journal and becomes unknown on restart.
                    tracing::error!("{e}");
                }
                Ok(Executed {
                    id: Some(id),
                    replayed: false,
                    outcome,
                })
            }
        }
    }
}
