//! A PostgreSQL server of its own, for tests: `initdb` and `pg_ctl` in a
//! temporary directory, listening on loopback only, trust authentication
//! for the `payhost` role, stopped (immediately) when dropped. Run as root,
//! the server runs as the `postgres` system user, as PostgreSQL requires.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// What to run when PostgreSQL is missing.
pub const INSTALL: &str = "sudo apt-get install -y postgresql";

/// The directory holding `initdb`, `pg_ctl` and `createdb`: on `PATH`, or
/// the newest under `/usr/lib/postgresql/*/bin` (where Debian and Ubuntu
/// put them).
pub fn binaries() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            // A link on PATH leads to the directory with every tool.
            if let Ok(initdb) = std::fs::canonicalize(dir.join("initdb"))
                && let Some(real) = initdb.parent()
                && real.join("pg_ctl").is_file()
                && real.join("createdb").is_file()
            {
                return Ok(real.to_owned());
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).ok_or_else(|| {
        format!("PostgreSQL is not installed (no initdb on PATH or under /usr/lib/postgresql): run `{INSTALL}`")
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A running PostgreSQL server.
pub struct PgServer {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
    databases: AtomicU32,
}

impl PgServer {
    /// Initializes a cluster in a temporary directory and starts it.
    pub fn start() -> Result<PgServer, String> {
        let bin = binaries()?;
        let dir = tempfile::Builder::new()
            .prefix("payhost-pg")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let as_postgres = is_root();
        if as_postgres {
            run(Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path()))?;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let server = PgServer {
            dir,
            bin,
            port,
            as_postgres,
            databases: AtomicU32::new(0),
        };
        let data = server.dir.path().join("data");
        server.run_pg(
            "initdb",
            &[
                "-D",
                &data.to_string_lossy(),
                "-A",
                "trust",
                "-U",
                "payhost",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        )?;
        server.resume()?;
        Ok(server)
    }

    /// Starts the server (again, after [`PgServer::crash`]) on its port.
    pub fn resume(&self) -> Result<(), String> {
        let data = self.dir.path().join("data");
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            self.port,
            self.dir.path().display()
        );
        self.run_pg(
            "pg_ctl",
            &[
                "-D",
                &data.to_string_lossy(),
                "-o",
                &options,
                "-l",
                &self.dir.path().join("log").to_string_lossy(),
                "-w",
                "-t",
                "30",
                "start",
            ],
        )
    }

    /// Stops the server at once, as a crash would (`pg_ctl stop -m
    /// immediate`): every connection is cut.
    pub fn crash(&self) -> Result<(), String> {
        let data = self.dir.path().join("data");
        self.run_pg(
            "pg_ctl",
            &[
                "-D",
                &data.to_string_lossy(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        )
    }

    fn run_pg(&self, tool: &str, args: &[&str]) -> Result<(), String> {
        let tool = self.bin.join(tool);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&tool);
            c
        } else {
            Command::new(&tool)
        };
        command.args(args).current_dir(self.dir.path());
        run(&mut command)
    }

    /// A new, empty database, and its URL.
    pub fn database(&self) -> Result<String, String> {
        let name = format!("payhost_{}", self.databases.fetch_add(1, Ordering::SeqCst));
        self.run_pg(
            "createdb",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "payhost",
                &name,
            ],
        )?;
        Ok(self.url(&name))
    }

    /// The URL of database `name`.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://payhost@127.0.0.1:{}/{name}", self.port)
    }

    /// Starts `psql` on database `url` running `sql` (its statements in
    /// one session), and returns it running: for a session that holds a
    /// lock while a test goes on.
    pub fn session(&self, url: &str, sql: &str) -> Result<std::process::Child, String> {
        Command::new(self.bin.join("psql"))
            .args([url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start psql: {e}"))
    }

    /// What `sql` prints on database `url`, unaligned and without headers.
    pub fn query(&self, url: &str, sql: &str) -> Result<String, String> {
        let out = Command::new(self.bin.join("psql"))
            .args([url, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .output()
            .map_err(|e| format!("cannot run psql: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// Where the server keeps its files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let _ = self.crash();
    }
}

fn run(command: &mut Command) -> Result<(), String> {
    let out = command
        .output()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}
