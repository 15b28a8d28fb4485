//! `payhost payments list`: the latest attempts, newest first.

use super::super::{Exit, exit, output, print_json};
use super::open;
use payhost::PaymentOutcome;
use std::path::Path;

/// Lists the latest `limit` attempts.
pub(super) async fn run(config: &Path, limit: usize, json: bool) -> Result<u8, Exit> {
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
