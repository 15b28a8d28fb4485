//! `payhost payments list`: attempts, newest first, narrowed as asked.

use super::super::remote::ServerArgs;
use super::super::{Exit, exit, output, print_json};
use super::open;
use payhost::{Attempt, Filter, MAX_PAGE, Page, PaymentOutcome, Search};
use std::path::Path;

/// Lists up to `limit` attempts that `search` finds, page by page, from
/// the local journal or from the host `remote` names.
pub(super) async fn run(
    config: &Path,
    remote: &ServerArgs,
    search: Search,
    limit: usize,
    json: bool,
) -> Result<u8, Exit> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    // Checked here, so that a mistake reads the same either way.
    let mut filter = search.filter(now).map_err(Exit::usage)?;
    let server = remote.remote()?;
    let journal = match server {
        Some(_) => None,
        None => Some(open(config).await?),
    };
    let mut attempts: Vec<Attempt> = Vec::new();
    let mut next = None;
    while attempts.len() < limit {
        filter.limit = (limit - attempts.len()).min(MAX_PAGE);
        let page: Page = match (&server, &journal) {
            (Some(server), _) => server.get("/v1/payments", &query(&filter)).await?,
            (None, Some(journal)) => journal.find(&filter).await.map_err(Exit::journal)?,
            (None, None) => unreachable!("a journal is opened when no server is named"),
        };
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

/// `filter` as the query of `GET /v1/payments`.
fn query(filter: &Filter) -> Vec<(&'static str, String)> {
    let mut query = vec![("limit", filter.limit.to_string())];
    if !filter.states.is_empty() {
        let states: Vec<&str> = filter.states.iter().map(|s| s.as_str()).collect();
        query.push(("state", states.join(",")));
    }
    for (key, value) in [("connector", &filter.connector), ("order", &filter.order)] {
        if let Some(v) = value {
            query.push((key, v.clone()));
        }
    }
    for (key, value) in [
        ("since", filter.since),
        ("until", filter.until),
        ("cursor", filter.before),
    ] {
        if let Some(v) = value {
            query.push((key, v.to_string()));
        }
    }
    if let Some(r) = filter.resolved {
        query.push(("resolved", r.to_string()));
    }
    query
}
