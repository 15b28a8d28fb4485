//! The live set: connectors by name, the plugin directory's files behind
//! them, and the scan that keeps the two in line.

use super::connector::Connector;
use super::info::LoadError;
use super::load;
use crate::engine::Runtime;
use crate::policy::settings::Settings;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

/// No live connector has the name asked for.
#[derive(Debug, thiserror::Error)]
#[error("no connector named `{name}` is loaded (loaded: {loaded}); check `payhost plugins list`")]
pub struct UnknownConnector {
    /// The name asked for.
    pub name: String,
    /// The names loaded.
    pub loaded: String,
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

/// The live connectors and the plugin directory's files.
pub struct Registry {
    runtime: Runtime,
    settings: Settings,
    connectors: RwLock<BTreeMap<String, Arc<Connector>>>,
    files: Mutex<BTreeMap<PathBuf, PluginFile>>,
    scan_lock: tokio::sync::Mutex<()>,
    reload_failures: AtomicU64,
}

impl Registry {
    /// A registry with nothing loaded yet.
    pub fn new(runtime: Runtime, settings: Settings) -> Registry {
        Registry {
            runtime,
            settings,
            connectors: RwLock::new(BTreeMap::new()),
            files: Mutex::new(BTreeMap::new()),
            scan_lock: tokio::sync::Mutex::new(()),
            reload_failures: AtomicU64::new(0),
        }
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The runtime connectors run on.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// Loads a connector without registering it (for `plugins check`).
    pub async fn check_file(&self, file: &Path) -> Result<Connector, LoadError> {
        load::load(&self.runtime, &self.settings, file).await
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
                self.reload_failures.fetch_add(1, Ordering::Relaxed);
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
        self.reload_failures.load(Ordering::Relaxed)
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
    pub fn connector(&self, name: &str) -> Result<Arc<Connector>, UnknownConnector> {
        let map = self.connectors.read().unwrap_or_else(|e| e.into_inner());
        map.get(name).cloned().ok_or_else(|| UnknownConnector {
            name: name.to_owned(),
            loaded: if map.is_empty() {
                "none".to_owned()
            } else {
                map.keys().cloned().collect::<Vec<_>>().join(", ")
            },
        })
    }
}

/// The `*.wasm` files of a directory, sorted.
fn wasm_files(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
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
