//! `payhost payments list|show|resolve`: the journal, one file per
//! subcommand; this one holds their arguments.

mod list;
mod resolve;
mod show;

use super::remote::ServerArgs;
use super::{Exit, load_settings};
use clap::{Subcommand, ValueEnum};
use payhost::Journal;
use std::path::Path;

/// The payment journal: every attempt, its state and outcome (cards masked).
#[derive(Subcommand)]
pub(crate) enum Payments {
    /// Attempts, newest first, narrowed by state, connector, order, time
    /// and resolution: `payments list --state unknown,pending --since 24h`.
    List {
        /// States, comma-separated: in-flight, succeeded, pending, failed,
        /// unknown.
        #[arg(long)]
        state: Option<String>,
        /// Only this connector's.
        #[arg(long)]
        connector: Option<String>,
        /// Only this order's.
        #[arg(long)]
        order: Option<String>,
        /// Made at or after: Unix seconds, an RFC 3339 time
        /// (2026-12-05T08:00:00Z), or a duration ago (24h).
        #[arg(long)]
        since: Option<String>,
        /// Made before, written as --since is.
        #[arg(long)]
        until: Option<String>,
        /// Only attempts a person settled (`true`) or not (`false`).
        #[arg(long)]
        resolved: Option<bool>,
        /// Start after this attempt id (the `next` a page printed).
        #[arg(long)]
        cursor: Option<i64>,
        /// How many at most.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        remote: ServerArgs,
    },
    /// One attempt with its outcome, and every attempt for its order.
    Show {
        /// The attempt's id.
        id: i64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        remote: ServerArgs,
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
        #[command(flatten)]
        remote: ServerArgs,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Stated {
    /// The supplier took the money.
    Succeeded,
    /// No money moved.
    Failed,
}

pub(super) async fn open(config: &Path) -> Result<Journal, Exit> {
    let settings = load_settings(config)?;
    Journal::open_target(&settings.journal_target(), settings.journal_options())
        .await
        .map_err(Exit::journal)
}

impl Payments {
    pub(crate) async fn run(self, config: &Path) -> Result<u8, Exit> {
        match self {
            Payments::List {
                state,
                connector,
                order,
                since,
                until,
                resolved,
                cursor,
                limit,
                json,
                remote,
            } => {
                let search = payhost::Search {
                    state,
                    connector,
                    order,
                    since,
                    until,
                    resolved,
                    cursor,
                    limit: None,
                };
                list::run(config, &remote, search, limit, json).await
            }
            Payments::Show { id, json, remote } => show::run(config, &remote, id, json).await,
            Payments::Resolve {
                id,
                query,
                outcome,
                note,
                remote,
            } => resolve::run(config, &remote, id, query, outcome, note).await,
        }
    }
}
