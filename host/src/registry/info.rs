//! What a connector declares about itself, and why a file is not a
//! connector.

use crate::contract::placement::PlacementSpec;
use crate::payments::model::MethodKind;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// What a connector declares about itself in `info()`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectorInfo {
    /// Its name, and the name of its section in `payhost.toml`.
    pub name: String,
    /// Its version (semver).
    pub version: String,
    /// The supplier it talks to.
    pub supplier: String,
    /// The payment methods it implements.
    pub methods: Vec<MethodKind>,
    /// The secrets it references.
    pub secrets: Vec<String>,
    /// The config keys it reads.
    pub config_keys: Vec<String>,
    /// The origins it expects to call.
    pub hosts: Vec<String>,
    /// Where it places each hidden value (contract 0.3.0; none before, when
    /// only its operator's section names them).
    pub placements: Vec<PlacementSpec>,
}

/// Why a connector file could not be loaded. Every message names the file.
#[derive(Debug, thiserror::Error)]
#[error("{}: {reason}", file.display())]
pub struct LoadError {
    /// The file.
    pub file: PathBuf,
    /// What kind of failure, for the operator to act on.
    pub kind: LoadKind,
    /// What is wrong and what to do.
    pub reason: String,
}

/// What kind of load failure, and so who acts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoadKind {
    /// The file cannot be read, or is too large: the operator's system.
    File,
    /// Not a WebAssembly component (a core module, a native artifact, bytes
    /// that do not compile, or too slow to compile): the publisher ships
    /// the wrong file.
    NotAComponent,
    /// Built for a contract this host does not run, or older than the
    /// operator's `min_contract`, or not the payment-connector world: the
    /// publisher rebuilds it (or the operator lowers `min_contract`).
    Contract,
    /// Its `info()` failed or declares something invalid: the publisher's bug.
    Info,
    /// A signed package whose signature, digest or manifest does not hold:
    /// someone changed it after it was signed.
    Package,
    /// The operator's `payhost.toml` refuses it: a pinned sha256, file or
    /// publisher, a grant it cannot have, or a downgrade.
    Refused,
    /// Another file declares the same connector name: neither serves until
    /// one of them goes.
    Conflict,
}

impl LoadKind {
    /// Its name, as the API shows it (`not-a-component`).
    pub fn as_str(self) -> &'static str {
        match self {
            LoadKind::File => "file",
            LoadKind::NotAComponent => "not-a-component",
            LoadKind::Contract => "contract",
            LoadKind::Info => "info",
            LoadKind::Package => "package",
            LoadKind::Refused => "refused",
            LoadKind::Conflict => "conflict",
        }
    }
}

impl LoadError {
    pub(crate) fn new(file: &Path, kind: LoadKind, reason: impl Into<String>) -> Self {
        LoadError {
            file: file.to_owned(),
            kind,
            reason: reason.into(),
        }
    }
}
