//! `payhost plugins list|inspect|check`.

use super::{Exit, exit, host, host_with_plugins, print_json};
use clap::Subcommand;
use payhost::Connector;
use std::path::{Path, PathBuf};

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
    /// Check that a .wasm file is a connector this host can run (exit 3 if not).
    Check {
        /// The .wasm file.
        file: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

fn describe(c: &Connector) -> serde_json::Value {
    serde_json::json!({
        "name": c.info.name,
        "version": c.info.version,
        "supplier": c.info.supplier,
        "contract": format!("{}@{}", payhost::CONTRACT_PACKAGE, payhost::CONTRACT_VERSION),
        "file": c.file,
        "sha256": c.sha256,
        "methods": c.info.methods,
        "requested": {
            "hosts": c.info.hosts,
            "secrets": c.info.secrets,
            "config_keys": c.info.config_keys,
        },
        "granted": c.grant,
        "limits": {
            "timeout_ms": c.limits.timeout.as_millis() as u64,
            "cpu_ms": c.limits.cpu.as_millis() as u64,
            "memory_bytes": c.limits.memory,
            "max_requests": c.limits.max_requests,
            "max_response_size": c.limits.max_response_size,
            "max_log_lines": c.limits.max_log_lines,
        },
        "cache": c.cache,
        "load_ms": c.load_time.as_millis() as u64,
    })
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "(none)".to_owned()
    } else {
        items.join(", ")
    }
}

fn print_inspect(c: &Connector) {
    let row = |k: &str, v: &str| println!("{k:<22} {v}");
    row("name", &c.info.name);
    row("version", &c.info.version);
    row("supplier", &c.info.supplier);
    row(
        "contract",
        &format!(
            "{}@{}",
            payhost::CONTRACT_PACKAGE,
            payhost::CONTRACT_VERSION
        ),
    );
    row("file", &c.file.display().to_string());
    row("sha256", &c.sha256);
    row(
        "methods",
        &c.info
            .methods
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    );
    println!();
    println!("requested (by the connector's info())");
    row("  hosts", &list_or_none(&c.info.hosts));
    row("  secrets", &list_or_none(&c.info.secrets));
    row("  config keys", &list_or_none(&c.info.config_keys));
    println!();
    println!(
        "granted (requested ∩ allowed in [connectors.{}])",
        c.info.name
    );
    if !c.grant.configured {
        println!(
            "  payhost.toml has no [connectors.{}] section: nothing is granted",
            c.info.name
        );
    }
    row("  hosts", &list_or_none(&c.grant.hosts));
    row("  secrets", &list_or_none(&c.grant.secrets));
    row("  config keys", &list_or_none(&c.grant.config_keys));
    if !c.grant.hosts_not_allowed.is_empty() {
        row("  not allowed", &list_or_none(&c.grant.hosts_not_allowed));
    }
    if !c.grant.hosts_not_requested.is_empty() {
        row(
            "  not requested",
            &list_or_none(&c.grant.hosts_not_requested),
        );
    }
    if !c.grant.secrets_missing.is_empty() {
        row("  secrets not set", &list_or_none(&c.grant.secrets_missing));
    }
    println!();
    println!("limits per call");
    row("  timeout", &format!("{:?}", c.limits.timeout));
    row("  cpu", &format!("{:?}", c.limits.cpu));
    row("  memory", &format!("{} MiB", c.limits.memory >> 20));
    row("  requests", &c.limits.max_requests.to_string());
    row(
        "  response size",
        &format!("{} bytes", c.limits.max_response_size),
    );
}

impl Plugins {
    pub(crate) async fn run(self, config: &Path) -> Result<u8, Exit> {
        match self {
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
                let answer: serde_json::Value =
                    serde_json::from_slice(&body).map_err(|e| cannot(&e))?;
                if json {
                    print_json(&answer)?;
                } else {
                    println!(
                        "{:<12} {:<8} {:<28} {:<8} FILE",
                        "NAME", "VERSION", "SUPPLIER", "STATE"
                    );
                    for c in answer["connectors"].as_array().into_iter().flatten() {
                        let text = |k: &str| c[k].as_str().unwrap_or("-").to_owned();
                        println!(
                            "{:<12} {:<8} {:<28} {:<8} {}",
                            text("name"),
                            text("version"),
                            text("supplier"),
                            text("state"),
                            text("file")
                        );
                    }
                    for f in answer["failed"].as_array().into_iter().flatten() {
                        println!(
                            "{:<12} {:<8} {:<28} {:<8} {}\n    {}",
                            f["serving"].as_str().unwrap_or("?"),
                            "?",
                            "?",
                            "failed",
                            f["file"].as_str().unwrap_or("?"),
                            f["error"].as_str().unwrap_or("")
                        );
                    }
                }
                Ok(exit::OK)
            }
            Plugins::List { json, server: None } => {
                let (host, results) = host_with_plugins(config).await?;
                let dir = host.settings().plugins_dir();
                if json {
                    let rows: Vec<serde_json::Value> = results
                        .iter()
                        .map(|r| match r {
                            Ok(c) => serde_json::json!({"state": "loaded", "connector": describe(c)}),
                            Err(e) => serde_json::json!({"state": "failed", "file": e.file, "error": e.reason}),
                        })
                        .collect();
                    print_json(&rows)?;
                } else {
                    println!(
                        "{:<12} {:<8} {:<28} {:<8} FILE",
                        "NAME", "VERSION", "SUPPLIER", "STATE"
                    );
                    for r in &results {
                        match r {
                            Ok(c) => println!(
                                "{:<12} {:<8} {:<28} {:<8} {}",
                                c.info.name,
                                c.info.version,
                                c.info.supplier,
                                if c.grant.configured {
                                    "loaded"
                                } else {
                                    "no-config"
                                },
                                c.file.display()
                            ),
                            Err(e) => println!(
                                "{:<12} {:<8} {:<28} {:<8} {}\n    {}",
                                "?",
                                "?",
                                "?",
                                "failed",
                                e.file.display(),
                                e.reason
                            ),
                        }
                    }
                    if results.is_empty() {
                        println!("(no .wasm files in {})", dir.display());
                    }
                }
                Ok(if results.iter().all(Result::is_ok) {
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
                    print_json(&describe(&connector))?;
                } else {
                    print_inspect(&connector);
                }
                Ok(exit::OK)
            }
            Plugins::Check { file, json } => {
                let host = host(config)?;
                match host.check_file(&file).await {
                    Ok(c) => {
                        if json {
                            print_json(
                                &serde_json::json!({"ok": true, "connector": describe(&c)}),
                            )?;
                        } else {
                            println!(
                                "ok: {} {} ({}) is a valid payhost connector for contract {}@{}",
                                c.info.name,
                                c.info.version,
                                c.info.supplier,
                                payhost::CONTRACT_PACKAGE,
                                payhost::CONTRACT_VERSION
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
                            eprintln!("error: {e}");
                        }
                        Ok(exit::FAILED)
                    }
                }
            }
        }
    }
}
