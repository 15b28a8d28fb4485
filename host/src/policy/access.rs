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

use crate::policy::settings::{ApiSettings, Scope};
use sha2::Digest;

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
    /// Who presents `authorization` (the header's value), and whether it
    /// may do `scope`.
    pub fn authorize(&self, authorization: Option<&str>, scope: Scope) -> Result<Caller, Refusal> {
        if self.tokens.is_empty() {
            // Only ever reached on loopback: `payhost serve` refuses to
            // listen anywhere else without tokens.
            return Ok(Caller {
                name: "loopback".to_owned(),
                scopes: Scope::ALL.to_vec(),
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
        // `admin` covers what `metrics` does.
        let held = token.scopes.contains(&scope)
            || (scope == Scope::Metrics && token.scopes.contains(&Scope::Admin));
        if !held {
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
    use crate::policy::settings::TokenSettings;

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
        let parsed = crate::Settings::parse(&format!("[api]\ntokens = [{line}]"))
            .unwrap()
            .api;
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
