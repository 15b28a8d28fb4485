//! `payhost payments list`: attempts, newest first, narrowed as asked.

use super::super::{Exit, exit, output, print_json};
use super::open;
use payhost::{Attempt, MAX_PAGE, PaymentOutcome, Search};
use std::path::Path;

/// Lists up to `limit` attempts that `search` finds, page by page.
pub(super) async fn run(
    config: &Path,
    search: Search,
    limit: usize,
    json: bool,
) -> Result<u8, Exit> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let mut filter = search.filter(now).map_err(Exit::usage)?;
    let journal = open(config).await?;
    let mut attempts: Vec<Attempt> = Vec::new();
    let mut next = None;
    while attempts.len() < limit {
        filter.limit = (limit - attempts.len()).min(MAX_PAGE);
        let page = journal.find(&filter).await.map_err(Exit::journal)?;
        attempts.extend(page.attempts);
        next = page.next;
        match next {
            Some(cursor) => filter.before = Some(cursor),
            None => break,
        }
    }
    if json {
        print_json(&attempts)?;
        return Ok(exit::OK);
    }
    println!(
        "{:>5} {:<20} {:<10} {:<18} {:<19} {:>12} {:<4} {:<10} KIND",
        "ID", "CREATED (UTC)", "CONNECTOR", "ORDER", "CARD", "AMOUNT", "CCY", "STATE"
    );
    for a in &attempts {
        println!(
            "{:>5} {:<20} {:<10} {:<18} {:<19} {:>12} {:<4} {:<10} {}",
            a.id,
            output::time(a.created_at),
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
    if let Some(cursor) = next {
        println!("more: add --cursor {cursor}");
    }
    Ok(exit::OK)
}
