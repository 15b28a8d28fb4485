//! `payhost payments resolve`: an unknown attempt settled by the
//! connector's query or by what the operator found out.

use super::super::remote::ServerArgs;
use super::super::{Exit, exit, host_with_plugins};
use super::show::print_attempt;
use super::{Stated, open};
use payhost::{Attempt, PaymentState, Resolution};
use std::path::Path;

/// Who resolves from this command line: `cli:` and the operating
/// system's user (`$USER`, else `$LOGNAME`, else the user id).
fn by() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| {
            std::fs::metadata("/proc/self")
                .map(|m| {
                    use std::os::unix::fs::MetadataExt as _;
                    format!("uid {}", m.uid())
                })
                .unwrap_or_else(|_| "unknown".to_owned())
        });
    // Kept to letters, digits and `._-`: it is shown, and it is a label.
    let user: String = user
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    format!("cli:{user}")
}

/// Resolves attempt `id` by `query`, or as `outcome` with `note`: here,
/// or on the host `remote` names (which holds the secrets a query needs,
/// and records the token's name).
pub(super) async fn run(
    config: &Path,
    remote: &ServerArgs,
    id: i64,
    query: bool,
    outcome: Option<Stated>,
    note: Option<String>,
) -> Result<u8, Exit> {
    if let Some(server) = remote.remote()? {
        let body = match (query, outcome, note) {
            (true, _, _) => serde_json::json!({ "query": true }),
            (false, Some(outcome), Some(note)) => serde_json::json!({
                "state": match outcome {
                    Stated::Succeeded => "succeeded",
                    Stated::Failed => "failed",
                },
                "note": note,
            }),
            _ => {
                return Err(Exit::usage(anyhow::anyhow!(
                    "pass --query, or --as succeeded|failed with --note"
                )));
            }
        };
        let updated: Attempt = server
            .post(&format!("/v1/payments/{id}/resolve"), &body)
            .await?;
        print_attempt(&updated);
        return Ok(exit::OK);
    }
    let journal = open(config).await?;
    let resolution = if query {
        let attempt = journal.get(id).await.map_err(Exit::journal)?;
        let (host, _) = host_with_plugins(config).await?;
        let connector = host
            .connector(&attempt.connector)
            .map_err(|e| Exit::usage(anyhow::anyhow!("{e}")))?;
        if !connector.can_query {
            return Err(Exit::usage(anyhow::anyhow!(
                "connector `{}` cannot query (its supplier has no status call); ask the supplier and state the outcome it gives (with --as succeeded|failed --note \"...\")",
                attempt.connector
            )));
        }
        let asked = payhost::reconcile::ask(
            &host,
            &journal,
            id,
            &by(),
            payhost::reconcile::Asker::Person,
        )
        .await
        .map_err(|e| match e {
            payhost::reconcile::AskError::Journal(e) => Exit::journal(e),
            held => Exit::code(payhost::Code::QueryInProgress, anyhow::anyhow!("{held}")),
        })?;
        print_attempt(&asked.attempt);
        return match asked.undecided {
            None => Ok(exit::OK),
            Some(why) => Err(Exit::code(
                payhost::Code::Undecided,
                anyhow::anyhow!(
                    "the query is recorded in the attempt's history, and settled nothing: {why}"
                ),
            )),
        };
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
        .resolve(id, &resolution.outcome, &resolution.note, &by())
        .await
        .map_err(Exit::journal)?;
    print_attempt(&updated);
    Ok(exit::OK)
}
