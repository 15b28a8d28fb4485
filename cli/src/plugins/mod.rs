//! `payhost plugins list|inspect|publish|test|keygen|package|check`: one
//! file per subcommand; this one holds their arguments.

mod check;
mod inspect;
mod keygen;
mod list;
mod package;
mod publish;
mod test;

use super::Exit;
use super::remote::ServerArgs;
use clap::Subcommand;
use std::path::{Path, PathBuf};

/// The connectors in the plugin directory.
#[derive(Subcommand)]
pub(crate) enum Plugins {
    /// List the connectors in the plugin directory and whether each loads.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        remote: ServerArgs,
    },
    /// Show what a connector declares, what the operator allows, and what it is granted.
    Inspect {
        /// A connector name (from the plugin directory, or live on the
        /// host --server names) or a .wasm file.
        target: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        remote: ServerArgs,
    },
    /// Publish a connector to every host sharing this journal (a PostgreSQL
    /// journal, for a fleet): it is checked here first, stored in the
    /// journal by its SHA-256, and each host writes it into its plugin
    /// directory and loads it within seconds.
    Publish {
        /// The .wasm file.
        file: PathBuf,
        /// The file name it takes on every host (default: its own name).
        #[arg(long = "as")]
        name: Option<String>,
    },
    /// Run a connector against a scripted supplier: the scenarios in FILE
    /// (each a supplier answer or a fault, the outcome expected and what
    /// the request must carry), then the built-in ones every connector must
    /// pass. Exit 0 when all pass, 3 when one fails, 2 when the run cannot
    /// start.
    Test {
        /// The .wasm file.
        file: PathBuf,
        /// The scenarios file (TOML).
        #[arg(long)]
        scenarios: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Make a publisher key pair for signing packages: the secret key goes
    /// to FILE (owner-only), the public key is printed for operators.
    Keygen {
        /// Where to write the secret key; it must not exist yet.
        #[arg(long)]
        out: PathBuf,
    },
    /// Sign a connector as a package: the .wasm with a manifest (name,
    /// version, contract, SHA-256, what it asks for, the payhost.toml
    /// section to paste) and the publisher's ed25519 signature, in one
    /// .wasm file any host loads.
    Package {
        /// The connector's .wasm file.
        file: PathBuf,
        /// The publisher's secret key (`payhost plugins keygen`).
        #[arg(long)]
        key: PathBuf,
        /// Where to write the package (default: NAME-VERSION.wasm here).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Check that a .wasm file is a connector this host can run (exit 3 if not).
    Check {
        /// The .wasm file.
        file: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Also check it against payhost.toml (--config): its section's
        /// secrets, grants and pins. Without, the file alone is judged.
        #[arg(long)]
        with_config: bool,
    },
}

impl Plugins {
    pub(crate) async fn run(self, config: &Path) -> Result<u8, Exit> {
        match self {
            Plugins::Test {
                file,
                scenarios,
                json,
            } => test::run(&file, &scenarios, json).await,
            Plugins::List { json, remote } => match remote.remote()? {
                Some(server) => list::remote(&server, json).await,
                None => list::local(config, json).await,
            },
            Plugins::Inspect {
                target,
                json,
                remote,
            } => match remote.remote()? {
                Some(server) => inspect::remote(&server, &target, json).await,
                None => inspect::run(config, &target, json).await,
            },
            Plugins::Keygen { out } => keygen::keygen(&out),
            Plugins::Package { file, key, out } => package::package(&file, &key, out).await,
            Plugins::Publish { file, name } => publish::run(config, file, name).await,
            Plugins::Check {
                file,
                json,
                with_config,
            } => check::run(config, &file, json, with_config).await,
        }
    }
}
