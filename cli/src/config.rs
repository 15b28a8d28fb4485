//! `payhost config check`: whether a configuration makes a whole host.

use super::{Exit, exit, host_with_plugins, output};
use clap::Subcommand;
use std::path::Path;

/// The configuration, checked before a host runs with it.
#[derive(Subcommand)]
pub(crate) enum ConfigCommand {
    /// Checks payhost.toml completely, as `payhost serve` does before it
    /// starts: sections, keys, types, durations, secrets present, every
    /// file in the plugin directory loading and every configured
    /// connector live. Prints every problem with its line; exits 2 if
    /// there is one.
    Check,
}

impl ConfigCommand {
    pub(crate) async fn run(self, config: &Path) -> Result<u8, Exit> {
        match self {
            ConfigCommand::Check => check(config).await,
        }
    }
}

async fn check(config: &Path) -> Result<u8, Exit> {
    use tracing::instrument::WithSubscriber as _;
    // The problems are printed below, once each, rather than logged.
    let (host, _) = host_with_plugins(config)
        .with_subscriber(tracing::subscriber::NoSubscriber::default())
        .await?;
    let problems = host.problems();
    if problems.is_empty() {
        let mut live: Vec<String> = host
            .connectors()
            .iter()
            .map(|c| output::shown(&c.info.name))
            .collect();
        live.sort();
        println!(
            "{}: a whole host; {} connector(s) live: {}",
            config.display(),
            live.len(),
            if live.is_empty() {
                "none".to_owned()
            } else {
                live.join(", ")
            }
        );
        return Ok(exit::OK);
    }
    println!("{}: {} problem(s)", config.display(), problems.len());
    for p in &problems {
        println!(
            "  {}",
            output::shown_lines(&payhost::mask_text(&p.to_string()))
        );
    }
    Ok(exit::USAGE)
}
