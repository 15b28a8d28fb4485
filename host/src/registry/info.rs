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
    /// What is wrong and what to do.
    pub reason: String,
}

impl LoadError {
    pub(crate) fn new(file: &Path, reason: impl Into<String>) -> Self {
        LoadError {
            file: file.to_owned(),
            reason: reason.into(),
        }
    }
}
