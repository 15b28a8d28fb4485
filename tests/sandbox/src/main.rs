//! `payhost-sandbox`: run the supplier simulator, the demo against it, or
//! the reliability suite.

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use payhost_sandbox::demo::{self, Setup};
use payhost_sandbox::sim::{Credentials, Simulator};
use payhost_sandbox::soak;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// The simulator of payhost's four suppliers, and the demo that pays
/// through all four connectors against it.
#[derive(Parser)]
#[command(name = "payhost-sandbox", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the simulator until interrupted; prints its URL.
    Serve {
        /// The address to listen on (loopback by default).
        #[arg(long, default_value = "127.0.0.1:8088")]
        addr: SocketAddr,
        /// Write the credentials it accepts as secret files, and a
        /// payhost.toml pointing the four connectors at it, into this directory.
        #[arg(long)]
        write_config: Option<PathBuf>,
    },
    /// Start the simulator and pay through all four connectors; or, with
    /// --server, pay through a running `payhost serve` (itself configured
    /// against a running `payhost-sandbox serve`).
    Demo {
        /// The directory holding atlas.wasm, hkramble.wasm, aerohub.wasm and nemo.wasm.
        #[arg(long, default_value = "target/plugins")]
        plugins: PathBuf,
        /// A running host's URL, e.g. http://127.0.0.1:8700.
        #[arg(long)]
        server: Option<String>,
    },
    /// The reliability suite: drives `payhost serve` (a release build)
    /// through crashes, hang-ups, outages, full disks, locks, hostile input
    /// and plugin-directory faults, and prints one table: per scenario,
    /// requests, and orders lost, doubled or stuck. Exits 1 unless all are 0.
    Soak {
        /// The `payhost` binary.
        #[arg(long, default_value = "target/release/payhost")]
        payhost: PathBuf,
        /// The directory holding atlas.wasm, hkramble.wasm, aerohub.wasm and nemo.wasm.
        #[arg(long, default_value = "target/plugins")]
        plugins: PathBuf,
        /// Only these scenarios (comma-separated); all by default.
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        /// Print the scenarios and stop.
        #[arg(long)]
        list: bool,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PAYHOST_LOG")
                .unwrap_or_else(|_| "error".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Prints the table and a closing line; the exit code says whether every
/// row was answered as documented.
fn report(rows: &[demo::Row], how: &str) -> ExitCode {
    print!("{}", demo::table(rows));
    let wrong = rows.iter().filter(|r| !demo::remote_as_expected(r)).count();
    println!(
        "\n{} payments {how}; {} answered as their supplier documents.",
        rows.len(),
        rows.len() - wrong
    );
    if wrong == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve { addr, write_config } => {
            let sim = Simulator::start_with(addr, Credentials::default())
                .await
                .with_context(|| format!("cannot listen on {addr}"))?;
            if let Some(dir) = write_config {
                std::fs::create_dir_all(&dir)?;
                demo::write_secrets(&dir, sim.credentials())?;
                std::fs::write(
                    dir.join("payhost.toml"),
                    demo::config(&sim.url(), &dir.join(".payhost-cache"), ""),
                )?;
                println!(
                    "wrote {}/payhost.toml and {}/secrets/",
                    dir.display(),
                    dir.display()
                );
            }
            println!("supplier simulator listening on {}", sim.url());
            tokio::signal::ctrl_c().await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Soak { list: true, .. } => {
            for (name, what) in soak::SCENARIOS {
                println!("{name:<20} {what}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Soak {
            payhost,
            plugins,
            only,
            list: false,
        } => {
            anyhow::ensure!(
                payhost.is_file(),
                "{} is missing: build it with `cargo build --release -p payhost-cli` (or run `cargo xtask soak`)",
                payhost.display()
            );
            let cache = plugins.join("..").join("soak-cache");
            let started = std::time::Instant::now();
            let rows = soak::run(soak::Options {
                payhost,
                plugins,
                cache,
                only,
            })
            .await?;
            println!("{}", soak::table(&rows));
            let clean = soak::clean(&rows);
            println!(
                "{} scenarios in {:.0} s: {}",
                rows.len(),
                started.elapsed().as_secs_f64(),
                if clean {
                    "nothing lost, doubled or stuck"
                } else {
                    "SOMETHING WENT WRONG (see the lines above the table)"
                }
            );
            Ok(if clean {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Demo {
            server: Some(server),
            ..
        } => {
            println!("Paying through the host at {server}...\n");
            let rows = demo::run_remote(&server, &demo::demo_cases()).await?;
            Ok(report(
                &rows,
                "through the running host; a second payment of a paid order is refused by the host's journal before it reaches the supplier",
            ))
        }
        Command::Demo {
            plugins,
            server: None,
        } => {
            let files: Vec<PathBuf> = ["atlas", "hkramble", "aerohub", "nemo"]
                .iter()
                .map(|n| plugins.join(format!("{n}.wasm")))
                .collect();
            for f in &files {
                anyhow::ensure!(
                    f.exists(),
                    "{} is missing: build the connectors with `cargo xtask build-plugins`",
                    f.display()
                );
            }
            let cache = plugins.join("..").join("demo-cache");
            println!(
                "Starting the supplier simulator and loading the four connectors (the first run compiles them)..."
            );
            let setup = Setup::start(&files, &cache, "").await?;
            for c in setup.host.connectors() {
                println!(
                    "  loaded {:<9} {} {:<20} in {:>5} ms ({:?})",
                    c.info.name,
                    c.info.version,
                    c.info.supplier,
                    c.load_time.as_millis(),
                    c.cache
                );
            }
            println!("Simulator at {}\n", setup.sim.url());
            let rows = demo::run(&setup.host, &demo::demo_cases()).await;
            Ok(report(&rows, "through 4 connectors"))
        }
    }
}
