//! What an API token may do: the `scopes` of `[api]`.

use serde::{Deserialize, Serialize};

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
    /// `GET /metrics` only: for a scraper, which sees no grant and no
    /// payment.
    Metrics,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 5] = [
        Scope::Pay,
        Scope::Read,
        Scope::Resolve,
        Scope::Admin,
        Scope::Metrics,
    ];

    /// The scope named `text` in `payhost.toml`.
    pub fn from_name(text: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The scope's name in `payhost.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Pay => "pay",
            Scope::Read => "read",
            Scope::Resolve => "resolve",
            Scope::Admin => "admin",
            Scope::Metrics => "metrics",
        }
    }
}
