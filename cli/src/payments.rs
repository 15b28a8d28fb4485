//! `payhost payments list|show|resolve`: the journal.

use super::{Exit, exit, host_with_plugins, load_settings, output, print_json};
use clap::{Subcommand, ValueEnum};
use payhost::{Attempt, Journal, PaymentOutcome, PaymentState, Resolution};
use std::path::Path;

/// The payment journal: every attempt, its state and outcome (cards masked).
#[derive(Subcommand)]
pub(crate) enum Payments {
    /// The latest attempts, newest first.
    List {
        /// How many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// One attempt with its outcome.
    Show {
        /// The attempt's id.
        id: i64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Settle an attempt whose outcome is unknown: ask the supplier
    /// (`--query`), or record what you found out yourself (`--as`).
    Resolve {
        /// The attempt's id.
        id: i64,
        /// Ask the connector's query().
        #[arg(long, conflicts_with = "outcome")]
        query: bool,
        /// What happened, as you found out from the supplier.
        #[arg(long = "as", value_enum, requires = "note")]
        outcome: Option<Stated>,
        /// How you know (kept in the journal).
        #[arg(long)]
        note: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Stated {
    /// The supplier took the money.
    Succeeded,
    /// No money moved.
    Failed,
}

async fn open(config: &Path) -> Result<Journal, Exit> {
    let settings = load_settings(config)?;
    Journal::open_target(&settings.journal_target(), settings.journal_options())
        .await
        .map_err(Exit::journal)
}

fn print_attempt(a: &Attempt) {
    let row = |k: &str, v: &str| output::row(14, k, v);
    row("id", &a.id.to_string());
    row("key", &a.idempotency_key);
    row("connector", &a.connector);
    row("order", &a.order_id);
    row("method", &a.method);
    if let Some(card) = &a.card {
        row("card", card);
    }
    row("amount", &format!("{} {}", a.amount, a.currency));
    row("state", a.state.as_str());
    if let Some(o) = &a.outcome {
        if let Some(e) = &o.error {
            row("kind", e.kind.as_str());
            row("message", &e.message);
        }
        if let Some(code) = &o.supplier_code {
            row("supplier code", code);
        }
        if let Some(r) = &o.supplier_reference {
            row("supplier ref", r);
        }
    }
    if let Some(note) = &a.resolution {
        row("resolved", note);
    }
    if let Some(by) = &a.resolved_by {
        row("resolved by", by);
    }
    if let Some(late) = &a.late_outcome {
        row("late outcome", late.state.as_str());
    }
}

impl Payments {
    pub(crate) async fn run(self, config: &Path) -> Result<u8, Exit> {
        match self {
            Payments::List { limit, json } => {
                let attempts = open(config)
                    .await?
                    .list(limit)
                    .await
                    .map_err(Exit::journal)?;
                if json {
                    print_json(&attempts)?;
                } else {
                    println!(
                        "{:>5} {:<10} {:<18} {:<19} {:>12} {:<4} {:<10} KIND",
                        "ID", "CONNECTOR", "ORDER", "CARD", "AMOUNT", "CCY", "STATE"
                    );
                    for a in &attempts {
                        println!(
                            "{:>5} {:<10} {:<18} {:<19} {:>12} {:<4} {:<10} {}",
                            a.id,
                            output::shown(&a.connector),
                            output::shown(&a.order_id),
                            output::shown(a.card.as_deref().unwrap_or("-")),
                            a.amount,
                            a.currency,
                            a.state,
                            a.outcome
                                .as_ref()
                                .and_then(PaymentOutcome::kind)
                                .map_or("-", |k| k.as_str())
                        );
                    }
                }
                Ok(exit::OK)
            }
            Payments::Show { id, json } => {
                let attempt = open(config).await?.get(id).await.map_err(Exit::journal)?;
                if json {
                    print_json(&attempt)?
                } else {
                    print_attempt(&attempt)
                }
                Ok(exit::OK)
            }
            Payments::Resolve {
                id,
                query,
                outcome,
                note,
            } => {
                let journal = open(config).await?;
                let attempt = journal.get(id).await.map_err(Exit::journal)?;
                let resolution = if query {
                    let (host, _) = host_with_plugins(config).await?;
                    let answer = host
                        .query(&attempt.connector, &attempt.order_id)
                        .await
                        .map_err(Exit::usage)?;
                    Resolution::queried(answer).map_err(|e| {
                        Exit::usage(anyhow::anyhow!(
                            "{e} (with --as succeeded|failed --note \"...\")"
                        ))
                    })?
                } else {
                    let (Some(note), Some(outcome)) = (note, outcome) else {
                        return Err(Exit::usage(anyhow::anyhow!(
                            "pass --query, or --as succeeded|failed with --note"
                        )));
                    };
                    let state = match outcome {
                        Stated::Succeeded => PaymentState::Succeeded,
                        Stated::Failed => PaymentState::Failed,
                    };
                    Resolution::stated(state, &note).map_err(Exit::usage)?
                };
                let updated = journal
                    .resolve(id, &resolution.outcome, &resolution.note, "cli")
                    .await
                    .map_err(Exit::journal)?;
                print_attempt(&updated);
                Ok(exit::OK)
            }
        }
    }
}
