//! `[api]`: who may call the host's HTTP API, with what rights, and how it
//! is served (allowed `Host` names, TLS, timeouts, connections, shutdown).
//!
//! ```toml
//! [api]
//! tokens = [{ name = "shop", sha256 = "<SHA-256 of the token, hex>", scopes = ["pay", "read"] }]
//! allowed_hosts = ["payhost.internal"]      # Host header names; loopback names by default
//! tls = { cert = "cert.pem", key = "key.pem" }
//! ```

use super::raw;
use super::report::{ConfigError, Report};
use super::scope::Scope;
use std::path::PathBuf;
use std::time::Duration;

/// One API token, as `payhost.toml` keeps it: its SHA-256 only.
#[derive(Debug, Clone)]
pub struct TokenSettings {
    /// Who holds it; recorded with what it resolves.
    pub name: String,
    /// The token's SHA-256.
    pub sha256: [u8; 32],
    /// What it may do.
    pub scopes: Vec<Scope>,
}

/// `tls` in `[api]`: PEM files.
#[derive(Debug, Clone)]
pub struct TlsSettings {
    /// The certificate chain.
    pub cert: PathBuf,
    /// The private key.
    pub key: PathBuf,
}

/// The `[api]` section.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// The tokens that may call the API. With none, `payhost serve` listens
    /// only on a loopback address, and every caller there has every scope.
    pub tokens: Vec<TokenSettings>,
    /// The names a request's `Host` may carry (any port): a web page that
    /// rebinds its own name to this machine is refused.
    pub allowed_hosts: Vec<String>,
    /// Serve HTTPS with these files.
    pub tls: Option<TlsSettings>,
    /// Connections open at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// How long a connection may take to send a request's headers, idle
    /// keep-alive time included.
    pub header_timeout: Duration,
    /// How long a request's body may take to arrive.
    pub body_timeout: Duration,
    /// The largest request body, in bytes; larger is `413`.
    pub max_body: usize,
    /// On SIGTERM or SIGINT, how long payments in flight may take to finish.
    pub shutdown_grace: Duration,
}

impl Default for ApiSettings {
    fn default() -> Self {
        ApiSettings {
            tokens: Vec::new(),
            allowed_hosts: ["localhost", "127.0.0.1", "::1"]
                .map(str::to_owned)
                .to_vec(),
            tls: None,
            max_connections: 512,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            max_body: 64 * 1024,
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

impl ApiSettings {
    /// The section as written, checked: names, duplicates, scopes.
    pub(super) fn from_raw(raw: raw::Api, report: &Report<'_>) -> Result<Self, ConfigError> {
        let d = ApiSettings::default();
        if let Some(max) = &raw.max_connections {
            let span = max.span();
            if max.get_ref().0 == 0 {
                return Err(report.at(
                    span,
                    "api.max_connections",
                    "[api] max_connections must be at least 1",
                ));
            }
        }
        let max_body = match raw.max_body {
            Some(size) => usize::try_from(size.get_ref().0)
                .map_err(|_| report.at(size.span(), "api.max_body", "`max_body` is too large"))?,
            None => d.max_body,
        };
        let spans: Vec<_> = raw.tokens.iter().map(|t| t.span()).collect();
        let settings = ApiSettings {
            tokens: raw
                .tokens
                .into_iter()
                .map(|t| {
                    let t = t.into_inner();
                    TokenSettings {
                        name: t.name,
                        sha256: t.sha256.0,
                        scopes: t.scopes,
                    }
                })
                .collect(),
            allowed_hosts: raw.allowed_hosts.unwrap_or(d.allowed_hosts),
            tls: raw.tls.map(|t| TlsSettings {
                cert: t.cert,
                key: t.key,
            }),
            max_connections: raw
                .max_connections
                .map_or(d.max_connections, |v| v.into_inner().0),
            header_timeout: super::values::above_zero(
                report,
                "api.header_timeout",
                raw.header_timeout,
            )?
            .unwrap_or(d.header_timeout),
            body_timeout: super::values::above_zero(report, "api.body_timeout", raw.body_timeout)?
                .unwrap_or(d.body_timeout),
            max_body,
            shutdown_grace: raw.shutdown_grace.map_or(d.shutdown_grace, |v| v.0),
        };
        settings
            .check()
            .map_err(|(i, message)| report.at(spans[i].clone(), "api.tokens", message))?;
        Ok(settings)
    }

    /// Checks what serde cannot (names, duplicates, scopes): the first token that is wrong, by its place, and what is wrong.
    fn check(&self) -> Result<(), (usize, String)> {
        let mut seen = std::collections::BTreeSet::new();
        for (i, token) in self.tokens.iter().enumerate() {
            let wrong = |message: String| Err((i, message));
            if token.name.is_empty()
                || token.name.len() > 64
                || !token
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                return wrong(format!(
                    "[api] token name `{}` must be 1 to 64 letters, digits, `-`, `_` or `.`",
                    payhost_rules::text::escape(&token.name)
                ));
            }
            if !seen.insert(&token.name) {
                return wrong(format!("[api] token name `{}` is used twice", token.name));
            }
            if self
                .tokens
                .iter()
                .filter(|t| t.sha256 == token.sha256)
                .count()
                > 1
            {
                return wrong(format!(
                    "[api] token `{}` has the same sha256 as another: one token, one entry",
                    token.name
                ));
            }
            if token.scopes.is_empty() {
                return wrong(format!(
                    "[api] token `{}` has no scopes: give it some of pay, read, resolve, admin, metrics",
                    token.name
                ));
            }
        }
        Ok(())
    }
}
