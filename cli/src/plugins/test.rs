//! `payhost plugins test`: a connector against scripted suppliers.

use super::super::{Exit, exit, print_json};
use std::path::Path;

/// Runs the scenarios in `scenarios`, then the built-in ones.
pub(super) async fn run(file: &Path, scenarios: &Path, json: bool) -> Result<u8, Exit> {
    let scenarios = payhost::conformance::scenario::Scenarios::load(scenarios).map_err(|e| {
        Exit::usage(anyhow::anyhow!(
            "{e}\n(the scenarios file's format is in the partner guide, README.md)"
        ))
    })?;
    let report = payhost::conformance::run(file, &scenarios)
        .await
        .map_err(|e| Exit::usage(anyhow::anyhow!("{e}")))?;
    if json {
        print_json(&report)?;
    } else {
        print!("{}", report.text());
    }
    Ok(if report.failed() == 0 {
        exit::OK
    } else {
        exit::FAILED
    })
}
