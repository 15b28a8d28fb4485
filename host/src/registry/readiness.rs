//! Whether the host is whole: every connector `payhost.toml` configures
//! is live, and every file in the plugin directory loads. `payhost config
//! check` prints the problems; `payhost serve` refuses to start on any
//! (unless `[host] start_degraded = true`); `/readyz` is 503 while a
//! configured connector is not live.

use super::live::Registry;
use crate::policy::settings::suggest;
use serde::Serialize;
use std::fmt;

/// One thing that keeps the host from being whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The line of `payhost.toml` it is about, when it is about one.
    pub line: Option<usize>,
    /// What is wrong and what to do.
    pub what: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "payhost.toml line {line}: {}", self.what),
            None => f.write_str(&self.what),
        }
    }
}

impl Registry {
    /// The connectors `payhost.toml` configures that are not live, by name.
    pub fn not_live(&self) -> Vec<String> {
        let live: Vec<String> = self
            .connectors()
            .iter()
            .map(|c| c.info.name.clone())
            .collect();
        self.settings()
            .connectors
            .keys()
            .filter(|name| !live.contains(name))
            .cloned()
            .collect()
    }

    /// Every problem as of the last scan: a plugin directory that could
    /// not be read, each file that did not load or whose name another file
    /// also declares, and each configured section no live connector
    /// answers to.
    pub fn problems(&self) -> Vec<Problem> {
        let mut problems: Vec<Problem> = self
            .scan_error()
            .into_iter()
            .map(|what| Problem { line: None, what })
            .collect();
        let files = self.plugin_files();
        for file in &files {
            if let Some(what) = file.problem() {
                problems.push(Problem {
                    line: None,
                    what: format!("{}: {what}", file.file.display()),
                });
            }
        }
        let live: Vec<String> = self
            .connectors()
            .iter()
            .map(|c| c.info.name.clone())
            .collect();
        let live_names: Vec<&str> = live.iter().map(String::as_str).collect();
        let failed = files.iter().filter(|f| f.problem().is_some()).count();
        for name in self.not_live() {
            let section = &self.settings().connectors[&name];
            let lead = format!("[connectors.{name}] names no live connector");
            let mut what = suggest(&lead, &name, &live_names);
            if failed > 0 {
                what.push_str(&format!(
                    " ({failed} file(s) in the plugin directory did not load: see above)"
                ));
            } else if live_names.is_empty() {
                what = format!("{lead}: the plugin directory holds no connector");
            }
            problems.push(Problem {
                line: (section.line > 0).then_some(section.line),
                what,
            });
        }
        problems
    }
}
