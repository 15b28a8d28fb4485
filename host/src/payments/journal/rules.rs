//! The journal's rules, once for both stores: what `begin` does about what
//! is in the way of a new attempt, what a `finish` that moved nothing
//! means, when an operator may resolve an attempt, and the warnings an
//! operator reads. The stores find the facts with their own SQL and carry
//! out what these decide.

use super::types::JournalError;
use crate::payments::attempt::{Attempt, AttemptState};
use crate::payments::model::{PaymentOutcome, PaymentRequest};

/// The states in which money may have moved, as an SQL list:
/// `'in-flight', 'unknown', 'succeeded', 'pending'`.
pub(crate) fn may_have_gone_through_sql() -> String {
    AttemptState::MAY_HAVE_GONE_THROUGH
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a store found in the way of a new attempt.
pub(crate) struct InTheWay {
    /// The attempt already under the request's key, and its fingerprint.
    pub(crate) by_key: Option<(Attempt, String)>,
    /// The newest attempt of the order in a state where money may have
    /// moved: its id and state.
    pub(crate) by_order: Option<(i64, AttemptState)>,
}

/// What `begin` does next.
pub(crate) enum Next {
    /// Nothing is in the way: write the new attempt.
    Insert,
    /// The key's attempt has ended: its outcome is the answer.
    Replay(Box<Attempt>),
    /// The key's attempt is in flight: wait for it, then look again.
    Wait,
    /// An attempt in flight is in the way and may be a dead host's: mark
    /// the attempts of lapsed hosts unknown (the sweep), then look again.
    Sweep,
}

/// What `begin` does about `way`; `swept` says the sweep has run for this
/// look (it runs only when an attempt in flight is in the way, not on every
/// payment). A key used for another payment, or an order that may be paid
/// already, is refused.
pub(crate) fn begin_next(
    connector: &str,
    request: &PaymentRequest,
    fingerprint: &str,
    way: InTheWay,
    swept: bool,
) -> Result<Next, JournalError> {
    if let Some((attempt, existing)) = way.by_key {
        if existing != fingerprint {
            return Err(JournalError::KeyReused {
                key: request.idempotency_key.clone(),
                id: attempt.id,
            });
        }
        return Ok(match (attempt.state, swept) {
            (AttemptState::InFlight, false) => Next::Sweep,
            (AttemptState::InFlight, true) => Next::Wait,
            _ => Next::Replay(Box::new(attempt)),
        });
    }
    match way.by_order {
        None => Ok(Next::Insert),
        Some((_, AttemptState::InFlight)) if !swept => Ok(Next::Sweep),
        Some((id, state)) => Err(JournalError::OrderBusy {
            connector: connector.to_owned(),
            order: request.order_id.clone(),
            id,
            state,
            advice: busy_advice(state),
        }),
    }
}

/// What to do about an order that is busy, by the state of its attempt.
pub(crate) fn busy_advice(state: AttemptState) -> &'static str {
    match state {
        AttemptState::Unknown => {
            "it may have gone through: resolve it first (`payhost payments resolve`)"
        }
        AttemptState::InFlight => "wait for it to finish",
        _ => "the order is paid; do not pay it again",
    }
}

/// A `finish` whose update moved nothing (the attempt is no longer in
/// flight under this host): recorded already when what is stored is this
/// very outcome (a retry after a write whose answer was lost); otherwise
/// the outcome is late, kept beside the attempt's state for the operator.
pub(crate) fn finished_already(stored: Option<&str>, outcome_json: &str) -> bool {
    stored == Some(outcome_json)
}

/// The warning for a late outcome.
pub(crate) fn warn_late(id: i64, outcome: &PaymentOutcome, state: AttemptState) {
    tracing::warn!(
        "payment attempt {id} ended {} after it had been marked unknown (this host's lease lapsed); it stays {state}, and the late outcome is kept beside it for the operator",
        outcome.state
    );
}

/// Whether attempt `id` may be resolved now: it exists, it is `unknown`
/// or `pending` (which the supplier settles later: a query's answer, or a
/// person who heard from the supplier, moves it), and no host that paused
/// past its lease and came back may still be waiting for the supplier's
/// answer (`running`), which comes first.
pub(crate) fn may_resolve(
    id: i64,
    state: Option<AttemptState>,
    running: bool,
) -> Result<(), JournalError> {
    match state {
        None => Err(JournalError::NotFound(id)),
        Some(AttemptState::Unknown) if running => Err(JournalError::StillRunning { id }),
        Some(AttemptState::Unknown | AttemptState::Pending) => Ok(()),
        Some(state) => Err(JournalError::NotUnknown { id, state }),
    }
}

/// The warning for attempts swept: in flight when their host stopped.
pub(crate) fn warn_swept(ids: &[i64]) {
    for id in ids {
        tracing::warn!(
            "payment attempt {id} was in flight when its host stopped: its outcome is unknown; resolve it with `payhost payments resolve {id}`"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payments::model::{Money, PaymentMethod};

    fn request() -> PaymentRequest {
        PaymentRequest {
            order_id: "O-1".into(),
            client_order_id: None,
            method: PaymentMethod::Balance,
            amount: Money {
                amount: "1.00".into(),
                currency: "USD".into(),
            },
            idempotency_key: "k-1".into(),
            attributes: Default::default(),
        }
    }

    fn attempt(state: AttemptState) -> Attempt {
        Attempt {
            id: 7,
            idempotency_key: "k-1".into(),
            connector: "atlas".into(),
            order_id: "O-1".into(),
            method: "balance".into(),
            card: None,
            amount: "1.00".into(),
            currency: "USD".into(),
            state,
            outcome: None,
            created_at: 0,
            updated_at: 0,
            resolution: None,
            resolved_by: None,
            instance: None,
            late_outcome: None,
            resolved_at: None,
            supplier_outcome: None,
        }
    }

    fn next(way: InTheWay, swept: bool) -> Result<Next, JournalError> {
        begin_next("atlas", &request(), "fp", way, swept)
    }

    #[test]
    fn what_is_in_the_way_decides_what_begin_does() {
        let by_key = |state, fp: &str| InTheWay {
            by_key: Some((attempt(state), fp.to_owned())),
            by_order: None,
        };
        let by_order = |state| InTheWay {
            by_key: None,
            by_order: Some((7, state)),
        };
        let free = InTheWay {
            by_key: None,
            by_order: None,
        };
        assert!(matches!(next(free, false), Ok(Next::Insert)));
        assert!(matches!(
            next(by_key(AttemptState::Succeeded, "other"), false),
            Err(JournalError::KeyReused { id: 7, .. })
        ));
        assert!(matches!(
            next(by_key(AttemptState::InFlight, "fp"), false),
            Ok(Next::Sweep)
        ));
        assert!(matches!(
            next(by_key(AttemptState::InFlight, "fp"), true),
            Ok(Next::Wait)
        ));
        assert!(matches!(
            next(by_key(AttemptState::Failed, "fp"), false),
            Ok(Next::Replay(_))
        ));
        assert!(matches!(
            next(by_order(AttemptState::InFlight), false),
            Ok(Next::Sweep)
        ));
        for state in AttemptState::MAY_HAVE_GONE_THROUGH {
            assert!(
                matches!(
                    next(by_order(state), true),
                    Err(JournalError::OrderBusy { id: 7, .. })
                ),
                "{state}"
            );
        }
    }

    #[test]
    fn only_an_unknown_or_pending_attempt_whose_host_is_gone_may_be_resolved() {
        assert!(matches!(
            may_resolve(1, None, false),
            Err(JournalError::NotFound(1))
        ));
        assert!(matches!(
            may_resolve(1, Some(AttemptState::Succeeded), false),
            Err(JournalError::NotUnknown { .. })
        ));
        assert!(matches!(
            may_resolve(1, Some(AttemptState::Unknown), true),
            Err(JournalError::StillRunning { id: 1 })
        ));
        assert!(may_resolve(1, Some(AttemptState::Unknown), false).is_ok());
        // A pending attempt moves when the supplier settles it.
        assert!(may_resolve(1, Some(AttemptState::Pending), false).is_ok());
        assert_eq!(
            may_have_gone_through_sql(),
            "'in-flight', 'unknown', 'succeeded', 'pending'"
        );
    }
}
