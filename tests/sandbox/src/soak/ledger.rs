//! What the clients asked for and were told, and the verdict: the
//! supplier's counters and the journal, order by order.

use super::Ctx;
use super::client::Pay;
use super::stage::Stage;
use crate::sim::Supplier;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

/// What a client was told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer {
    /// An outcome (200), in this state.
    Outcome {
        /// `succeeded`, `pending`, `failed` or `unknown`.
        state: String,
    },
    /// A refusal.
    Refused {
        /// The HTTP status.
        status: u16,
        /// The API's error code.
        code: String,
    },
    /// The connection failed or closed without an answer.
    Unanswered,
    /// The client hung up first.
    HungUp,
}

/// One payment a client asked for.
#[derive(Debug, Clone)]
pub(crate) struct Sent {
    /// The payment.
    pub(crate) pay: Pay,
    /// The last answer it got.
    pub(crate) answer: Answer,
    /// Requests it took.
    pub(crate) requests: u64,
    /// Whether the host owes this client an answer even as it stops.
    pub(crate) promised: bool,
}

/// Every payment of a scenario.
#[derive(Default)]
pub(crate) struct Ledger {
    sent: Mutex<Vec<Sent>>,
    /// Every refusal seen, by code, retried ones included.
    seen: Mutex<BTreeMap<String, u64>>,
}

impl Ledger {
    /// Notes a refusal a client saw, final or not.
    pub(crate) fn saw(&self, code: &str) {
        *self
            .seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(code.to_owned())
            .or_default() += 1;
    }

    /// The refusals seen on the way, retried ones included: `3 journal_busy, 1 stopping`.
    pub(crate) fn refusals(&self) -> String {
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.is_empty() {
            return "none".to_owned();
        }
        seen.iter()
            .map(|(code, n)| format!("{n} {code}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Notes a payment.
    pub(crate) fn push(&self, sent: Sent) {
        self.sent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(sent);
    }

    /// Every payment so far.
    pub(crate) fn all(&self) -> Vec<Sent> {
        self.sent.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Requests sent, retries included.
    pub(crate) fn requests(&self) -> u64 {
        self.all().iter().map(|s| s.requests).sum()
    }

    /// How many payments were told `state`.
    pub(crate) fn told(&self, state: &str) -> usize {
        self.all()
            .iter()
            .filter(|s| matches!(&s.answer, Answer::Outcome { state: t } if t == state))
            .count()
    }

    /// How many payments were refused with `code`.
    pub(crate) fn refused(&self, code: &str) -> usize {
        self.all()
            .iter()
            .filter(|s| matches!(&s.answer, Answer::Refused { code: c, .. } if c == code))
            .count()
    }
}

/// A scenario's counts of what must never happen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Orders whose money moved with no journal attempt that says so or may.
    pub lost: u64,
    /// Orders with more than one payment call at the supplier.
    pub doubled: u64,
    /// Attempts left in flight, and clients left unanswered where an
    /// answer was promised.
    pub stuck: u64,
    /// Whatever else the scenario forbids.
    pub wrong: u64,
}

impl Tally {
    /// Adds another tally.
    pub fn add(&mut self, other: &Tally) {
        self.lost += other.lost;
        self.doubled += other.doubled;
        self.stuck += other.stuck;
        self.wrong += other.wrong;
    }

    /// Whether nothing went wrong.
    pub fn is_clean(&self) -> bool {
        *self == Tally::default()
    }
}

/// The verdict on `ledger`'s orders: the simulator's counters against the
/// journal of `stage`, read once its hosts are quiet.
pub(crate) async fn verdict(
    ctx: &Ctx,
    stage: &Stage,
    ledger: &Ledger,
) -> anyhow::Result<(u64, Tally)> {
    let attempts = stage.attempts().await?;
    let mut journal: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for a in &attempts {
        journal
            .entry((
                a["connector"].as_str().unwrap_or("").to_owned(),
                a["order_id"].as_str().unwrap_or("").to_owned(),
            ))
            .or_default()
            .push(a["state"].as_str().unwrap_or("").to_owned());
    }
    let sent = ledger.all();
    let orders: BTreeSet<(&'static str, &str)> = sent
        .iter()
        .map(|s| (s.pay.connector, s.pay.order.as_str()))
        .collect();
    let mut tally = Tally::default();
    let mut lost = BTreeSet::new();
    for &(connector, order) in &orders {
        let supplier = Supplier::from_name(connector).expect("one of the four suppliers");
        let calls = ctx.sim.pay_calls(supplier, order);
        let states = journal
            .get(&(connector.to_owned(), order.to_owned()))
            .cloned()
            .unwrap_or_default();
        if calls > 1 {
            tally.doubled += 1;
            eprintln!("soak: doubled: {connector} {order}: {calls} calls; journal {states:?}");
        }
        let found = states.iter().any(|s| {
            matches!(
                s.as_str(),
                "succeeded" | "pending" | "unknown" | "in-flight"
            )
        });
        if calls > 0 && !found {
            lost.insert((connector, order));
            eprintln!("soak: lost: {connector} {order}: {calls} calls; journal {states:?}");
        }
        let in_flight = states.iter().filter(|s| *s == "in-flight").count() as u64;
        if in_flight > 0 {
            eprintln!("soak: stuck: {connector} {order}: journal {states:?}");
        }
        tally.stuck += in_flight;
    }
    // A client told `succeeded` for an order the journal does not hold as
    // one whose money may have moved is a loss as well.
    for s in &sent {
        if matches!(&s.answer, Answer::Outcome { state } if state == "succeeded") {
            let states = journal
                .get(&(s.pay.connector.to_owned(), s.pay.order.clone()))
                .cloned()
                .unwrap_or_default();
            if !states.iter().any(|t| t == "succeeded" || t == "unknown")
                && lost.insert((s.pay.connector, s.pay.order.as_str()))
            {
                eprintln!(
                    "soak: lost: {} {} was told succeeded; journal {states:?}",
                    s.pay.connector, s.pay.order
                );
            }
        }
        if s.promised && s.answer == Answer::Unanswered {
            tally.stuck += 1;
            eprintln!(
                "soak: stuck: {} {}: the client's connection closed unanswered",
                s.pay.connector, s.pay.order
            );
        }
    }
    tally.lost = lost.len() as u64;
    Ok((orders.len() as u64, tally))
}
