//! The command line: a child process's mode as the first argument, then
//! `--NAME VALUE` options, each with its default where the bench needs one.

use std::path::PathBuf;
use std::str::FromStr;

/// The arguments after the program's name.
pub(crate) struct Args(Vec<String>);

impl Args {
    /// This process's arguments.
    pub(crate) fn from_env() -> Self {
        Self(std::env::args().skip(1).collect())
    }

    /// The first argument: the mode of a child process (`rss`,
    /// `rss-inflight`, `count`, `connector-process`), or an option.
    pub(crate) fn mode(&self) -> Option<&str> {
        self.0.first().map(String::as_str)
    }

    /// The value after `name`.
    pub(crate) fn value(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .position(|a| a == name)
            .and_then(|i| self.0.get(i + 1))
            .cloned()
    }

    /// The number after `name`; 0 when it is missing or not a number.
    pub(crate) fn number<T: FromStr + Default>(&self, name: &str) -> T {
        self.value(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or_default()
    }

    /// Whether `name` is given.
    pub(crate) fn flag(&self, name: &str) -> bool {
        self.0.iter().any(|a| a == name)
    }

    /// `--plugins`: the connectors' directory.
    pub(crate) fn plugins(&self) -> PathBuf {
        self.path("--plugins", "target/plugins")
    }

    /// `--cache`: the compile cache.
    pub(crate) fn cache(&self) -> PathBuf {
        self.path("--cache", "target/bench-cache")
    }

    /// `--out`: where the report is written.
    pub(crate) fn out(&self) -> PathBuf {
        self.path("--out", "BENCHMARKS.md")
    }

    /// `--probes`: where the sealing section's probe connectors are.
    pub(crate) fn probes(&self) -> PathBuf {
        self.path("--probes", "target/guests/wasm32-wasip2/guest")
    }

    /// The options a section's process is given: these, but for where the
    /// report goes and which section runs.
    pub(crate) fn passed_on(&self) -> Vec<String> {
        let mut kept = Vec::new();
        let mut args = self.0.iter();
        while let Some(arg) = args.next() {
            if matches!(arg.as_str(), "--out" | "--only" | "--section-out") {
                args.next();
            } else {
                kept.push(arg.clone());
            }
        }
        kept
    }

    /// `--only`: the one section to run.
    pub(crate) fn only(&self) -> Option<String> {
        self.value("--only")
    }

    fn path(&self, name: &str, default: &str) -> PathBuf {
        PathBuf::from(self.value(name).unwrap_or_else(|| default.into()))
    }
}
