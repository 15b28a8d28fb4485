//! `payhost plugins list|inspect|publish|check`.

use super::{Exit, exit, host, host_with_plugins, output, print_json};
use clap::Subcommand;
use payhost::Host;
use payhost::service::ConnectorsAnswer;
use payhost::{ConnectorSummary, FailedFile};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The connectors in the plugin directory.
#[derive(Subcommand)]
pub(crate) enum Plugins {
    /// List the connectors in the plugin directory and whether each loads.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Ask a running host (`payhost serve`) for its live set instead,
        /// e.g. http://127.0.0.1:8700.
        #[arg(long, env = "PAYHOST_SERVER")]
        server: Option<String>,
    },
    /// Show what a connector declares, what the operator allows, and what it is granted.
    Inspect {
        /// A connector name (from the plugin directory) or a .wasm file.
        target: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
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
    },
}

/// `contract 0.1.0` from `payhost:connector@0.1.0`.
fn contract_text(c: &ConnectorSummary) -> String {
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

impl Plugins {
    pub(crate) async fn run(self, config: &Path) -> Result<u8, Exit> {
        match self {
            Plugins::Test {
                file,
                scenarios,
                json,
            } => {
                let scenarios = payhost::conformance::scenario::Scenarios::load(&scenarios)
                    .map_err(|e| {
                        Exit::usage(anyhow::anyhow!(
                            "{e}\n(the scenarios file's format is in the partner guide, README.md)"
                        ))
                    })?;
                let report = payhost::conformance::run(&file, &scenarios)
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
            Plugins::List {
                json,
                server: Some(server),
            } => {
                let url = format!("{}/v1/connectors", server.trim_end_matches('/'));
                let cannot = |e: &dyn std::fmt::Display| {
                    Exit::usage(anyhow::anyhow!(
                        "cannot ask the host at {server}: {e}; is `payhost serve` running there?"
                    ))
                };
                let body = async { reqwest::get(&url).await?.error_for_status()?.bytes().await }
                    .await
                    .map_err(|e| cannot(&e))?;
                let answer: ConnectorsAnswer =
                    serde_json::from_slice(&body).map_err(|e| cannot(&e))?;
                if json {
                    print_json(&answer)?;
                } else {
                    print_table(&answer);
                }
                Ok(exit::OK)
            }
            Plugins::List { json, server: None } => {
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
            Plugins::Inspect { target, json } => {
                let connector = if target.ends_with(".wasm") || Path::new(&target).is_file() {
                    let loaded = host(config)?.check_file(Path::new(&target)).await;
                    std::sync::Arc::new(loaded.map_err(|e| Exit {
                        code: exit::FAILED,
                        error: e.into(),
                    })?)
                } else {
                    let (host, _) = host_with_plugins(config).await?;
                    host.connector(&target).map_err(Exit::usage)?
                };
                if json {
                    print_json(&ConnectorSummary::from(&*connector))?;
                } else {
                    print_inspect(&ConnectorSummary::from(&*connector));
                }
                Ok(exit::OK)
            }
            Plugins::Keygen { out } => keygen(&out),
            Plugins::Package { file, key, out } => package(&file, &key, out).await,
            Plugins::Publish { file, name } => {
                let name = match name {
                    Some(name) => name,
                    None => file
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                };
                if !payhost::fleet::valid_file_name(&name) {
                    return Err(Exit::usage(anyhow::anyhow!(
                        "`{}` is not a plain file name ending in .wasm (letters, digits, -, _ and .); pass --as NAME.wasm",
                        output::shown(&name)
                    )));
                }
                let host = host(config)?;
                let connector = host.check_file(&file).await.map_err(|e| Exit {
                    code: exit::FAILED,
                    error: anyhow::anyhow!("not published: {e}"),
                })?;
                let bytes = std::fs::read(&file).map_err(|e| {
                    Exit::usage(anyhow::anyhow!("cannot read {}: {e}", file.display()))
                })?;
                let settings = host.settings();
                let journal = payhost::Journal::open_target(
                    &settings.journal_target(),
                    settings.journal_options(),
                )
                .await
                .map_err(Exit::journal)?;
                let seq = journal.publish(&name, bytes).await.map_err(Exit::journal)?;
                let _ = journal.close().await;
                println!(
                    "published {} as {name} (#{seq}, sha256 {}): every host sharing this journal loads it within seconds",
                    output::shown(&connector.info.name),
                    connector.sha256
                );
                Ok(exit::OK)
            }
            Plugins::Check { file, json } => {
                let host = host(config)?;
                match host.check_file(&file).await {
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
                            print_json(
                                &serde_json::json!({"ok": false, "file": e.file, "error": e.reason}),
                            )?;
                        } else {
                            eprintln!("error: {}", output::shown(&e.to_string()));
                        }
                        Ok(exit::FAILED)
                    }
                }
            }
        }
    }
}

/// `plugins keygen`.
fn keygen(out: &Path) -> Result<u8, Exit> {
    let key = payhost::package::PublisherKey::generate()
        .map_err(|e| anyhow::anyhow!("cannot make a key: {e}"))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(out).map_err(|e| {
        Exit::usage(anyhow::anyhow!(
            "cannot create {}: {e} (an existing key is never overwritten)",
            out.display()
        ))
    })?;
    std::io::Write::write_all(&mut f, key.to_file_text().as_bytes())
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?;
    println!(
        "secret key written to {} (keep it; it signs your packages)",
        out.display()
    );
    println!("public key: {}", key.public());
    println!(
        "operators trust it with: publishers = [\"{}\"] in the connector's section of payhost.toml",
        key.public()
    );
    Ok(exit::OK)
}

/// `plugins package`.
async fn package(file: &Path, key: &Path, out: Option<PathBuf>) -> Result<u8, Exit> {
    use tracing::instrument::WithSubscriber as _;
    let key_text = std::fs::read_to_string(key)
        .map_err(|e| Exit::usage(anyhow::anyhow!("cannot read {}: {e}", key.display())))?;
    let key = payhost::package::PublisherKey::from_file_text(&key_text)
        .map_err(|e| Exit::usage(anyhow::anyhow!("{}: {e}", key.display())))?;
    let bytes = std::fs::read(file)
        .map_err(|e| Exit::usage(anyhow::anyhow!("cannot read {}: {e}", file.display())))?;
    // Loaded as a host would, quietly: this host has no section for it.
    let host = Host::from_settings(payhost::Settings::default())
        .map_err(|e| anyhow::anyhow!("cannot start the WebAssembly engine: {e:#}"))?;
    let connector = host
        .check_file(file)
        .with_subscriber(tracing::subscriber::NoSubscriber::default())
        .await
        .map_err(|e| Exit {
            code: exit::FAILED,
            error: anyhow::anyhow!("not packaged: {e}"),
        })?;
    let info = &connector.info;
    let manifest = payhost::package::Manifest {
        name: info.name.clone(),
        version: info.version.clone(),
        contract: format!(
            "{}@{}",
            payhost::CONTRACT_PACKAGE,
            connector.contract.as_str()
        ),
        sha256: String::new(),
        hosts: info.hosts.clone(),
        secrets: info.secrets.clone(),
        config_keys: info.config_keys.clone(),
        placements: info.placements.clone(),
        section: requested(info)
            .section(&info.name, &format!("publishers = [\"{}\"]", key.public())),
        publisher: String::new(),
    };
    let section_text = manifest.section.clone();
    let package = payhost::package::sign(&bytes, manifest, &key)
        .map_err(|e| Exit::usage(anyhow::anyhow!("{}: {e}", file.display())))?;
    let out = out.unwrap_or_else(|| PathBuf::from(format!("{}-{}.wasm", info.name, info.version)));
    std::fs::write(&out, &package)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?;
    println!(
        "packaged {} {} as {}, signed by {}",
        output::shown(&info.name),
        output::shown(&info.version),
        out.display(),
        key.public()
    );
    println!("the section for payhost.toml (fill in the values):\n");
    for line in section_text.lines() {
        println!("{}", output::shown(line));
    }
    Ok(exit::OK)
}

/// What `info` asks for, as a summary has it.
fn requested(info: &payhost::ConnectorInfo) -> payhost::Requested {
    payhost::Requested {
        hosts: info.hosts.clone(),
        secrets: info.secrets.clone(),
        config_keys: info.config_keys.clone(),
        placements: info.placements.clone(),
    }
}
