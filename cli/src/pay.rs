//! `payhost pay`: one payment through one connector.

use super::{Exit, exit, host_with_plugins, output, print_json};
use anyhow::Context as _;
use clap::{Args, ValueEnum};
use payhost::{
    Card, Host, MethodKind, Money, PaymentMethod, PaymentOutcome, PaymentRequest, PaymentState,
};
use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Pay one order through a connector.
///
/// Card data is never an argument: put it in a JSON file (or pipe it on
/// standard input with `--card-file -`):
///
///   {"number": "4532015112830366", "expiry_month": 12, "expiry_year": 2030,
///    "cvv": "123", "holder_first_name": "Ada", "holder_last_name": "Lovelace"}
///
/// Exit code: 0 succeeded or pending, 3 failed, 4 unknown (it may have
/// reached the supplier), 5 busy (nothing was sent: try again), 6 refused
/// by the journal (the order already has an attempt that may have gone
/// through, or the key was used for another payment: nothing was sent), 2
/// usage or configuration error, 1 internal error.
#[derive(Args)]
pub(crate) struct Pay {
    /// The connector, by the name it declares (see `payhost plugins list`).
    #[arg(long)]
    connector: String,
    /// The supplier's order number.
    #[arg(long)]
    order: String,
    /// The amount, as a plain decimal (312.99).
    #[arg(long)]
    amount: String,
    /// The ISO 4217 currency code.
    #[arg(long)]
    currency: String,
    /// How to pay.
    #[arg(long, value_enum, default_value_t = Method::Balance)]
    method: Method,
    /// The supplier's account or payment code, for `--method account`.
    #[arg(long, required_if_eq("method", "account"))]
    account: Option<String>,
    /// The card, as a JSON file, or `-` for standard input (card methods).
    #[arg(long, value_name = "FILE")]
    card_file: Option<PathBuf>,
    /// The platform's own order number.
    #[arg(long)]
    client_order: Option<String>,
    /// A supplier-specific attribute, `key=value` (repeatable).
    #[arg(long = "attr", value_name = "KEY=VALUE", value_parser = parse_attr)]
    attributes: Vec<(String, String)>,
    /// The attempt's idempotency key (default: a new random one).
    #[arg(long)]
    idempotency_key: Option<String>,
    /// Print the outcome as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Method {
    /// The platform's balance or deposit with the supplier.
    Balance,
    /// A card the supplier charges (virtual card passthrough).
    Card,
    /// The traveller's card, the supplier as merchant of record.
    MerchantOfRecord,
    /// An account the supplier keeps (`--account CODE`).
    Account,
}

/// An `--attr` value that is not `key=value` with a key.
#[derive(Debug, thiserror::Error)]
#[error("`{text}` is not key=value")]
struct NotKeyValue {
    /// The value as given.
    text: String,
}

/// Reads an `--attr` value: `key=value`, the key trimmed and not empty.
fn parse_attr(text: &str) -> Result<(String, String), NotKeyValue> {
    text.split_once('=')
        .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| NotKeyValue {
            text: text.to_owned(),
        })
}

fn read_card(path: &Path) -> Result<Card, Exit> {
    let text = if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the card from standard input")?;
        text
    } else {
        std::fs::read_to_string(path)
            .with_context(|| format!("cannot read card file {}", path.display()))
            .map_err(Exit::usage)?
    };
    // serde_json's error names the line and field, never the value.
    serde_json::from_str(&text).map_err(|e| {
        Exit::usage(anyhow::anyhow!(
            "the card file is not valid: {e}; see `payhost pay --help` for its form"
        ))
    })
}

impl Pay {
    pub(crate) async fn run(self, config: &Path) -> Result<u8, Exit> {
        let card = || -> Result<Card, Exit> {
            let path = self.card_file.as_deref().ok_or_else(|| {
                Exit::usage(anyhow::anyhow!(
                    "this method needs a card: pass --card-file FILE (or - for standard input)"
                ))
            })?;
            read_card(path)
        };
        let kind = match self.method {
            Method::Balance => MethodKind::Balance,
            Method::Card => MethodKind::Card,
            Method::MerchantOfRecord => MethodKind::MerchantOfRecord,
            Method::Account => MethodKind::Account,
        };
        let card = match kind {
            MethodKind::Card | MethodKind::MerchantOfRecord => Some(card()?),
            _ => None,
        };
        let method =
            PaymentMethod::from_parts(kind, card, self.account.clone()).map_err(Exit::usage)?;
        let amount = Money::parse(&self.amount, &self.currency).map_err(Exit::usage)?;
        let request = PaymentRequest {
            order_id: self.order.clone(),
            client_order_id: self.client_order.clone(),
            method,
            amount,
            idempotency_key: self
                .idempotency_key
                .clone()
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            attributes: self.attributes.iter().cloned().collect::<BTreeMap<_, _>>(),
        };
        let host = host_for(config, &self.connector).await?;
        let journal = payhost::Journal::open_target(
            &host.settings().journal_target(),
            host.settings().journal_options(),
        )
        .await
        .map_err(Exit::journal)?;
        let host = host.with_journal(journal);
        let started = Instant::now();
        let executed = host.execute(&self.connector, request).await;
        // An outcome the journal could not take yet is retried a while.
        host.wait_idle(std::time::Duration::from_secs(10)).await;
        // The lease is given up and the WAL checkpointed, whatever happened.
        if let Some(journal) = host.journal()
            && let Err(e) = journal.close().await
        {
            tracing::warn!("closing the journal: {e}");
        }
        let executed = executed.map_err(Exit::pay)?;
        if executed.replayed {
            eprintln!(
                "note: this idempotency key was seen before: the outcome of attempt {} is replayed; nothing was sent",
                executed.id.unwrap_or_default()
            );
        }
        let outcome = executed.outcome;
        let millis = started.elapsed().as_millis();
        if self.json {
            print_json(&serde_json::json!({
                "id": executed.id,
                "replayed": executed.replayed,
                "connector": self.connector,
                "order_id": self.order,
                "milliseconds": millis,
                "outcome": outcome,
            }))?;
        } else {
            print_outcome(executed.id, &self.connector, &self.order, &outcome, millis);
        }
        Ok(match outcome.state {
            PaymentState::Succeeded | PaymentState::Pending => exit::OK,
            PaymentState::Failed => exit::FAILED,
            PaymentState::Unknown => exit::UNKNOWN,
        })
    }
}

fn print_outcome(
    id: Option<i64>,
    connector: &str,
    order: &str,
    outcome: &PaymentOutcome,
    millis: u128,
) {
    let row = |k: &str, v: &str| output::row(18, k, v);
    if let Some(id) = id {
        row("attempt", &id.to_string());
    }
    row("connector", connector);
    row("order", order);
    row("state", &outcome.state.to_string());
    if let Some(e) = &outcome.error {
        row("kind", e.kind.as_str());
        row("retryable", if e.retryable { "yes" } else { "no" });
        row("message", &e.message);
    }
    for (k, v) in [
        ("supplier code", &outcome.supplier_code),
        ("supplier message", &outcome.supplier_message),
        ("supplier ref", &outcome.supplier_reference),
    ] {
        if let Some(v) = v {
            row(k, v);
        }
    }
    if let Some(m) = &outcome.charged {
        row("charged", &m.to_string());
    }
    // Under their own heading: a detail cannot take the name of a row
    // above (`state`).
    for (k, v) in &outcome.details {
        row(&format!("detail {k}"), v);
    }
    row("milliseconds", &millis.to_string());
    if outcome.state == PaymentState::Unknown {
        eprintln!(
            "note: the outcome is unknown; the payment may have reached the supplier. Do not pay again before checking with the supplier."
        );
    }
}

/// A host with the connector `name` loaded. The file named for it
/// (`plugins/NAME.wasm`) is tried first, so one payment does not compile or
/// load the whole directory; when that file is missing or holds another
/// connector, the whole directory is loaded as `payhost serve` would.
async fn host_for(config: &Path, name: &str) -> Result<Host, Exit> {
    let host = crate::host(config)?;
    let file = host.settings().plugins_dir().join(format!("{name}.wasm"));
    if file.is_file() {
        match host.load_file(&file).await {
            Ok(connector) if connector.name() == name => return Ok(host),
            Ok(connector) => tracing::info!(
                "{} holds the connector `{}`, not `{name}`: loading the whole plugin directory",
                file.display(),
                connector.name()
            ),
            Err(e) => tracing::info!("{e}: loading the whole plugin directory"),
        }
    }
    let (host, _) = host_with_plugins(config).await?;
    Ok(host)
}
