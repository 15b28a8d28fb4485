//! Payments through all four connectors against the simulator: the set-up
//! the demo, the tests and the benchmarks share, and the demo's table.

use crate::sim::{Credentials, Simulator};
use payhost::{
    Card, Host, Money, PaymentMethod, PaymentOutcome, PaymentRequest, PaymentState, RuntimeOptions,
    Settings,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A simulator, a `payhost.toml` pointing the four connectors at it with the
/// simulator's credentials as secret files, and a host with them loaded.
pub struct Setup {
    /// The simulator.
    pub sim: Simulator,
    /// The host.
    pub host: Host,
    /// The directory holding `payhost.toml`, `plugins/` and `secrets/`.
    pub dir: tempfile::TempDir,
}

/// Each shipped connector's scenarios file, which holds its placements.
const SCENARIOS: [(&str, &str); 4] = [
    (
        "atlas",
        include_str!("../../../plugins/atlas/scenarios.toml"),
    ),
    (
        "hkramble",
        include_str!("../../../plugins/hkramble/scenarios.toml"),
    ),
    (
        "aerohub",
        include_str!("../../../plugins/aerohub/scenarios.toml"),
    ),
    ("nemo", include_str!("../../../plugins/nemo/scenarios.toml")),
];

/// The placements of a shipped connector's scenarios file; none for any
/// other name.
pub fn placement_specs(connector: &str) -> Vec<payhost::PlacementSpec> {
    let Some((_, text)) = SCENARIOS.iter().find(|(name, _)| *name == connector) else {
        return Vec::new();
    };
    payhost::conformance::scenario::Scenarios::parse(text)
        .unwrap_or_else(|e| panic!("plugins/{connector}/scenarios.toml: {e}"))
        .connector
        .placements
}

/// Where each shipped connector's hidden values go, from its supplier's
/// document: the `placements` of its scenarios file (`plugins/NAME/
/// scenarios.toml`), written as `placements = [...]` for its section in
/// `payhost.toml`; empty for any other name.
pub fn placements(connector: &str) -> String {
    let specs = placement_specs(connector);
    if specs.is_empty() {
        return String::new();
    }
    let lines: Vec<String> = specs
        .iter()
        .map(|p| {
            let entry = toml::Value::try_from(p).expect("a placement serializes as TOML");
            format!("  {entry},\n")
        })
        .collect();
    format!("placements = [\n{}]\n", lines.concat())
}

/// `payhost.toml` for the four connectors against a simulator at `url`,
/// with secrets in `secrets/` and the placements of [`placements`]; `extra`
/// is appended to every section. `cache` is written absolute: the file is
/// read where it is written (a temporary directory), and a relative cache
/// would be a new, empty one there every time.
pub fn config(url: &str, cache: &Path, extra: &str) -> String {
    let cache = std::path::absolute(cache).unwrap_or_else(|_| cache.to_path_buf());
    let section = |name: &str, keys: &str, secrets: &[&str]| {
        let secrets: Vec<String> = secrets
            .iter()
            .map(|s| format!("{s} = {{ file = \"secrets/{name}-{s}\" }}"))
            .collect();
        format!(
            "[connectors.{name}]\nbase_url = \"{url}\"\nallowed_hosts = [\"{url}\"]\n{keys}secrets = {{ {} }}\n{}{extra}\n",
            secrets.join(", "),
            placements(name)
        )
    };
    let c = Credentials::default();
    [
        format!(
            "[host]\nplugins = \"plugins\"\ncache = {:?}\n",
            cache.display().to_string()
        ),
        section(
            "atlas",
            "request_source = \"payhost-demo\"\n",
            &["client_id", "client_secret"],
        ),
        section(
            "hkramble",
            &format!("partner_id = {:?}\n", c.hk_partner_id),
            &["secret_key"],
        ),
        section(
            "aerohub",
            &format!("api_key = {:?}\n", c.aerohub_key),
            &["api_secret"],
        ),
        section(
            "nemo",
            &format!("client_id = {:?}\n", c.nemo_client_id),
            &["api_key", "security_key"],
        ),
    ]
    .join("\n")
}

/// Writes the simulator's credentials as the secret files [`config`] names.
pub fn write_secrets(dir: &Path, c: &Credentials) -> std::io::Result<()> {
    let secrets = dir.join("secrets");
    std::fs::create_dir_all(&secrets)?;
    for (name, value) in [
        ("atlas-client_id", &c.atlas_client_id),
        ("atlas-client_secret", &c.atlas_client_secret),
        ("hkramble-secret_key", &c.hk_secret_key),
        ("aerohub-api_secret", &c.aerohub_secret),
        ("nemo-api_key", &c.nemo_api_key),
        ("nemo-security_key", &c.nemo_security_key),
    ] {
        std::fs::write(secrets.join(name), value)?;
    }
    Ok(())
}

impl Setup {
    /// Starts the simulator and a host with the connector files `plugins`
    /// loaded; `extra` is appended to every connector's section.
    pub async fn start(plugins: &[PathBuf], cache: &Path, extra: &str) -> anyhow::Result<Setup> {
        Self::start_with(plugins, cache, extra, &Credentials::default()).await
    }

    /// Like [`Setup::start`], but the host is given `secrets` as its
    /// credentials while the simulator accepts only its defaults.
    pub async fn start_with(
        plugins: &[PathBuf],
        cache: &Path,
        extra: &str,
        secrets: &Credentials,
    ) -> anyhow::Result<Setup> {
        let sim = Simulator::start().await?;
        let (dir, host) = host_at(&sim.url(), plugins, cache, extra, secrets).await?;
        Ok(Setup { sim, host, dir })
    }
}

/// A host with the connector files `plugins` loaded and configured to call
/// the suppliers at `url` with `secrets`; `extra` is appended to every
/// connector's section. The directory holds its files.
pub async fn host_at(
    url: &str,
    plugins: &[PathBuf],
    cache: &Path,
    extra: &str,
    secrets: &Credentials,
) -> anyhow::Result<(tempfile::TempDir, Host)> {
    let options = RuntimeOptions {
        max_instances: 64,
        ..RuntimeOptions::default()
    };
    host_with(url, plugins, cache, extra, secrets, options).await
}

/// Like [`host_at`], with the runtime set up as `options` says (its
/// `cache_dir` is the configuration's).
pub async fn host_with(
    url: &str,
    plugins: &[PathBuf],
    cache: &Path,
    extra: &str,
    secrets: &Credentials,
    options: RuntimeOptions,
) -> anyhow::Result<(tempfile::TempDir, Host)> {
    let dir = tempfile::tempdir()?;
    std::fs::create_dir(dir.path().join("plugins"))?;
    for file in plugins {
        let name = file
            .file_name()
            .ok_or_else(|| anyhow::anyhow!("{} has no file name", file.display()))?;
        std::fs::copy(file, dir.path().join("plugins").join(name))?;
    }
    write_secrets(dir.path(), secrets)?;
    let path = dir.path().join("payhost.toml");
    std::fs::write(&path, config(url, cache, extra))?;
    let settings = Settings::load(&path)?;
    let options = RuntimeOptions {
        cache_dir: Some(settings.cache_dir()),
        ..options
    };
    let host = Host::new(settings, &options).map_err(|e| anyhow::anyhow!("{e:#}"))?;
    for result in host.load_plugins().await {
        result?;
    }
    Ok((dir, host))
}

/// One payment of the demo or of the code tables.
#[derive(Debug, Clone)]
pub struct Case {
    /// The connector.
    pub connector: &'static str,
    /// What it shows.
    pub label: &'static str,
    /// The order (or session, or booking) id.
    pub order: String,
    /// How to pay.
    pub method: PaymentMethod,
    /// The expected state.
    pub state: PaymentState,
    /// The expected error kind, `None` for success.
    pub kind: Option<payhost::ErrorKind>,
    /// The expected raw supplier code, where the supplier gives one.
    pub code: Option<&'static str>,
}

/// A sandbox test card (Atlas's first Visa test card).
pub fn test_card() -> Card {
    Card {
        number: "4532015112830366".into(),
        expiry_month: 12,
        expiry_year: 2030,
        cvv: Some("123".into()),
        holder_first_name: "Ada".into(),
        holder_last_name: "Lovelace".into(),
        billing_address: None,
        reusable: false,
    }
}

impl Case {
    /// A case expecting `state`, `kind` and `code`.
    pub fn new(
        connector: &'static str,
        label: &'static str,
        order: impl Into<String>,
        method: PaymentMethod,
        expect: (
            PaymentState,
            Option<payhost::ErrorKind>,
            Option<&'static str>,
        ),
    ) -> Case {
        Case {
            connector,
            label,
            order: order.into(),
            method,
            state: expect.0,
            kind: expect.1,
            code: expect.2,
        }
    }

    /// The payment request.
    pub fn request(&self) -> PaymentRequest {
        let currency = match self.connector {
            "nemo" => "RUB",
            "aerohub" => "JPY",
            _ => "USD",
        };
        PaymentRequest {
            order_id: self.order.clone(),
            client_order_id: Some(format!("PLT-{}", self.order)),
            method: self.method.clone(),
            amount: Money {
                // The yen has no minor unit.
                amount: if currency == "JPY" { "31299" } else { "312.99" }.into(),
                currency: currency.into(),
            },
            idempotency_key: format!("demo-{}-{}", self.connector, self.order),
            attributes: BTreeMap::new(),
        }
    }

    /// Whether an outcome is what this case expects.
    pub fn matches(&self, outcome: &PaymentOutcome) -> bool {
        outcome.state == self.state
            && outcome.kind() == self.kind
            && (self.code.is_none() || outcome.supplier_code.as_deref() == self.code)
    }
}

/// The demo's payments: a success and documented failures for each connector.
pub fn demo_cases() -> Vec<Case> {
    use PaymentMethod::{Account, Balance};
    use PaymentState::{Failed, Pending, Succeeded, Unknown};
    use payhost::ErrorKind::*;
    let card = PaymentMethod::Card(test_card());
    vec![
        Case::new(
            "atlas",
            "deposit",
            "ATL-OK-1001",
            Balance,
            (Succeeded, None, Some("0")),
        ),
        Case::new(
            "atlas",
            "VCC test card",
            "ATL-OK-1002",
            card.clone(),
            (Succeeded, None, Some("0")),
        ),
        Case::new(
            "atlas",
            "pay again",
            "ATL-OK-1001",
            Balance,
            (Failed, Some(AlreadyPaid), Some("404")),
        ),
        Case::new(
            "atlas",
            "past deadline",
            "ATL-401-1",
            Balance,
            (Failed, Some(OrderExpired), Some("401")),
        ),
        Case::new(
            "atlas",
            "in progress",
            "ATL-406-1",
            Balance,
            (Unknown, Some(InProgress), Some("406")),
        ),
        Case::new(
            "hkramble",
            "balance",
            "HKR-OK-2001",
            Balance,
            (Succeeded, None, Some("0")),
        ),
        Case::new(
            "hkramble",
            "pay again",
            "HKR-OK-2001",
            Balance,
            (Failed, Some(AlreadyPaid), Some("B112")),
        ),
        Case::new(
            "hkramble",
            "price changed",
            "HKR-B116-1",
            Balance,
            (Failed, Some(PriceChanged), Some("B116")),
        ),
        Case::new(
            "aerohub",
            "AeroHub account",
            "AH-OK-3001",
            Balance,
            (Succeeded, None, Some("0")),
        ),
        Case::new(
            "aerohub",
            "card",
            "AH-OK-3002",
            card,
            (Succeeded, None, Some("0")),
        ),
        Case::new(
            "aerohub",
            "bad method",
            "AH-2301-1",
            Account("CAG".into()),
            (Failed, Some(MethodNotSupported), Some("2301")),
        ),
        Case::new(
            "aerohub",
            "wrong signature",
            "AH-1101-1",
            Balance,
            (Failed, Some(AuthFailed), Some("1101")),
        ),
        Case::new(
            "nemo",
            "deposit",
            "100001",
            Balance,
            (Succeeded, None, Some("fully_paid")),
        ),
        Case::new(
            "nemo",
            "Rapida code",
            "100002",
            Account("1079".into()),
            (Pending, None, None),
        ),
        Case::new(
            "nemo",
            "payment/bill",
            "100003",
            Account("bill".into()),
            (Succeeded, None, Some("paid")),
        ),
        Case::new(
            "nemo",
            "no money",
            "900001",
            Balance,
            (
                Failed,
                Some(Declined),
                Some("You have not enough money to pay"),
            ),
        ),
        Case::new(
            "nemo",
            "pay again",
            "100001",
            Balance,
            (Failed, Some(AlreadyPaid), None),
        ),
    ]
}

/// One row of the demo's table.
#[derive(Debug, Clone)]
pub struct Row {
    /// The case.
    pub case: Case,
    /// What happened.
    pub outcome: PaymentOutcome,
    /// How long it took.
    pub elapsed: Duration,
}

/// Runs `cases` one after the other.
pub async fn run(host: &Host, cases: &[Case]) -> Vec<Row> {
    let mut rows = Vec::new();
    for case in cases {
        let started = Instant::now();
        let outcome = match host.pay(case.connector, case.request()).await {
            Ok(outcome) => outcome,
            Err(e) => PaymentOutcome::host(
                PaymentState::Failed,
                payhost::ConnectorError::host(payhost::ErrorKind::InvalidRequest, e.to_string()),
            ),
        };
        rows.push(Row {
            case: case.clone(),
            outcome,
            elapsed: started.elapsed(),
        });
    }
    rows
}

/// The table, as text.
pub fn table(rows: &[Row]) -> String {
    let mut out = format!(
        "{:<9} {:<16} {:<12} {:<10} {:<21} {:<34} {:>6}  {}\n",
        "CONNECTOR", "CASE", "ORDER", "OUTCOME", "KIND", "SUPPLIER CODE", "MS", "AS DOCUMENTED"
    );
    out.push_str(&format!("{}\n", "-".repeat(122)));
    for row in rows {
        let code: String = row
            .outcome
            .supplier_code
            .clone()
            .unwrap_or_else(|| "-".into())
            .chars()
            .take(34)
            .collect();
        out.push_str(&format!(
            "{:<9} {:<16} {:<12} {:<10} {:<21} {:<34} {:>6}  {}\n",
            row.case.connector,
            row.case.label,
            row.case.order,
            row.outcome.state.to_string(),
            row.outcome.kind().map_or("-", |k| k.as_str()),
            code,
            format!("{:.1}", row.elapsed.as_secs_f64() * 1000.0),
            if remote_as_expected(row) { "yes" } else { "NO" },
        ));
    }
    out
}

/// Pays `cases` through a running host's API (`POST /v1/payments`), each
/// under a fresh idempotency key. A refusal by the host (a paid order's second
/// payment) becomes a `failed` row whose kind is the API's error code.
pub async fn run_remote(server: &str, cases: &[Case]) -> anyhow::Result<Vec<Row>> {
    let client = reqwest::Client::new();
    let url = format!("{}/v1/payments", server.trim_end_matches('/'));
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut rows = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let r = case.request();
        let (method, card, account) = match &r.method {
            PaymentMethod::Balance => ("balance", None, None),
            PaymentMethod::Card(c) => ("card", Some(c), None),
            PaymentMethod::MerchantOfRecord(c) => ("merchant-of-record", Some(c), None),
            PaymentMethod::Account(a) => ("account", None, Some(a.clone())),
        };
        let card = card.map(|c| {
            serde_json::json!({
                "number": c.number.expose(), "expiry_month": c.expiry_month, "expiry_year": c.expiry_year, "cvv": c.cvv.as_ref().map(|v| v.expose()),
                "holder_first_name": c.holder_first_name, "holder_last_name": c.holder_last_name,
            })
        });
        let body = serde_json::json!({
            "connector": case.connector, "order_id": r.order_id, "amount": r.amount.amount, "currency": r.amount.currency,
            "method": method, "card": card, "account": account, "client_order_id": r.client_order_id,
            "idempotency_key": format!("demo-{run}-{i}"),
        });
        let started = Instant::now();
        let answer: serde_json::Value = client.post(&url).json(&body).send().await?.json().await?;
        let outcome = match serde_json::from_value::<PaymentOutcome>(answer["outcome"].clone()) {
            Ok(outcome) => outcome,
            Err(_) => {
                let code = answer["error"]["code"]
                    .as_str()
                    .unwrap_or("error")
                    .to_owned();
                let mut o = PaymentOutcome::host(
                    PaymentState::Failed,
                    payhost::ConnectorError::host(
                        payhost::ErrorKind::InvalidRequest,
                        answer["error"]["message"].as_str().unwrap_or("").to_owned(),
                    ),
                );
                o.supplier_code = Some(format!("host: {code}"));
                o
            }
        };
        rows.push(Row {
            case: case.clone(),
            outcome,
            elapsed: started.elapsed(),
        });
    }
    Ok(rows)
}

/// Whether a row paid through a running host is as documented: the case's
/// expectation, or, for a paid order's second payment, the host's refusal.
pub fn remote_as_expected(row: &Row) -> bool {
    row.case.matches(&row.outcome)
        || (row.case.kind == Some(payhost::ErrorKind::AlreadyPaid)
            && row.outcome.supplier_code.as_deref() == Some("host: order_busy"))
}
