//! `payhost dev`: the connector in the current crate (or JavaScript
//! package) built, configured from its own `info()` and a `.env` file, and
//! served with hot reload, in one command.

use super::Exit;
use super::serve::Serve;
use anyhow::Context as _;
use clap::Args;
use payhost::ConnectorSummary;
use payhost_guests::Target;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Build the connector in this crate for wasm32-wasip2 (or, in a
/// JavaScript package, with `npm run build`), write a development
/// payhost.toml from what it declares (its origins, its config keys and
/// secrets with values from a .env file, its placements) and serve it; a
/// change to its sources rebuilds it and the host swaps it in.
///
/// The .env file holds `KEY=VALUE` lines: each config key and each secret
/// the connector declares, by its own name (`base_url=https://…`,
/// `api_key=…`) or prefixed with the connector's name in capitals
/// (`ACME_AIR_API_KEY=…`). Everything the run writes (the configuration,
/// the secrets, owner-only, the journal) stays in target/payhost-dev/ (in a
/// JavaScript package, dist/payhost-dev/).
#[derive(Args)]
pub(crate) struct Dev {
    /// The connector's crate or JavaScript package (default: the current directory).
    #[arg(long, default_value = ".")]
    dir: PathBuf,
    /// The file with the config values and secrets (default: .env in the crate).
    #[arg(long)]
    env: Option<PathBuf>,
    /// The address to serve on.
    #[arg(long, default_value = "127.0.0.1:8700")]
    listen: String,
}

/// How often the sources are looked at.
const POLL: Duration = Duration::from_millis(500);

impl Dev {
    pub(crate) async fn run(self) -> Result<u8, Exit> {
        let dir = self
            .dir
            .canonicalize()
            .with_context(|| format!("{}: no such directory", self.dir.display()))
            .map_err(Exit::usage)?;
        let project = Project::find(&dir).await?;
        eprintln!("building {}", project.name);
        project.build().await?;
        let work = project.work.clone();
        let plugins = work.join("plugins");
        std::fs::create_dir_all(&plugins)
            .with_context(|| format!("creating {}", plugins.display()))?;
        // Its name and what it declares, from the component itself.
        let checker = payhost::Host::from_settings(payhost::Settings::default())
            .map_err(|e| anyhow::anyhow!("cannot start the WebAssembly engine: {e:#}"))?;
        let connector = checker
            .check_file(&project.artifact)
            .await
            .map_err(|e| Exit::usage(anyhow::anyhow!("{e}")))?;
        let summary = ConnectorSummary::from(&connector);
        drop(checker);
        let env_file = self.env.clone().unwrap_or_else(|| dir.join(".env"));
        let values = read_env(&env_file)?;
        let config = config(&summary, &values, &work, &self.listen, &env_file)?;
        let config_path = work.join("payhost.toml");
        std::fs::write(&config_path, &config)
            .with_context(|| format!("writing {}", config_path.display()))?;
        let live = plugins.join(format!("{}.wasm", summary.name));
        install(&project.artifact, &live)?;
        eprintln!(
            "serving `{}` from {} (configuration: {}); edit its sources and it is rebuilt and swapped in",
            summary.name,
            live.display(),
            config_path.display()
        );
        let rebuilding = tokio::spawn(watch(project, dir, live));
        let served = Serve::on(Some(self.listen)).run(&config_path).await;
        rebuilding.abort();
        served
    }
}

/// How a connector is built.
#[derive(Clone, Copy)]
enum Kind {
    /// A Rust crate: `cargo build --release --target wasm32-wasip2`, or the
    /// target its `[package.metadata.payhost] target` names
    /// (`wasm32-unknown-unknown`: a core module, then made a component).
    Rust(Target),
    /// A JavaScript package: `npm run build` (componentize-qjs).
    Js,
}

/// The connector being developed.
struct Project {
    /// Its manifest's directory.
    dir: PathBuf,
    /// Its package's name.
    name: String,
    /// How it is built.
    kind: Kind,
    /// Where the development host's files go.
    work: PathBuf,
    /// The component a build writes.
    artifact: PathBuf,
    /// What cargo writes, where it is not the component itself (a core
    /// module for wasm32-unknown-unknown, made `artifact`).
    module: Option<PathBuf>,
}

impl Project {
    /// The crate or package at `dir`.
    async fn find(dir: &Path) -> Result<Project, Exit> {
        if !dir.join("Cargo.toml").is_file() && dir.join("package.json").is_file() {
            return Project::package(dir);
        }
        Project::crate_(dir).await
    }

    /// The JavaScript package at `dir`: its `build` script writes
    /// `dist/NAME.wasm` (`-` in its name as `_`), as `payhost new --lang js`
    /// writes it.
    fn package(dir: &Path) -> Result<Project, Exit> {
        let manifest = dir.join("package.json");
        let text = std::fs::read_to_string(&manifest)
            .with_context(|| format!("reading {}", manifest.display()))?;
        let package: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| Exit::usage(anyhow::anyhow!("{} is not JSON: {e}", manifest.display())))?;
        let name = package["name"].as_str().unwrap_or_default().to_owned();
        if name.is_empty() || package["scripts"]["build"].as_str().is_none() {
            return Err(Exit::usage(anyhow::anyhow!(
                "{} needs a `name` and a `build` script that writes dist/NAME.wasm (see `payhost new NAME --lang js`)",
                manifest.display()
            )));
        }
        Ok(Project {
            dir: dir.to_owned(),
            artifact: dir
                .join("dist")
                .join(format!("{}.wasm", name.replace('-', "_"))),
            work: dir.join("dist").join("payhost-dev"),
            name,
            kind: Kind::Js,
            module: None,
        })
    }

    /// The crate at `dir`, as `cargo metadata` describes it.
    async fn crate_(dir: &Path) -> Result<Project, Exit> {
        let out = tokio::process::Command::new(cargo())
            .args(["metadata", "--format-version", "1", "--no-deps"])
            .current_dir(dir)
            .output()
            .await
            .context("running cargo metadata")?;
        if !out.status.success() {
            return Err(Exit::usage(anyhow::anyhow!(
                "{} is neither a Rust crate nor a JavaScript package: {}",
                dir.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        let meta: serde_json::Value =
            serde_json::from_slice(&out.stdout).context("reading cargo metadata")?;
        let manifest = dir.join("Cargo.toml");
        let package = meta["packages"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["manifest_path"].as_str().map(Path::new) == Some(manifest.as_path()))
            .ok_or_else(|| {
                Exit::usage(anyhow::anyhow!(
                    "{} has no package of its own: run payhost dev in the connector's crate",
                    dir.display()
                ))
            })?;
        let lib = package["targets"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|t| {
                t["crate_types"]
                    .as_array()
                    .is_some_and(|k| k.iter().any(|k| k == "cdylib"))
            })
            .and_then(|t| t["name"].as_str())
            .ok_or_else(|| {
                Exit::usage(anyhow::anyhow!(
                    "{} builds no cdylib: a connector's [lib] has crate-type = [\"cdylib\", \"rlib\"]",
                    manifest.display()
                ))
            })?
            .replace('-', "_");
        let triple = package["metadata"]["payhost"]["target"].as_str();
        let guest = triple
            .map_or(Ok(Target::Wasip2), Target::from_triple)
            .map_err(|e| Exit::usage(anyhow::anyhow!("{}: {e}", manifest.display())))?;
        let target = PathBuf::from(meta["target_directory"].as_str().unwrap_or("target"));
        let built = target
            .join(guest.triple())
            .join("release")
            .join(format!("{lib}.wasm"));
        let work = target.join("payhost-dev");
        let (artifact, module) = match guest {
            Target::Wasip2 => (built, None),
            Target::Bare => (work.join(format!("{lib}.wasm")), Some(built)),
        };
        Ok(Project {
            dir: dir.to_owned(),
            name: package["name"].as_str().unwrap_or_default().to_owned(),
            kind: Kind::Rust(guest),
            artifact,
            module,
            work,
        })
    }

    /// The build, its output shown on standard error.
    async fn build(&self) -> Result<(), Exit> {
        let (program, args, hint, flags) = match self.kind {
            Kind::Rust(target) => (
                cargo(),
                vec!["build", "--release", "--target", target.triple()],
                format!(
                    "with the target missing, run `rustup target add {}`",
                    target.triple()
                ),
                target.guest_flags(),
            ),
            Kind::Js => (
                "npm".to_owned(),
                vec!["run", "build"],
                "with componentize-qjs missing, run `npm install`".to_owned(),
                None,
            ),
        };
        let mut command = tokio::process::Command::new(&program);
        if let Some((var, value)) = flags {
            command.env(var, value);
        }
        let status = command
            .args(&args)
            .current_dir(&self.dir)
            // Standard output is the host's ("payhost listening on …").
            .stdout(std::process::Stdio::from(std::io::stderr()))
            .status()
            .await
            .with_context(|| format!("running {program} {}", args.join(" ")))?;
        if !status.success() {
            return Err(Exit::usage(anyhow::anyhow!(
                "the build failed (see above); {hint}"
            )));
        }
        if let Some(module) = &self.module {
            payhost_guests::component(Target::Bare, module, &self.artifact)
                .map_err(|e| Exit::usage(anyhow::anyhow!("{e}")))?;
        }
        Ok(())
    }
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// Copies the built component into the plugin directory under one rename,
/// so the host never reads half a file.
fn install(artifact: &Path, live: &Path) -> Result<(), Exit> {
    let staged = live.with_extension("wasm.part");
    std::fs::copy(artifact, &staged).with_context(|| format!("copying {}", artifact.display()))?;
    std::fs::rename(&staged, live).with_context(|| format!("installing {}", live.display()))?;
    Ok(())
}

/// The newest modification among the sources (`src/`, and `wit/` where a
/// JavaScript package keeps its contract) and the manifests.
fn newest(dir: &Path) -> SystemTime {
    let mut newest = SystemTime::UNIX_EPOCH;
    let mut stack = vec![dir.join("src"), dir.join("wit")];
    for file in [
        "Cargo.toml",
        "Cargo.lock",
        "package.json",
        "package-lock.json",
    ] {
        let file = dir.join(file);
        if let Ok(t) = std::fs::metadata(&file).and_then(|m| m.modified()) {
            newest = newest.max(t);
        }
    }
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(t) = entry.metadata().and_then(|m| m.modified()) {
                newest = newest.max(t);
            }
        }
    }
    newest
}

/// Rebuilds on every change to the sources and installs what builds; a
/// build that fails is reported and the version before keeps serving.
async fn watch(project: Project, dir: PathBuf, live: PathBuf) {
    let mut seen = newest(&dir);
    loop {
        tokio::time::sleep(POLL).await;
        let now = newest(&dir);
        if now == seen {
            continue;
        }
        seen = now;
        eprintln!("sources changed: rebuilding {}", project.name);
        match project.build().await {
            Ok(()) => match install(&project.artifact, &live) {
                Ok(()) => eprintln!("rebuilt: the host swaps it in"),
                Err(e) => eprintln!("error: {}", e.error),
            },
            Err(e) => eprintln!("error: {}; the version before keeps serving", e.error),
        }
    }
}

/// `KEY=VALUE` lines: `#` comments, blank lines and `export ` ignored,
/// values optionally quoted. A missing file is no values.
fn read_env(path: &Path) -> Result<BTreeMap<String, String>, Exit> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => {
            return Err(Exit::usage(anyhow::anyhow!(
                "cannot read {}: {e}",
                path.display()
            )));
        }
    };
    let mut values = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((key, value)) = line.split_once('=') else {
            return Err(Exit::usage(anyhow::anyhow!(
                "{}:{}: not KEY=VALUE",
                path.display(),
                n + 1
            )));
        };
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
            .unwrap_or(value);
        values.insert(key.trim().to_ascii_lowercase(), value.to_owned());
    }
    Ok(values)
}

/// The development configuration for the connector `c`: a plugin directory
/// and a journal under `work`, its section with its origins (a `config:KEY`
/// one resolved from the key's value), its config values and secrets (each
/// secret written to an owner-only file), and the placements it declares.
fn config(
    c: &ConnectorSummary,
    values: &BTreeMap<String, String>,
    work: &Path,
    listen: &str,
    env_file: &Path,
) -> Result<String, Exit> {
    let prefix = format!("{}_", c.name.replace('-', "_"));
    let value = |key: &str| {
        values
            .get(key)
            .or_else(|| values.get(&format!("{prefix}{key}")))
            .cloned()
    };
    let quote = |s: &str| toml::Value::String(s.to_owned()).to_string();
    let missing: Vec<&str> = c
        .requested
        .config_keys
        .iter()
        .chain(&c.requested.secrets)
        .filter(|k| value(k).is_none())
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Err(Exit::usage(anyhow::anyhow!(
            "{} has no value for {}: add a line `KEY=VALUE` for each (or `{}KEY=VALUE`)",
            env_file.display(),
            missing.join(", "),
            prefix.to_ascii_uppercase()
        )));
    }
    let mut hosts = Vec::new();
    for host in &c.requested.hosts {
        match host.strip_prefix("config:") {
            Some(key) => {
                let url = value(key).unwrap_or_default();
                let origin = url::Url::parse(&url)
                    .map(|u| u.origin().ascii_serialization())
                    .map_err(|_| {
                        Exit::usage(anyhow::anyhow!(
                            "{key} = {url:?} in {} is not a URL, and the connector calls it",
                            env_file.display()
                        ))
                    })?;
                hosts.push(quote(&origin));
            }
            None => hosts.push(quote(host)),
        }
    }
    let secrets_dir = work.join("secrets");
    std::fs::create_dir_all(&secrets_dir).context("creating the secrets directory")?;
    let mut secrets = Vec::new();
    for name in &c.requested.secrets {
        let path = secrets_dir.join(name);
        write_private(&path, value(name).unwrap_or_default().as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
        secrets.push(format!(
            "{name} = {{ file = {} }}",
            quote(&path.display().to_string())
        ));
    }
    let mut text = format!(
        "# Written by `payhost dev`: a development host for `{name}`.\n[host]\nplugins = {plugins}\njournal = {journal}\nlisten = {listen}\n\n[connectors.{name}]\n# A rebuild may go back a version while you work.\nallow_downgrade = true\nallowed_hosts = [{hosts}]\nsecrets = {{ {secrets} }}\n",
        name = c.name,
        plugins = quote(&work.join("plugins").display().to_string()),
        journal = quote(&work.join("payhost.db").display().to_string()),
        listen = quote(listen),
        hosts = hosts.join(", "),
        secrets = secrets.join(", "),
    );
    for key in &c.requested.config_keys {
        text.push_str(&format!(
            "{key} = {}\n",
            quote(&value(key).unwrap_or_default())
        ));
    }
    if !c.requested.placements.is_empty() {
        let list =
            toml::Value::try_from(&c.requested.placements).context("writing the placements")?;
        text.push_str(&format!("placements = {list}\n"));
    }
    Ok(text)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}
