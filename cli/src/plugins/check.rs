//! `payhost plugins check`: whether a file is a connector this host runs.

use super::super::{Exit, exit, host, output, print_json};
use payhost::ConnectorSummary;
use std::path::Path;

/// Checks `file` alone, or against the configuration `config` with
/// `with_config`; exit 3 when it is not a connector this host can run.
pub(super) async fn run(
    config: &Path,
    file: &Path,
    json: bool,
    with_config: bool,
) -> Result<u8, Exit> {
    let host = if with_config {
        host(config)?
    } else {
        // The file alone: no section, no secret read, the user's cache.
        payhost::Host::from_settings(payhost::Settings::default())
            .map_err(|e| anyhow::anyhow!("cannot start the WebAssembly engine: {e:#}"))?
    };
    match host.check_file(file).await {
        Ok(c) => {
            if json {
                print_json(
                    &serde_json::json!({"ok": true, "connector": ConnectorSummary::from(&c)}),
                )?;
            } else {
                println!(
                    "ok: {} {} ({}) is a valid payhost connector for contract {}@{}",
                    output::shown(&c.info.name),
                    output::shown(&c.info.version),
                    output::shown(&c.info.supplier),
                    payhost::CONTRACT_PACKAGE,
                    c.contract.describe()
                );
            }
            Ok(exit::OK)
        }
        Err(e) => {
            if json {
                print_json(&serde_json::json!({"ok": false, "file": e.file, "error": e.reason}))?;
            } else {
                eprintln!("error: {}", output::shown(&e.to_string()));
            }
            Ok(exit::FAILED)
        }
    }
}
