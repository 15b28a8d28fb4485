//! The host: the runtime, the operator's settings and the loaded
//! connectors, with the one entry point every payment goes through.

use crate::connector::{Connector, LoadError};
use crate::journal::{Begin, Journal, JournalError};
use crate::payment::{ConnectorError, PaymentOutcome, PaymentRequest, RequestError};
use crate::runtime::{Runtime, RuntimeOptions};
use crate::settings::Settings;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

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
    /// The journal refused the attempt (a reused key, an order that may be
    /// paid already) or failed.
    #[error(transparent)]
    Journal(#[from] JournalError),
}

/// A payment as the journal saw it.
#[derive(Debug, Clone)]
pub struct Executed {
    /// The journal's attempt id (`None` without a journal).
    pub id: Option<i64>,
    /// Whether the outcome is an earlier attempt's, replayed for its key.
    pub replayed: bool,
    /// The outcome.
    pub outcome: PaymentOutcome,
}

/// What one file in the plugin directory is, as of the last scan.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PluginFile {
    /// The file.
    pub file: PathBuf,
    /// The connector it holds, when it loaded.
    pub connector: Option<String>,
    /// Why it did not load, when it did not (the previous version, if any, keeps serving).
    pub error: Option<String>,
    #[serde(skip)]
    stamp: (u64, Option<SystemTime>),
}

/// What a scan of the plugin directory changed.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct ScanReport {
    /// Connectors loaded or replaced.
    pub loaded: Vec<String>,
    /// Connectors retired because their file is gone.
    pub removed: Vec<String>,
    /// Files that failed to load.
    pub failed: Vec<String>,
}

/// The host.
pub struct Host {
    runtime: Runtime,
    settings: Settings,
    connectors: RwLock<BTreeMap<String, Arc<Connector>>>,
    files: Mutex<BTreeMap<PathBuf, PluginFile>>,
    scan_lock: tokio::sync::Mutex<()>,
    reload_failures: std::sync::atomic::AtomicU64,
    journal: Option<Journal>,
}

impl Host {
    /// A host with no connector loaded yet.
    pub fn new(settings: Settings, options: &RuntimeOptions) -> wasmtime::Result<Host> {
        Ok(Host {
            runtime: Runtime::new(options)?,
            settings,
            connectors: RwLock::new(BTreeMap::new()),
            files: Mutex::new(BTreeMap::new()),
            scan_lock: tokio::sync::Mutex::new(()),
            reload_failures: std::sync::atomic::AtomicU64::new(0),
            journal: None,
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

    /// Journals every payment in `journal`.
    pub fn with_journal(mut self, journal: Journal) -> Host {
        self.journal = Some(journal);
        self
    }

    /// The journal, if payments are journaled.
    pub fn journal(&self) -> Option<&Journal> {
        self.journal.as_ref()
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
        if let Err(e) = self.scan().await {
            return vec![Err(e)];
        }
        let files = self.files.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let connectors = self
            .connectors
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        files
            .values()
            .map(|f| match (&f.connector, &f.error) {
                (_, Some(error)) => Err(LoadError {
                    file: f.file.clone(),
                    reason: error.clone(),
                }),
                (Some(name), None) => connectors.get(name).cloned().ok_or_else(|| LoadError {
                    file: f.file.clone(),
                    reason: "not loaded".into(),
                }),
                (None, None) => Err(LoadError {
                    file: f.file.clone(),
                    reason: "not loaded".into(),
                }),
            })
            .collect()
    }

    /// Brings the live connectors in line with the plugin directory: a new
    /// or changed file is loaded and swapped in (calls in flight finish on
    /// the version they started with); a file that fails to load is reported
    /// and the previous version keeps serving; a removed file retires its
    /// connector once its calls in flight end. `Err` when the directory
    /// itself cannot be read (nothing changes then).
    pub async fn scan(&self) -> Result<ScanReport, LoadError> {
        let _one_at_a_time = self.scan_lock.lock().await;
        let mut report = ScanReport::default();
        let present = wasm_files(&self.settings.plugins_dir())?;
        for file in &present {
            let stamp = std::fs::metadata(file)
                .map(|m| (m.len(), m.modified().ok()))
                .unwrap_or((0, None));
            let known = self
                .files
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(file)
                .cloned();
            if known.as_ref().is_some_and(|k| k.stamp == stamp) {
                continue;
            }
            let mut entry = PluginFile {
                file: file.clone(),
                connector: known.as_ref().and_then(|k| k.connector.clone()),
                error: None,
                stamp,
            };
            match self.check_file(file).await {
                Ok(connector) => {
                    let name = connector.name().to_owned();
                    let taken = self
                        .connectors
                        .read()
                        .unwrap_or_else(|e| e.into_inner())
                        .get(&name)
                        .map(|c| c.file.clone());
                    match taken {
                        Some(other) if &other != file => {
                            entry.error = Some(format!(
                                "declares the name `{name}`, already taken by {}; remove one of the two files",
                                other.display()
                            ));
                        }
                        _ => {
                            let mut map =
                                self.connectors.write().unwrap_or_else(|e| e.into_inner());
                            if let Some(old) = entry.connector.as_ref().filter(|old| **old != name)
                            {
                                map.remove(old);
                            }
                            map.insert(name.clone(), Arc::new(connector));
                            entry.connector = Some(name.clone());
                            tracing::info!(connector = %name, file = %file.display(), "connector live");
                            report.loaded.push(name);
                        }
                    }
                }
                Err(e) => entry.error = Some(e.reason),
            }
            if let Some(error) = &entry.error {
                self.reload_failures
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::error!(file = %file.display(), "connector not loaded: {error}");
                report.failed.push(format!("{}: {error}", file.display()));
            }
            self.files
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(file.clone(), entry);
        }
        let gone: Vec<PluginFile> = {
            let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
            let gone: Vec<PathBuf> = files
                .keys()
                .filter(|f| !present.contains(f))
                .cloned()
                .collect();
            gone.iter().filter_map(|f| files.remove(f)).collect()
        };
        for f in gone {
            if let Some(name) = f.connector {
                let mut map = self.connectors.write().unwrap_or_else(|e| e.into_inner());
                if map.get(&name).is_some_and(|c| c.file == f.file) {
                    map.remove(&name);
                    tracing::info!(connector = %name, "connector retired: its file is gone");
                    report.removed.push(name);
                }
            }
        }
        Ok(report)
    }

    /// The plugin directory's files as of the last scan.
    pub fn plugin_files(&self) -> Vec<PluginFile> {
        self.files
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// How many times a file failed to load since the host started.
    pub fn reload_failures(&self) -> u64 {
        self.reload_failures
            .load(std::sync::atomic::Ordering::Relaxed)
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
        request: PaymentRequest,
    ) -> Result<PaymentOutcome, PayError> {
        self.execute(connector, request).await.map(|e| e.outcome)
    }

    /// Validates, journals and makes one payment: with a journal, the attempt
    /// is written before the connector runs and updated after, and a key
    /// seen before replays its outcome.
    pub async fn execute(
        &self,
        connector: &str,
        mut request: PaymentRequest,
    ) -> Result<Executed, PayError> {
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
        let Some(journal) = &self.journal else {
            let outcome = connector.pay(&self.runtime, &request).await;
            return Ok(Executed {
                id: None,
                replayed: false,
                outcome,
            });
        };
        let wait = connector.limits.timeout + Duration::from_secs(5);
        match journal.begin(connector.name(), &request, wait).await? {
            Begin::Replay(attempt) => {
                let outcome = attempt.outcome.unwrap_or_else(|| {
                    PaymentOutcome::host(
                        crate::PaymentState::Unknown,
                        ConnectorError::host(
                            crate::ErrorKind::InProgress,
                            format!("attempt {} with this key is still in flight", attempt.id),
                        ),
                    )
                });
                Ok(Executed {
                    id: Some(attempt.id),
                    replayed: true,
                    outcome,
                })
            }
            Begin::New(id) => {
                let outcome = connector.pay(&self.runtime, &request).await;
                if let Err(e) = journal.finish(id, &outcome) {
                    // The outcome is returned all the same; the attempt stays
                    // in flight in the journal and becomes unknown on restart.
                    tracing::error!("{e}");
                }
                Ok(Executed {
                    id: Some(id),
                    replayed: false,
                    outcome,
                })
            }
        }
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
