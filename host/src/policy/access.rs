//! `[api]`: who may call the host's HTTP API, with what rights, and how it
//! is served (allowed `Host` names, TLS, timeouts, connections, shutdown).
//!
//! ```toml
//! [api]
//! tokens = [{ name = "shop", sha256 = "<SHA-256 of the token, hex>", scopes = ["pay", "read"] }]
//! allowed_hosts = ["payhost.internal"]      # Host header names; loopback names by default
//! tls = { cert = "cert.pem", key = "key.pem" }
//! ```
//!
//! Tokens are kept as their SHA-256 only (`payhost token new` makes one and
//! prints the line); a presented token is hashed and compared with every
//! kept hash in constant time.

use crate::policy::limits;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use sha2::Digest;
use std::path::PathBuf;
use std::time::Duration;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// `POST /v1/payments`.
    Pay,
    /// `GET /v1/payments/{id}`.
    Read,
    /// `POST /v1/payments/{id}/resolve`.
    Resolve,
    /// `GET /v1/connectors` (what each connector is granted) and `/metrics`.
    Admin,
}

impl Scope {
    /// The scope's name in `payhost.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Pay => "pay",
            Scope::Read => "read",
            Scope::Resolve => "resolve",
            Scope::Admin => "admin",
        }
    }
}

/// One API token, as `payhost.toml` keeps it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenSettings {
    /// Who holds it; recorded with what it resolves.
    pub name: String,
    /// The token's SHA-256, 64 hex digits.
    #[serde(deserialize_with = "sha256_hex")]
    pub sha256: [u8; 32],
    /// What it may do.
    pub scopes: Vec<Scope>,
}

fn sha256_hex<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
    let text = String::deserialize(d)?;
    let mut out = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut out).map_err(|_| {
        D::Error::custom(
            "`sha256` must be the token's SHA-256 as 64 hex digits; `payhost token new --name NAME --scopes pay,read` makes a token and prints its line",
        )
    })?;
    Ok(out)
}

/// `tls` in `[api]`: PEM files.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    /// The certificate chain.
    pub cert: PathBuf,
    /// The private key.
    pub key: PathBuf,
}

/// The `[api]` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSettings {
    /// The tokens that may call the API. With none, `payhost serve` listens
    /// only on a loopback address, and every caller there has every scope.
    #[serde(default)]
    pub tokens: Vec<TokenSettings>,
    /// The names a request's `Host` may carry (any port): a web page that
    /// rebinds its own name to this machine is refused.
    #[serde(default = "default_hosts")]
    pub allowed_hosts: Vec<String>,
    /// Serve HTTPS with these files.
    #[serde(default)]
    pub tls: Option<TlsSettings>,
    /// Connections open at once; more wait in the listen backlog.
    #[serde(
        default = "default_max_connections",
        deserialize_with = "super::fields::whole"
    )]
    pub max_connections: usize,
    /// How long a connection may take to send a request's headers, idle
    /// keep-alive time included.
    #[serde(default = "default_header_timeout", deserialize_with = "duration")]
    pub header_timeout: Duration,
    /// How long a request's body may take to arrive.
    #[serde(default = "default_body_timeout", deserialize_with = "duration")]
    pub body_timeout: Duration,
    /// The largest request body, in bytes; larger is `413`.
    #[serde(default = "default_max_body", deserialize_with = "size")]
    pub max_body: usize,
    /// On SIGTERM or SIGINT, how long payments in flight may take to finish.
    #[serde(default = "default_shutdown_grace", deserialize_with = "duration")]
    pub shutdown_grace: Duration,
}

impl Default for ApiSettings {
    fn default() -> Self {
        ApiSettings {
            tokens: Vec::new(),
            allowed_hosts: default_hosts(),
            tls: None,
            max_connections: default_max_connections(),
            header_timeout: default_header_timeout(),
            body_timeout: default_body_timeout(),
            max_body: default_max_body(),
            shutdown_grace: default_shutdown_grace(),
        }
    }
}

fn default_hosts() -> Vec<String> {
    ["localhost", "127.0.0.1", "::1"]
        .map(str::to_owned)
        .to_vec()
}
fn default_max_connections() -> usize {
    512
}
fn default_header_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_body_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_max_body() -> usize {
    64 * 1024
}
fn default_shutdown_grace() -> Duration {
    Duration::from_secs(30)
}

fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    super::fields::duration(d)
}

fn size<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    let text = String::deserialize(d)?;
    limits::parse_size(&text)
        .and_then(|n| usize::try_from(n).map_err(|_| format!("`{text}` is too large")))
        .map_err(D::Error::custom)
}

/// A caller the API let in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's name, or `loopback` when no token is configured.
    pub name: String,
    scopes: Vec<Scope>,
}

impl Caller {
    /// Whether it may do what `scope` covers.
    pub fn may(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

/// Why a caller was not let in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No token, or one no section knows: `401`.
    Unauthenticated,
    /// A known token without the scope: `403`.
    Forbidden {
        /// The token's name.
        name: String,
        /// The scope it lacks.
        scope: Scope,
    },
}

impl ApiSettings {
    /// Checks what serde cannot: names, duplicates, scopes.
    pub fn check(&self) -> Result<(), String> {
        let mut seen = std::collections::BTreeSet::new();
        for token in &self.tokens {
            if token.name.is_empty()
                || token.name.len() > 64
                || !token
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                return Err(format!(
                    "[api] token name `{}` must be 1 to 64 letters, digits, `-`, `_` or `.`",
                    payhost_rules::text::escape(&token.name)
                ));
            }
            if !seen.insert(&token.name) {
                return Err(format!("[api] token name `{}` is used twice", token.name));
            }
            if self
                .tokens
                .iter()
                .filter(|t| t.sha256 == token.sha256)
                .count()
                > 1
            {
                return Err(format!(
                    "[api] token `{}` has the same sha256 as another: one token, one entry",
                    token.name
                ));
            }
            if token.scopes.is_empty() {
                return Err(format!(
                    "[api] token `{}` has no scopes: give it some of pay, read, resolve, admin",
                    token.name
                ));
            }
        }
        if self.max_connections == 0 {
            return Err("[api] max_connections must be at least 1".to_owned());
        }
        Ok(())
    }

    /// Who presents `authorization` (the header's value), and whether it
    /// may do `scope`.
    pub fn authorize(&self, authorization: Option<&str>, scope: Scope) -> Result<Caller, Refusal> {
        if self.tokens.is_empty() {
            // Only ever reached on loopback: `payhost serve` refuses to
            // listen anywhere else without tokens.
            return Ok(Caller {
                name: "loopback".to_owned(),
                scopes: vec![Scope::Pay, Scope::Read, Scope::Resolve, Scope::Admin],
            });
        }
        let presented = authorization
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(Refusal::Unauthenticated)?;
        let hash: [u8; 32] = sha2::Sha256::digest(presented.as_bytes()).into();
        // Every kept hash is compared, each in constant time.
        let mut found = None;
        for token in &self.tokens {
            let mut diff = 0u8;
            for (a, b) in token.sha256.iter().zip(hash.iter()) {
                diff |= a ^ b;
            }
            if diff == 0 {
                found = Some(token);
            }
        }
        let token = found.ok_or(Refusal::Unauthenticated)?;
        if !token.scopes.contains(&scope) {
            return Err(Refusal::Forbidden {
                name: token.name.clone(),
                scope,
            });
        }
        Ok(Caller {
            name: token.name.clone(),
            scopes: token.scopes.clone(),
        })
    }

    /// Whether a request's `Host` header names this host.
    pub fn host_allowed(&self, host: Option<&str>) -> bool {
        let Some(host) = host else {
            return false;
        };
        let port_ok = |port: &str| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit());
        let name = if let Some(rest) = host.strip_prefix('[') {
            // `[v6]` or `[v6]:port`, nothing else.
            let Some((name, after)) = rest.split_once(']') else {
                return false;
            };
            if !(after.is_empty() || after.strip_prefix(':').is_some_and(port_ok)) {
                return false;
            }
            name
        } else {
            match host.rsplit_once(':') {
                Some((name, port)) if port_ok(port) && !name.contains(':') => name,
                Some(_) => return false,
                None => host,
            }
        };
        self.allowed_hosts
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(name))
    }
}

/// A new random token and the `payhost.toml` line that admits it.
pub fn new_token(name: &str, scopes: &[Scope]) -> (String, String) {
    let token = format!(
        "ph_{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let hash = hex::encode(sha2::Sha256::digest(token.as_bytes()));
    let scopes: Vec<String> = scopes.iter().map(|s| format!("{:?}", s.as_str())).collect();
    let line = format!(
        "{{ name = {name:?}, sha256 = \"{hash}\", scopes = [{}] }}",
        scopes.join(", ")
    );
    (token, line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(token: &str, scopes: Vec<Scope>) -> ApiSettings {
        ApiSettings {
            tokens: vec![TokenSettings {
                name: "shop".into(),
                sha256: sha2::Sha256::digest(token.as_bytes()).into(),
                scopes,
            }],
            ..ApiSettings::default()
        }
    }

    #[test]
    fn tokens_are_checked_by_hash_and_scope() {
        let api = settings("secret-token", vec![Scope::Pay]);
        assert_eq!(
            api.authorize(Some("Bearer secret-token"), Scope::Pay)
                .map(|c| c.name),
            Ok("shop".to_owned())
        );
        assert_eq!(
            api.authorize(Some("Bearer secret-token"), Scope::Resolve),
            Err(Refusal::Forbidden {
                name: "shop".into(),
                scope: Scope::Resolve
            })
        );
        assert_eq!(
            api.authorize(Some("Bearer other"), Scope::Pay),
            Err(Refusal::Unauthenticated)
        );
        assert_eq!(
            api.authorize(None, Scope::Pay),
            Err(Refusal::Unauthenticated)
        );
        assert_eq!(
            api.authorize(Some("secret-token"), Scope::Pay),
            Err(Refusal::Unauthenticated)
        );
    }

    #[test]
    fn only_listed_host_names_are_allowed() {
        let api = ApiSettings::default();
        for ok in ["localhost:8700", "127.0.0.1", "[::1]:8700", "LOCALHOST"] {
            assert!(api.host_allowed(Some(ok)), "{ok}");
        }
        for bad in [
            "evil.example:8700",
            "localhost.evil.example",
            "",
            "127.0.0.2:80",
        ] {
            assert!(!api.host_allowed(Some(bad)), "{bad}");
        }
        assert!(!api.host_allowed(None));
    }

    #[test]
    fn a_new_token_is_admitted_by_its_line() {
        let (token, line) = new_token("ops", &[Scope::Resolve, Scope::Read]);
        let parsed: ApiSettings = toml::from_str(&format!("tokens = [{line}]")).unwrap();
        assert!(
            parsed
                .authorize(Some(&format!("Bearer {token}")), Scope::Resolve)
                .is_ok()
        );
        assert!(
            parsed
                .authorize(Some(&format!("Bearer {token}")), Scope::Pay)
                .is_err()
        );
    }
}
