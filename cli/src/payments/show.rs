//! `payhost payments show`: one attempt with its outcome.

use super::super::remote::ServerArgs;
use super::super::{Exit, exit, output, print_json};
use super::open;
use payhost::Attempt;
use payhost::service::AttemptAnswer;
use std::path::Path;

/// Shows attempt `id`, and every attempt for its order, from the local
/// journal or from the host `remote` names.
pub(super) async fn run(
    config: &Path,
    remote: &ServerArgs,
    id: i64,
    json: bool,
) -> Result<u8, Exit> {
    let answer: AttemptAnswer = match remote.remote()? {
        Some(server) => server.get(&format!("/v1/payments/{id}"), &[]).await?,
        None => {
            let journal = open(config).await?;
            let (attempt, history) = journal.history(id).await.map_err(Exit::journal)?;
            let queries = journal.queries(id).await.map_err(Exit::journal)?;
            AttemptAnswer {
                attempt,
                history,
                queries,
            }
        }
    };
    let AttemptAnswer {
        attempt,
        history,
        queries,
    } = &answer;
    if json {
        print_json(&answer)?
    } else {
        print_attempt(attempt);
        println!("\nthe order's attempts, oldest first:");
        for a in history {
            println!(
                "  {:>5} {} {:<10} {}{}",
                a.id,
                output::time(a.created_at),
                a.state,
                a.resolved_by
                    .as_deref()
                    .map(|by| format!("resolved by {}", output::shown(by)))
                    .unwrap_or_default(),
                if a.id == attempt.id {
                    "  (this one)"
                } else {
                    ""
                }
            );
        }
        print_queries(queries);
    }
    Ok(exit::OK)
}

/// The queries about the attempt, oldest first: when, who, the answer,
/// the supplier's code and message or the error, and whether it settled.
fn print_queries(queries: &[payhost::QueryRecord]) {
    if queries.is_empty() {
        return;
    }
    println!("\nqueries to the supplier, oldest first:");
    for q in queries {
        let said = match (&q.outcome, &q.error) {
            (Some(o), _) => format!(
                "code {} {}",
                o.supplier_code.as_deref().unwrap_or("-"),
                o.supplier_message.as_deref().unwrap_or("")
            ),
            (None, Some(e)) => format!("{}: {}", e.kind, e.message),
            (None, None) => String::new(),
        };
        println!(
            "  {} {:<10} {:<9} {}{}",
            output::time(q.at),
            output::shown(&q.by),
            q.answer,
            output::shown(said.trim()),
            if q.settled { "  (settled it)" } else { "" }
        );
    }
}

/// The attempt as rows, every value escaped.
pub(super) fn print_attempt(a: &Attempt) {
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
    row("created", &output::time(a.created_at));
    row("updated", &output::time(a.updated_at));
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
    if let Some(at) = a.resolved_at {
        row("resolved at", &output::time(at));
    }
    if let Some(o) = &a.supplier_outcome {
        row("before", o.state.as_str());
        if let Some(e) = &o.error {
            row("before kind", e.kind.as_str());
            row("before message", &e.message);
        }
        if let Some(code) = &o.supplier_code {
            row("before code", code);
        }
    }
    if let Some(late) = &a.late_outcome {
        row("late outcome", late.state.as_str());
    }
}
