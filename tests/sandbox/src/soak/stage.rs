//! A scenario's stage: a directory with the connectors, their secrets and a
//! `payhost.toml`, and `payhost serve` processes on it.

use super::Ctx;
use crate::demo;
use crate::sim::Credentials;
use anyhow::Context as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::AsyncBufReadExt as _;

/// The four connectors' files in the options' plugin directory.
pub(crate) const CONNECTORS: [&str; 4] = ["atlas", "hkramble", "aerohub", "nemo"];

/// A directory set up for hosts against the simulator.
pub(crate) struct Stage {
    dir: tempfile::TempDir,
    payhost: PathBuf,
}

impl Stage {
    /// The connectors, secrets and a `payhost.toml` whose `[host]` carries
    /// `host` (a journal, a lease…) and whose `[api]` carries `api`.
    pub(crate) fn new(ctx: &Ctx, host: &str, api: &str) -> anyhow::Result<Stage> {
        let dir = tempfile::Builder::new().prefix("payhost-soak").tempdir()?;
        let plugins = dir.path().join("plugins");
        std::fs::create_dir(&plugins)?;
        for name in CONNECTORS {
            let from = ctx.opts.plugins.join(format!("{name}.wasm"));
            std::fs::copy(&from, plugins.join(format!("{name}.wasm")))
                .with_context(|| format!("cannot copy {}", from.display()))?;
        }
        demo::write_secrets(dir.path(), &Credentials::default())?;
        let config = demo::config(&ctx.sim.url(), &ctx.opts.cache, "timeout = \"3s\"").replacen(
            "[host]\n",
            &format!("[host]\n{host}\n"),
            1,
        );
        std::fs::write(
            dir.path().join("payhost.toml"),
            format!("{config}\n[api]\n{api}\n"),
        )?;
        Ok(Stage {
            dir,
            payhost: ctx.opts.payhost.clone(),
        })
    }

    /// The directory.
    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The configuration file.
    pub(crate) fn config(&self) -> PathBuf {
        self.path().join("payhost.toml")
    }

    /// `payhost serve` on `port`, as PID 1 of a PID namespace of its own
    /// when `pid1` (and the machine allows it).
    pub(crate) async fn serve(&self, port: u16, pid1: bool) -> anyhow::Result<Serve> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path().join("server.log"))?;
        let mut command = if pid1 {
            let mut c = tokio::process::Command::new("unshare");
            c.args(["--pid", "--fork", "--kill-child"])
                .arg(&self.payhost);
            c
        } else {
            tokio::process::Command::new(&self.payhost)
        };
        let mut child = command
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--config",
            ])
            .arg(self.config())
            .env("PAYHOST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot run {}", self.payhost.display()))?;
        let stdout = child.stdout.take().context("no standard output")?;
        let mut line = String::new();
        let read = tokio::time::timeout(
            Duration::from_secs(120),
            tokio::io::BufReader::new(stdout).read_line(&mut line),
        )
        .await;
        if !matches!(read, Ok(Ok(n)) if n > 0) || !line.starts_with("payhost listening on ") {
            let _ = child.kill().await;
            let log = std::fs::read_to_string(self.path().join("server.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(15).collect();
            anyhow::bail!(
                "payhost serve did not start (first line {line:?}); the end of its log:\n{}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        Ok(Serve {
            child,
            url: format!("http://127.0.0.1:{port}"),
        })
    }

    /// Every attempt in the journal, as `payhost payments list --json`
    /// prints it.
    pub(crate) async fn attempts(&self) -> anyhow::Result<Vec<serde_json::Value>> {
        let out = tokio::process::Command::new(&self.payhost)
            .args([
                "payments", "list", "--json", "--limit", "10000000", "--config",
            ])
            .arg(self.config())
            .env("PAYHOST_LOG", "error")
            .output()
            .await?;
        anyhow::ensure!(
            out.status.success(),
            "payhost payments list failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(serde_json::from_slice(&out.stdout)?)
    }

    /// How many lines of the host's log contain `text`.
    pub(crate) fn log_count(&self, text: &str) -> usize {
        std::fs::read_to_string(self.path().join("server.log"))
            .unwrap_or_default()
            .matches(text)
            .count()
    }
}

/// A free port on loopback, for hosts restarted on the same address.
pub(crate) fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Whether this machine gives a process a PID namespace of its own.
pub(crate) async fn pid_namespaces() -> bool {
    tokio::process::Command::new("unshare")
        .args(["--pid", "--fork", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .is_ok_and(|s| s.success())
}

/// A running `payhost serve`; killed when dropped.
pub(crate) struct Serve {
    child: tokio::process::Child,
    /// Its base URL.
    pub(crate) url: String,
}

impl Serve {
    /// SIGKILL, and waits for it to be gone.
    pub(crate) async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }

    /// SIGTERM, as a service manager stops it.
    pub(crate) fn terminate(&self) -> anyhow::Result<()> {
        let pid = self.child.id().context("the host has already exited")?;
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()?;
        anyhow::ensure!(status.success(), "kill -TERM {pid} failed");
        Ok(())
    }

    /// Waits up to `limit` for it to exit; whether it exited successfully.
    pub(crate) async fn exited(&mut self, limit: Duration) -> Option<bool> {
        match tokio::time::timeout(limit, self.child.wait()).await {
            Ok(Ok(status)) => Some(status.success()),
            _ => None,
        }
    }
}
