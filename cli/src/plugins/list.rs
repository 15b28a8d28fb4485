//! `payhost plugins list`: the plugin directory's connectors, or a running
//! host's live set.

use super::super::remote::Remote;
use super::super::{Exit, exit, host_with_plugins, output, print_json};
use super::inspect::contract_text;
use payhost::service::ConnectorsAnswer;
use payhost::{ConnectorSummary, FailedFile};
use std::path::Path;

/// Asks the host at `server` for its live set.
pub(super) async fn remote(server: &Remote, json: bool) -> Result<u8, Exit> {
    let answer: ConnectorsAnswer = server.get("/v1/connectors", &[]).await?;
    if json {
        print_json(&answer)?;
    } else {
        print_table(&answer);
    }
    Ok(exit::OK)
}

/// Loads the configuration's plugin directory and says what loads.
pub(super) async fn local(config: &Path, json: bool) -> Result<u8, Exit> {
    let (host, results) = host_with_plugins(config).await?;
    let dir = host.settings().plugins_dir();
    let mut answer = ConnectorsAnswer {
        connectors: Vec::new(),
        failed: Vec::new(),
    };
    for result in &results {
        match result {
            Ok(c) => answer.connectors.push(ConnectorSummary::from(&**c)),
            Err(e) => answer.failed.push(FailedFile {
                file: e.file.clone(),
                error: e.reason.clone(),
                kind: e.kind,
                serving: None,
            }),
        }
    }
    if json {
        print_json(&answer)?;
    } else {
        print_table(&answer);
        if results.is_empty() {
            println!("(no .wasm files in {})", dir.display());
        }
    }
    Ok(if answer.failed.is_empty() {
        exit::OK
    } else {
        exit::FAILED
    })
}

/// The connectors as a table: the live ones, then the files that failed.
fn print_table(answer: &ConnectorsAnswer) {
    println!(
        "{:<12} {:<8} {:<28} {:<9} FILE",
        "NAME", "VERSION", "SUPPLIER", "STATE"
    );
    for c in &answer.connectors {
        println!(
            "{:<12} {:<8} {:<28} {:<9} {}",
            output::shown(&c.name),
            output::shown(&c.version),
            output::shown(&c.supplier),
            c.state,
            output::shown(&c.file.display().to_string())
        );
        if let Some(note) = &c.legacy {
            println!("    {} ({note})", contract_text(c));
        }
        if c.granted.unpinned {
            println!("    unpinned: its hidden values may stand anywhere in requests to its hosts");
        }
    }
    for f in &answer.failed {
        println!(
            "{:<12} {:<8} {:<28} {:<9} {}\n    {}",
            output::shown(f.serving.as_deref().unwrap_or("?")),
            "?",
            "?",
            "failed",
            output::shown(&f.file.display().to_string()),
            output::shown(&f.error)
        );
    }
}
