//! The host: the runtime, the operator's settings and the loaded
//! connectors, with the one entry point every payment goes through.

use crate::connector::{Connector, LoadError};
use crate::payment::{ConnectorError, PaymentOutcome, PaymentRequest, RequestError};
use crate::runtime::{Runtime, RuntimeOptions};
use crate::settings::Settings;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// Why a payment was not attempted.
#[derive(Debug, thiserror::Error)]
pub enum PayError {
    /// No connector has this name.
    #[error(
        "no connector named `{name}` is loaded (loaded: {loaded}); check `payhost plugins list`"
    )]
    UnknownConnector {
        /// The name asked for.
        name: String,
        /// The names loaded.
        loaded: String,
    },
    /// The request is malformed.
    #[error("invalid payment request: {0}")]
    Invalid(#[from] RequestError),
    /// The connector does not implement the method.
    #[error("connector `{name}` does not support {method} payments (it supports: {supported})")]
    MethodNotSupported {
        /// The connector.
        name: String,
        /// The method asked for.
        method: String,
        /// The methods it supports.
        supported: String,
    },
}

/// The host.
pub struct Host {
    runtime: Runtime,
    settings: Settings,
    connectors: RwLock<BTreeMap<String, Arc<Connector>>>,
}

impl Host {
    /// A host with no connector loaded yet.
    pub fn new(settings: Settings, options: &RuntimeOptions) -> wasmtime::Result<Host> {
        Ok(Host {
            runtime: Runtime::new(options)?,
            settings,
            connectors: RwLock::new(BTreeMap::new()),
        })
    }

    /// A host whose compile cache is the one `settings` names.
    pub fn from_settings(settings: Settings) -> wasmtime::Result<Host> {
        let options = RuntimeOptions {
            cache_dir: Some(settings.cache_dir()),
            ..RuntimeOptions::default()
        };
        Self::new(settings, &options)
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The runtime.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// Loads a connector without registering it (for `plugins check`).
    pub async fn check_file(&self, file: &Path) -> Result<Connector, LoadError> {
        Connector::load(&self.runtime, &self.settings, file).await
    }

    /// Loads a connector file and makes it live, replacing any connector of
    /// the same name.
    pub async fn load_file(&self, file: &Path) -> Result<Arc<Connector>, LoadError> {
        let connector = Arc::new(self.check_file(file).await?);
        let mut map = self.connectors.write().unwrap_or_else(|e| e.into_inner());
        map.insert(connector.name().to_owned(), connector.clone());
        Ok(connector)
    }

    /// Loads every `*.wasm` in the plugin directory; one file's failure does
    /// not stop the others. Two files declaring one name: the first (by file
    /// name) wins, the second is reported.
    pub async fn load_plugins(&self) -> Vec<Result<Arc<Connector>, LoadError>> {
        let dir = self.settings.plugins_dir();
        let files = match wasm_files(&dir) {
            Ok(files) => files,
            Err(e) => return vec![Err(e)],
        };
        let mut results = Vec::new();
        let mut seen: BTreeMap<String, PathBuf> = BTreeMap::new();
        for file in files {
            let result = match self.check_file(&file).await {
                Ok(c) => match seen.get(c.name()) {
                    Some(first) => Err(LoadError {
                        file: file.clone(),
                        reason: format!(
                            "declares the name `{}`, already taken by {}; remove one of the two files",
                            c.name(),
                            first.display()
                        ),
                    }),
                    None => {
                        seen.insert(c.name().to_owned(), file.clone());
                        let c = Arc::new(c);
                        self.connectors
                            .write()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert(c.name().to_owned(), c.clone());
                        Ok(c)
                    }
                },
                Err(e) => Err(e),
            };
            if let Err(e) = &result {
                tracing::error!("{e}");
            }
            results.push(result);
        }
        results
    }

    /// The live connectors, by name.
    pub fn connectors(&self) -> Vec<Arc<Connector>> {
        self.connectors
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// One live connector.
    pub fn connector(&self, name: &str) -> Result<Arc<Connector>, PayError> {
        let map = self.connectors.read().unwrap_or_else(|e| e.into_inner());
        map.get(name)
            .cloned()
            .ok_or_else(|| PayError::UnknownConnector {
                name: name.to_owned(),
                loaded: if map.is_empty() {
                    "none".to_owned()
                } else {
                    map.keys().cloned().collect::<Vec<_>>().join(", ")
                },
            })
    }

    /// Validates and makes one payment. An `Err` means nothing was attempted.
    pub async fn pay(
        &self,
        connector: &str,
        mut request: PaymentRequest,
    ) -> Result<PaymentOutcome, PayError> {
        let connector = self.connector(connector)?;
        request.validate()?;
        let kind = request.method.kind();
        if !connector.info.methods.contains(&kind) {
            return Err(PayError::MethodNotSupported {
                name: connector.name().to_owned(),
                method: kind.to_string(),
                supported: connector
                    .info
                    .methods
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        Ok(connector.pay(&self.runtime, &request).await)
    }

    /// Asks a connector where an order's payment stands.
    pub async fn query(
        &self,
        connector: &str,
        order_id: &str,
    ) -> Result<Result<PaymentOutcome, ConnectorError>, PayError> {
        let connector = self.connector(connector)?;
        Ok(connector.query(&self.runtime, order_id).await)
    }
}

/// The `*.wasm` files of a directory, sorted.
pub fn wasm_files(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let entries = std::fs::read_dir(dir).map_err(|e| LoadError {
        file: dir.to_owned(),
        reason: format!("cannot read the plugin directory ({e}); set [host] plugins in payhost.toml or create it"),
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "wasm") && p.is_file())
        .collect();
    files.sort();
    Ok(files)
}
