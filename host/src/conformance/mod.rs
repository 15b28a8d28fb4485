//! Conformance: a connector run against a scripted supplier, scenario by
//! scenario, to show it maps its supplier's answers as documented and
//! never reads a fault as a payment (`payhost plugins test`).
//!
//! - [`scenario`]: the scenarios file and the built-in scenarios;
//! - [`server`]: the scripted supplier on loopback;
//! - [`check`]: comparing the outcome and the request with the scenario;
//! - [`error`]: why a run cannot start ([`ConformanceError`]).
//!
//! The connector runs in the real host, sandbox and limits included, with
//! the file's test configuration and secrets, against a server on
//! 127.0.0.1; nothing leaves the machine.

pub mod check;
pub mod error;
pub mod scenario;
pub mod server;

pub use error::ConformanceError;

use crate::host::Host;
use crate::payments::model::PaymentOutcome;
use crate::policy::settings::Settings;
use payhost_rules::text::escape;
use scenario::{Scenario, Scenarios};
use serde::Serialize;
use server::Supplier;
use std::path::Path;
use tracing::instrument::WithSubscriber as _;

/// The most a connector may read in a scenario; the oversized fault sends
/// twice as much.
const RESPONSE_LIMIT: usize = 1024 * 1024;

/// One scenario's result.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioResult {
    /// The scenario's name.
    pub name: String,
    /// Whether everything expected held.
    pub passed: bool,
    /// What did not, one line each.
    pub problems: Vec<String>,
    /// The outcome the connector came to (none when the host refused the
    /// request before the connector ran, or a query answered an error).
    pub outcome: Option<PaymentOutcome>,
    /// The error a `query` answered with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<crate::payments::model::ConnectorError>,
}

/// A whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The connector's name, from its `info()`.
    pub connector: String,
    /// Its version.
    pub version: String,
    /// Each scenario's result: the file's first, then the built-in ones.
    pub results: Vec<ScenarioResult>,
}

impl Report {
    /// How many scenarios failed.
    pub fn failed(&self) -> usize {
        self.results.iter().filter(|r| !r.passed).count()
    }

    /// The report for people: a line per scenario, the problems under it.
    pub fn text(&self) -> String {
        let mut out = format!(
            "{} {}: {} scenarios\n",
            escape(&self.connector),
            escape(&self.version),
            self.results.len()
        );
        for r in &self.results {
            out.push_str(&format!(
                "  {}  {}\n",
                if r.passed { "ok  " } else { "FAIL" },
                escape(&r.name)
            ));
            // A problem may quote the connector's text: escaped, it cannot
            // start a line of its own or move the cursor.
            for p in &r.problems {
                out.push_str(&format!("        {}\n", escape(p)));
            }
        }
        out.push_str(&format!(
            "{} passed, {} failed\n",
            self.results.len() - self.failed(),
            self.failed()
        ));
        out
    }
}

/// Runs `scenarios` and the built-in scenarios against the connector in
/// `file`. `Err` when the run cannot start (the file does not load, the
/// scenarios' configuration is refused); a scenario that fails is in the
/// report.
pub async fn run(file: &Path, scenarios: &Scenarios) -> Result<Report, ConformanceError> {
    let work = private_dir().map_err(ConformanceError::TempDir)?;
    let supplier = Supplier::start(2 * RESPONSE_LIMIT)
        .await
        .map_err(ConformanceError::Supplier)?;
    let cache = work.path().join("cache");
    // The connector's name first (compiled once; the cache keeps it).
    let probe = Host::from_settings(Settings {
        host: crate::policy::settings::HostSettings {
            cache: cache.clone(),
            ..Default::default()
        },
        ..Settings::default()
    })
    .map_err(ConformanceError::Engine)?;
    // Quietly: this host has no section for it yet, and would say so.
    let info = probe
        .check_file(file)
        .with_subscriber(tracing::subscriber::NoSubscriber::default())
        .await
        .map_err(ConformanceError::Load)?
        .info;
    drop(probe);
    let config = config(work.path(), &info.name, &supplier.url(), scenarios)?;
    let settings = Settings::parse(&config).map_err(|e| ConformanceError::Settings {
        error: Box::new(e),
        config: config.clone(),
    })?;
    let host = Host::from_settings(settings).map_err(ConformanceError::Engine)?;
    host.load_file(file).await.map_err(ConformanceError::Load)?;
    let mut results = Vec::new();
    let built_in = scenario::built_in();
    for (n, s) in scenarios
        .scenarios
        .iter()
        .chain(built_in.iter())
        .enumerate()
    {
        results.push(one(&host, &supplier, &info.name, scenarios, s, n).await?);
    }
    Ok(Report {
        connector: info.name,
        version: info.version,
        results,
    })
}

async fn one(
    host: &Host,
    supplier: &Supplier,
    name: &str,
    scenarios: &Scenarios,
    s: &Scenario,
    n: usize,
) -> Result<ScenarioResult, ConformanceError> {
    let request = scenarios.request(s, n)?;
    supplier.script(s.answers());
    let clock = s.clock.or(scenarios.connector.clock);
    if let Ok(connector) = host.connector(name) {
        connector.pin_clock(clock);
    }
    let refused = |e: crate::execution::PayError| {
        (
            None,
            None,
            vec![format!("refused before the connector ran: {e}")],
        )
    };
    let (outcome, error, mut problems) = match s.call {
        scenario::Call::Pay => match host.pay(name, request).await {
            Ok(outcome) => {
                let problems = check::outcome(&s.expect, &outcome);
                (Some(outcome), None, problems)
            }
            Err(e) => refused(e),
        },
        scenario::Call::Query => match host.query(name, &request.order_id).await {
            Ok(Ok(outcome)) => {
                let problems = check::outcome(&s.expect, &outcome);
                (Some(outcome), None, problems)
            }
            Ok(Err(error)) => {
                let problems = check::query_error(&s.expect, &error);
                (None, Some(error), problems)
            }
            Err(e) => refused(e),
        },
    };
    if let Some(sent) = &s.sent {
        problems.extend(check::sent(sent, &supplier.received()));
    }
    // A problem may quote what was sent: the test secrets are named, not
    // shown (a report gets pasted into tickets).
    let secrets: Vec<(&String, &String)> = scenarios
        .connector
        .secrets
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .collect();
    // In one pass, the longest value first where two overlap: a name put in
    // is never searched again.
    if let Ok(finder) = aho_corasick::AhoCorasick::builder()
        .match_kind(aho_corasick::MatchKind::LeftmostLongest)
        .build(secrets.iter().map(|(_, value)| value.as_str()))
    {
        let names: Vec<String> = secrets
            .iter()
            .map(|(name, _)| format!("<secret {name}>"))
            .collect();
        for problem in &mut problems {
            *problem = finder.replace_all(problem, &names);
        }
    }
    Ok(ScenarioResult {
        name: s.name.clone(),
        passed: problems.is_empty(),
        problems,
        outcome,
        error,
    })
}

/// The host configuration for the run: the connector's section with the
/// scripted supplier's URL, the file's config and secrets (written to
/// owner-only files), a short timeout and a known response limit.
fn config(
    dir: &Path,
    name: &str,
    url: &str,
    scenarios: &Scenarios,
) -> Result<String, ConformanceError> {
    let secrets = dir.join("secrets");
    std::fs::create_dir_all(&secrets).map_err(ConformanceError::Directory)?;
    let plugins = dir.join("plugins");
    std::fs::create_dir_all(&plugins).map_err(ConformanceError::Directory)?;
    let quote = |s: &str| toml::Value::String(s.to_owned()).to_string();
    let timeout = scenarios.connector.timeout.as_deref().unwrap_or("2s");
    // The timeout scenario waits it out, up to max_requests times.
    match crate::policy::limits::parse_duration(timeout) {
        Ok(d) if d <= std::time::Duration::from_secs(60) => {}
        Ok(_) => return Err(ConformanceError::TimeoutTooLong),
        Err(e) => return Err(ConformanceError::Timeout(e.to_string())),
    }
    let mut text = format!(
        "[host]\nplugins = {}\ncache = {}\n\n[connectors.{name}]\nbase_url = {}\nallowed_hosts = [{}]\ntimeout = {}\nmax_response_size = {}\n",
        quote(&plugins.to_string_lossy()),
        quote(&dir.join("cache").to_string_lossy()),
        quote(url),
        quote(url),
        quote(timeout),
        RESPONSE_LIMIT,
    );
    for (key, value) in &scenarios.connector.config {
        if matches!(key.as_str(), "base_url" | "allowed_hosts" | "secrets") {
            return Err(ConformanceError::ReservedConfig { key: key.clone() });
        }
        if !payhost_rules::name::is_key_name(key) {
            return Err(ConformanceError::ConfigKey { key: key.clone() });
        }
        text.push_str(&format!("{key} = {}\n", quote(value)));
    }
    let mut refs = Vec::new();
    for (key, value) in &scenarios.connector.secrets {
        if !payhost_rules::name::is_key_name(key) {
            return Err(ConformanceError::SecretKey { key: key.clone() });
        }
        let path = secrets.join(key);
        write_private(&path, value.as_bytes()).map_err(ConformanceError::SecretFile)?;
        refs.push(format!(
            "{key} = {{ file = {} }}",
            quote(&path.to_string_lossy())
        ));
    }
    text.push_str(&format!("secrets = {{ {} }}\n", refs.join(", ")));
    if !scenarios.connector.placements.is_empty() {
        let list = toml::Value::try_from(&scenarios.connector.placements)
            .map_err(ConformanceError::Placements)?;
        text.push_str(&format!("placements = {list}\n"));
    }
    if scenarios.connector.unpinned {
        text.push_str("unpinned = true\n");
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

/// A temporary directory only its owner may enter (the compile cache
/// refuses any other).
fn private_dir() -> std::io::Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(dir)
}
