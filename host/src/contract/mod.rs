//! The contract: the host side of the `payment-connector` world, generated
//! from `wit/` (`payhost:connector@0.3.0`) behind a small facade; the frozen
//! 0.2.0 (`v0_2`, served with the current types) and 0.1.0 (`legacy`, its
//! own bindings) for connectors built before it; the host's view
//! of what a connector places in a request (`parts`) and of a sealed value
//! (`sealed`); and the conversions between the generated types and the
//! host's own (`convert`).
//!
//! The generated code stays in private modules; the rest of the crate uses
//! the names re-exported here.

pub(crate) mod convert;
pub(crate) mod exports;
pub(crate) mod hidden;
pub(crate) mod legacy;
pub(crate) mod parts;
pub(crate) mod placement;
pub(crate) mod sealed;
pub(crate) mod v0_2;

mod generated {
    #![allow(missing_docs, unused_qualifications, clippy::all)]
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "payment-connector",
        imports: {
            "payhost:connector/http.send": async | trappable,
            "payhost:connector/crypto.md5": async | trappable,
            "payhost:connector/crypto.sha256": async | trappable,
            "payhost:connector/crypto.hmac-sha256": async | trappable,
            "payhost:connector/crypto.aes256-cbc-encrypt": async | trappable,
            "payhost:connector/crypto.aes256-cbc-decrypt": async | trappable,
            "payhost:connector/crypto.base64-encode": async | trappable,
            "payhost:connector/crypto.base64-decode": async | trappable,
            default: trappable,
        },
        exports: { default: async },
        with: {
            "payhost:connector/types.sealed": crate::contract::sealed::SealedValue,
        },
    });
}

pub(crate) use generated::payhost::connector::{clock, config, crypto, http, log, types};

/// The contract version this host implements.
pub const CONTRACT_VERSION: &str = "0.3.0";
/// The contract's package name.
pub const CONTRACT_PACKAGE: &str = "payhost:connector";
/// The name of the interface every connector exports.
pub const CONNECTOR_EXPORT: &str = "payhost:connector/connector@0.3.0";

/// The contract versions this host runs a connector of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ContractVersion {
    /// `payhost:connector@0.1.x`, frozen: crypto hands values derived from
    /// secrets, and the card number, to the connector.
    V0_1,
    /// `payhost:connector@0.2.x`, frozen: derived values and card data are
    /// sealed, but the connector declares no placements (its operator's
    /// section pins it).
    V0_2,
    /// `payhost:connector@0.3.x`: the connector declares its placements.
    V0_3,
}

impl ContractVersion {
    /// The newest version.
    pub const CURRENT: ContractVersion = ContractVersion::V0_3;

    /// The version for a `major.minor` this host runs, if any.
    pub fn from_minor(major: u64, minor: u64) -> Option<ContractVersion> {
        match (major, minor) {
            (0, 1) => Some(ContractVersion::V0_1),
            (0, 2) => Some(ContractVersion::V0_2),
            (0, 3) => Some(ContractVersion::V0_3),
            _ => None,
        }
    }

    /// `0.1.0`, `0.2.0`, `0.3.0`.
    pub fn as_str(self) -> &'static str {
        match self {
            ContractVersion::V0_1 => "0.1.0",
            ContractVersion::V0_2 => "0.2.0",
            ContractVersion::V0_3 => "0.3.0",
        }
    }

    /// Why a connector of this version is weaker than the current one, for
    /// listings and warnings; `None` for the current version.
    pub fn legacy_note(self) -> Option<&'static str> {
        match self {
            ContractVersion::V0_1 => {
                Some("legacy: values derived from secrets are visible to the connector")
            }
            ContractVersion::V0_2 => {
                Some("legacy: declares no placements, its section must write them")
            }
            ContractVersion::V0_3 => None,
        }
    }

    /// `0.1.0 (legacy: …)` or `0.3.0`.
    pub fn describe(self) -> String {
        match self.legacy_note() {
            Some(note) => format!("{} ({note})", self.as_str()),
            None => self.as_str().to_owned(),
        }
    }
}

impl std::fmt::Display for ContractVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
