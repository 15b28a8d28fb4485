//! `payhost plugins inspect`: what a connector declares, what the operator
//! allows, what it is granted, and a section to paste.

use super::super::remote::Remote;
use super::super::{Exit, exit, host, host_with_plugins, output, print_json};
use payhost::ConnectorSummary;
use std::path::Path;
use std::time::Duration;

/// Inspects `target`: a connector's name or a .wasm file.
pub(super) async fn run(config: &Path, target: &str, json: bool) -> Result<u8, Exit> {
    let connector = if target.ends_with(".wasm") || Path::new(target).is_file() {
        let loaded = host(config)?.check_file(Path::new(target)).await;
        std::sync::Arc::new(loaded.map_err(|e| Exit {
            code: exit::FAILED,
            error: e.into(),
        })?)
    } else {
        let (host, _) = host_with_plugins(config).await?;
        host.connector(target).map_err(Exit::usage)?
    };
    if json {
        print_json(&ConnectorSummary::from(&*connector))?;
    } else {
        print_inspect(&ConnectorSummary::from(&*connector));
    }
    Ok(exit::OK)
}

/// Inspects the connector `name` live on the host at `server`.
pub(super) async fn remote(server: &Remote, name: &str, json: bool) -> Result<u8, Exit> {
    let answer: payhost::service::ConnectorsAnswer = server.get("/v1/connectors", &[]).await?;
    let Some(connector) = answer.connectors.iter().find(|c| c.name == name) else {
        let live: Vec<&str> = answer.connectors.iter().map(|c| c.name.as_str()).collect();
        return Err(Exit::usage(anyhow::anyhow!(
            "no connector `{}` is live there; live: {}",
            output::shown(name),
            if live.is_empty() {
                "none".to_owned()
            } else {
                live.join(", ")
            }
        )));
    };
    if json {
        print_json(connector)?;
    } else {
        print_inspect(connector);
    }
    Ok(exit::OK)
}

/// `contract 0.1.0` from `payhost:connector@0.1.0`.
pub(super) fn contract_text(c: &ConnectorSummary) -> String {
    let version = c.contract.rsplit('@').next().unwrap_or(&c.contract);
    format!("contract {version}")
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "(none)".to_owned()
    } else {
        items.join(", ")
    }
}

fn print_inspect(c: &ConnectorSummary) {
    let row = |k: &str, v: &str| output::row(22, k, v);
    row("name", &c.name);
    row("version", &c.version);
    row("supplier", &c.supplier);
    row(
        "contract",
        &match &c.legacy {
            Some(note) => format!("{} ({note})", c.contract),
            None => c.contract.clone(),
        },
    );
    row("file", &c.file.display().to_string());
    row("sha256", &c.sha256);
    row(
        "publisher",
        &match &c.publisher {
            Some(key) => format!("{key} (signature {})", c.signature),
            None => "none (unsigned)".to_owned(),
        },
    );
    row(
        "methods",
        &c.methods
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    );
    row(
        "query",
        if c.can_query {
            "yes: the reconciler asks the supplier about its unknown and pending payments"
        } else {
            "no: its supplier has no status call; unknown payments are settled by a person"
        },
    );
    println!();
    println!("requested (by the connector's info())");
    row("  hosts", &list_or_none(&c.requested.hosts));
    row("  secrets", &list_or_none(&c.requested.secrets));
    row("  config keys", &list_or_none(&c.requested.config_keys));
    row(
        "  placements",
        &match c.requested.placements.len() {
            0 => "(none declared)".to_owned(),
            n => format!("{n}, in the section below"),
        },
    );
    println!();
    println!("granted (requested ∩ allowed in [connectors.{}])", c.name);
    if !c.granted.configured {
        println!(
            "  payhost.toml has no [connectors.{}] section: nothing is granted",
            c.name
        );
    }
    row("  hosts", &list_or_none(&c.granted.hosts));
    row("  secrets", &list_or_none(&c.granted.secrets));
    row("  config keys", &list_or_none(&c.granted.config_keys));
    if !c.granted.hosts_not_allowed.is_empty() {
        row("  not allowed", &list_or_none(&c.granted.hosts_not_allowed));
    }
    if !c.granted.hosts_not_requested.is_empty() {
        row(
            "  not requested",
            &list_or_none(&c.granted.hosts_not_requested),
        );
    }
    if !c.granted.secrets_missing.is_empty() {
        row(
            "  secrets not set",
            &list_or_none(&c.granted.secrets_missing),
        );
    }
    if c.granted.unpinned {
        row(
            "  placements",
            "unpinned: hidden values may stand anywhere in requests to its hosts (unpinned = true)",
        );
    } else if c.granted.placements.is_empty() {
        row("  placements", "none: no secret or card field may be sent");
    } else {
        println!("  placements (each hidden value only as the whole value of these places)");
        for placement in &c.granted.placements {
            println!("    {}", output::shown(placement));
        }
    }
    if !c.granted.placements_not_allowed.is_empty() {
        println!("  declared, not allowed (requests putting a value there are denied)");
        for placement in &c.granted.placements_not_allowed {
            println!("    {}", output::shown(placement));
        }
    }
    if !c.granted.placements_not_requested.is_empty() {
        println!("  allowed, not declared (not granted)");
        for placement in &c.granted.placements_not_requested {
            println!("    {}", output::shown(placement));
        }
    }
    println!();
    println!("limits per call");
    row(
        "  timeout",
        &format!("{:?}", Duration::from_millis(c.limits.timeout_ms)),
    );
    row(
        "  cpu",
        &format!("{:?}", Duration::from_millis(c.limits.cpu_ms)),
    );
    row("  memory", &format!("{} MiB", c.limits.memory_bytes >> 20));
    row("  requests", &c.limits.max_requests.to_string());
    row("  concurrent", &c.limits.max_concurrent.to_string());
    row(
        "  response size",
        &format!("{} bytes", c.limits.max_response_size),
    );
    println!();
    println!(
        "the section for payhost.toml that grants what it requests, pinned to this file (review it, fill in the values, paste it):"
    );
    println!();
    for line in c
        .requested
        .section(&c.name, &format!("sha256 = \"{}\"", c.sha256))
        .lines()
    {
        println!("{}", output::shown(line));
    }
}
