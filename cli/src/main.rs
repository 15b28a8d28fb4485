//! The `payhost` command: run payments through connectors and inspect them.
//!
//! One file per command, each a clap struct with `run`; this file parses
//! the command line, sets up logging and the async runtime, and turns an
//! error into its exit code.

mod config;
mod dev;
mod new;
mod output;
mod pay;
mod payments;
mod plugins;
mod remote;
mod serve;
mod token;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use payhost::{Connector, Host, LoadError, LogFormat, Settings};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Payments run concurrently and allocate on every worker thread; glibc's
/// allocator serialises them on its arena lock, mimalloc keeps per-thread heaps.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit codes, so scripts can tell outcomes apart; a failure's comes from
/// the library's failure table ([`payhost::Failure`]).
pub(crate) mod exit {
    /// The payment succeeded or is pending; the command did what was asked.
    pub const OK: u8 = 0;
    /// Something unexpected went wrong in payhost itself.
    pub const INTERNAL: u8 = payhost::Failure::Internal.exit_code();
    /// Wrong arguments, wrong configuration, or a request refused before any
    /// connector ran.
    pub const USAGE: u8 = payhost::Failure::Usage.exit_code();
    /// The payment failed (no money moved), or a check failed.
    pub const FAILED: u8 = 3;
    /// The payment's outcome is unknown: it may have reached the supplier.
    pub const UNKNOWN: u8 = payhost::Failure::Unknown.exit_code();
    // Busy (5), refused (6) and the rest of a failure's codes:
    // payhost::Failure.
}

/// Runs travel suppliers' payment connectors as sandboxed WebAssembly components.
///
/// Exit codes: 0 succeeded or pending, 2 usage or configuration error,
/// 3 failed, 4 unknown (may have reached the supplier: do not retry blindly),
/// 5 busy (nothing was sent: try again), 6 refused by the journal (an order
/// already paid or under way, a key reused, an attempt that is not unknown:
/// nothing was sent), 1 internal error.
#[derive(Parser)]
#[command(name = "payhost", version, about, long_about)]
struct Cli {
    /// The configuration file.
    #[arg(
        long,
        short,
        global = true,
        env = "PAYHOST_CONFIG",
        default_value = "payhost.toml"
    )]
    config: PathBuf,

    /// More log output (-v: info, -vv: debug; `serve` logs at info by
    /// default); connectors' own logs show at info.
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    /// The log's form: `text`, or `json` (one object per line, for a log
    /// collector); default: [host] log_format, else text.
    #[arg(long, global = true, env = "PAYHOST_LOG_FORMAT", value_enum)]
    log_format: Option<LogFormatArg>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Pay(pay::Pay),
    New(new::New),
    #[command(subcommand)]
    Plugins(plugins::Plugins),
    #[command(subcommand)]
    Payments(payments::Payments),
    Serve(serve::Serve),
    Dev(dev::Dev),
    /// The configuration: `payhost config check`.
    #[command(subcommand)]
    Config(config::ConfigCommand),
    #[command(subcommand)]
    Token(token::Token),
}

/// An error with the exit code it should end the process with.
#[derive(Debug)]
pub(crate) struct Exit {
    pub(crate) code: u8,
    pub(crate) error: anyhow::Error,
}

impl Exit {
    pub(crate) fn usage(error: impl Into<anyhow::Error>) -> Self {
        Exit {
            code: exit::USAGE,
            error: error.into(),
        }
    }
}

impl Exit {
    /// The exit a journal error calls for, from the library's failure table.
    pub(crate) fn journal(error: payhost::JournalError) -> Self {
        Exit {
            code: error.code().failure().exit_code(),
            error: error.into(),
        }
    }

    /// The exit `code` calls for in the library's failure table.
    pub(crate) fn code(code: payhost::Code, error: anyhow::Error) -> Self {
        Exit {
            code: code.failure().exit_code(),
            error,
        }
    }

    /// The exit a refused or unrecorded payment calls for, from the
    /// library's failure table.
    pub(crate) fn pay(error: payhost::PayError) -> Self {
        Exit {
            code: error.code().failure().exit_code(),
            error: error.into(),
        }
    }
}

impl From<anyhow::Error> for Exit {
    fn from(error: anyhow::Error) -> Self {
        Exit {
            code: exit::INTERNAL,
            error,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A service logs what it does (connectors going live, problems) by
    // default; a one-shot command only warnings.
    // The configuration's log format and telemetry; its errors are
    // reported later, by the command that reads it.
    let early = Settings::load(&cli.config).ok();
    let format = match cli.log_format {
        Some(LogFormatArg::Json) => LogFormat::Json,
        Some(LogFormatArg::Text) => LogFormat::Text,
        None => early
            .as_ref()
            .map(|s| s.host.log_format)
            .unwrap_or_default(),
    };
    let serving = matches!(cli.command, Command::Serve(_) | Command::Dev(_));
    let traces = early
        .as_ref()
        .filter(|_| serving)
        .map(|s| payhost::service::Tracing::new(&s.telemetry));
    let traces = match traces {
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => {
            eprintln!("error: {e}");
            return ExitCode::from(exit::USAGE);
        }
        None => None,
    };
    init_tracing(cli.verbose, serving, format, traces.as_ref());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::INTERNAL);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Pay(cmd) => cmd.run(&cli.config).await,
            Command::New(cmd) => cmd.run(),
            Command::Plugins(cmd) => cmd.run(&cli.config).await,
            Command::Payments(cmd) => cmd.run(&cli.config).await,
            Command::Serve(cmd) => cmd.run(&cli.config).await,
            Command::Dev(cmd) => cmd.run().await,
            Command::Config(cmd) => cmd.run(&cli.config).await,
            Command::Token(cmd) => cmd.run(),
        }
    });
    if let Some(traces) = &traces {
        traces.shutdown();
    }
    match result {
        Ok(code) => ExitCode::from(code),
        Err(exit) => {
            eprintln!(
                "error: {}",
                output::shown_lines(&payhost::mask_text(&format!("{:#}", exit.error)))
            );
            ExitCode::from(exit.code)
        }
    }
}

/// `--log-format`.
#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormatArg {
    /// A line of text per event.
    Text,
    /// A JSON object per line.
    Json,
}

fn init_tracing(
    verbose: u8,
    service: bool,
    format: LogFormat,
    traces: Option<&payhost::service::Tracing>,
) {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let default = match verbose {
        0 if !service => "warn",
        0 | 1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("PAYHOST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let fmt = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_target(false);
    let fmt = match format {
        LogFormat::Json => fmt
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(|| output::LogWriter { json: true })
            .boxed(),
        LogFormat::Text => fmt
            .with_writer(|| output::LogWriter { json: false })
            .boxed(),
    };
    tracing_subscriber::registry()
        .with(traces.map(|t| t.layer()))
        .with(fmt.with_filter(filter))
        .init();
}

/// Reads the configuration. The default file may be absent (nothing is
/// then configured); a file named with --config must exist.
pub(crate) fn load_settings(path: &Path) -> Result<Settings, Exit> {
    if !path.exists() && path == Path::new("payhost.toml") {
        tracing::info!(
            "no payhost.toml here: no connector is configured, so none may call any host"
        );
        return Ok(Settings::default());
    }
    Settings::load(path).map_err(Exit::usage)
}

/// A host with the configuration's connectors loaded.
pub(crate) async fn host_with_plugins(
    config: &Path,
) -> Result<(Host, Vec<Result<std::sync::Arc<Connector>, LoadError>>), Exit> {
    let host = host(config)?;
    let results = host.load_plugins().await;
    Ok((host, results))
}

/// A host with nothing loaded.
pub(crate) fn host(config: &Path) -> Result<Host, Exit> {
    let settings = load_settings(config)?;
    Host::from_settings(settings)
        .map_err(|e| anyhow::anyhow!("{e:#}"))
        .context("cannot start the WebAssembly engine")
        .map_err(Exit::from)
}

/// Prints a value as pretty JSON on standard output.
pub(crate) fn print_json(value: &impl serde::Serialize) -> Result<(), Exit> {
    let text = serde_json::to_string_pretty(value).context("cannot write JSON")?;
    println!("{text}");
    Ok(())
}
