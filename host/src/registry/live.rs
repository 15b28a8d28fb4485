//! The live set: connectors by name, the plugin directory's files behind
//! them, and the scan that keeps the two in line.

use super::connector::Connector;
use super::info::{LoadError, LoadKind};
use super::load;
use crate::engine::Runtime;
use crate::engine::cache::CacheOutcome;
use crate::policy::settings::Settings;
use parking_lot::{Mutex, RwLock};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
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
    /// The connector it holds (its last version that loaded), live unless
    /// another file declares the same name.
    pub connector: Option<String>,
    /// Why its last version did not load, when it did not (the version
    /// before it, if any, keeps serving).
    pub error: Option<String>,
    /// What kind of failure that was.
    pub kind: Option<LoadKind>,
    /// Why what it holds is not live: another file declares the same name.
    pub conflict: Option<String>,
    #[serde(skip)]
    stamp: (u64, Option<SystemTime>),
    #[serde(skip)]
    loaded: Option<Arc<Connector>>,
}

impl PluginFile {
    /// What is wrong with the file, if anything: its load error or its
    /// name conflict.
    pub fn problem(&self) -> Option<&str> {
        self.error.as_deref().or(self.conflict.as_deref())
    }

    /// [`PluginFile::problem`] as a load error, with its kind.
    pub fn load_error(&self) -> Option<LoadError> {
        let (kind, reason) = match (&self.error, &self.conflict) {
            (Some(error), _) => (self.kind.unwrap_or(LoadKind::Refused), error),
            (None, Some(conflict)) => (LoadKind::Conflict, conflict),
            (None, None) => return None,
        };
        Some(LoadError::new(&self.file, kind, reason.clone()))
    }
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
    /// The same, by file name and kind of failure.
    failures_by: Mutex<BTreeMap<(String, &'static str), u64>>,
    /// Why the last scan could not read the plugin directory, if it could not.
    scan_error: Mutex<Option<String>>,
    conflicts: AtomicU64,
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
            failures_by: Mutex::new(BTreeMap::new()),
            scan_error: Mutex::new(None),
            conflicts: AtomicU64::new(0),
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
        let connector = self.check_file(file).await?;
        self.check_downgrade(&connector)?;
        let connector = Arc::new(connector);
        let mut map = self.connectors.write();
        map.insert(connector.name().to_owned(), connector.clone());
        Ok(connector)
    }

    /// A connector with a lower version than the live one of its name is
    /// refused, unless its section says `allow_downgrade = true`: a reload
    /// must not quietly bring back an older (perhaps vulnerable) build.
    fn check_downgrade(&self, connector: &Connector) -> Result<(), LoadError> {
        let name = connector.name();
        let live = self.connectors.read().get(name).cloned();
        let Some(live) = live else {
            return Ok(());
        };
        let (Ok(old), Ok(new)) = (
            semver::Version::parse(&live.info.version),
            semver::Version::parse(&connector.info.version),
        ) else {
            return Ok(());
        };
        let allowed = self
            .settings
            .connectors
            .get(name)
            .is_some_and(|s| s.allow_downgrade);
        if new < old && !allowed {
            return Err(LoadError::new(
                &connector.file,
                LoadKind::Refused,
                format!(
                    "is {name} {new}, older than the live {name} {old}: a downgrade is refused and {old} keeps serving (set allow_downgrade = true in [connectors.{name}] to allow it)"
                ),
            ));
        }
        Ok(())
    }

    /// Loads every `*.wasm` in the plugin directory; one file's failure does
    /// not stop the others. Two files declaring one name both stay out, and
    /// both are reported.
    pub async fn load_plugins(&self) -> Vec<Result<Arc<Connector>, LoadError>> {
        if let Err(e) = self.scan().await {
            return vec![Err(e)];
        }
        let files = self.files.lock().clone();
        let connectors = self.connectors.read().clone();
        files
            .values()
            .map(|f| match (&f.connector, f.load_error()) {
                (_, Some(error)) => Err(error),
                (Some(name), None) => connectors
                    .get(name)
                    .cloned()
                    .ok_or_else(|| LoadError::new(&f.file, LoadKind::Refused, "not loaded")),
                (None, None) => Err(LoadError::new(&f.file, LoadKind::Refused, "not loaded")),
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
        let _scanning = self.runtime.tier_up.scanning();
        let mut report = ScanReport::default();
        let present = match wasm_files(&self.settings.plugins_dir()) {
            Ok(present) => {
                *self.scan_error.lock() = None;
                present
            }
            Err(e) => {
                *self.scan_error.lock() = Some(e.to_string());
                return Err(e);
            }
        };
        // New and changed files are loaded; a file that fails keeps what it
        // held before.
        for file in &present {
            let stamp = std::fs::metadata(file)
                .map(|m| (m.len(), m.modified().ok()))
                .unwrap_or((0, None));
            let known = self.files.lock().get(file).cloned();
            // Unchanged, unless it serves on the baseline tier and its
            // optimised code is now in the cache: then it is loaded again
            // and swapped in like a replaced file.
            let tier_up = known
                .as_ref()
                .and_then(|k| k.loaded.as_ref())
                .is_some_and(|c| {
                    c.cache == CacheOutcome::Baseline && self.runtime.cache.has(&c.sha256)
                });
            if known.as_ref().is_some_and(|k| k.stamp == stamp) && !tier_up {
                continue;
            }
            let mut entry = PluginFile {
                file: file.clone(),
                connector: known.as_ref().and_then(|k| k.connector.clone()),
                error: None,
                kind: None,
                conflict: None,
                stamp,
                loaded: known.and_then(|k| k.loaded),
            };
            let checked = match self.check_file(file).await {
                Ok(connector) => self.check_downgrade(&connector).map(|()| connector),
                Err(e) => Err(e),
            };
            match checked {
                Ok(connector) => {
                    entry.connector = Some(connector.name().to_owned());
                    entry.loaded = Some(Arc::new(connector));
                }
                Err(e) => {
                    self.reload_failures.fetch_add(1, Ordering::Relaxed);
                    let name = file
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    *self
                        .failures_by
                        .lock()
                        .entry((name, e.kind.as_str()))
                        .or_default() += 1;
                    tracing::error!(file = %file.display(), "connector not loaded: {}", e.reason);
                    report
                        .failed
                        .push(format!("{}: {}", file.display(), e.reason));
                    entry.error = Some(e.reason);
                    entry.kind = Some(e.kind);
                }
            }
            self.files.lock().insert(file.clone(), entry);
        }
        // What the loads shared is kept for one scan only.
        self.runtime.functions.clear();
        // The live set, from what every present file holds: a name two
        // files declare is nobody's until one of them goes.
        let mut files = self.files.lock();
        files.retain(|f, _| present.contains(f));
        let mut holders: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
        for f in files.values() {
            if let Some(c) = &f.loaded {
                holders
                    .entry(c.name().to_owned())
                    .or_default()
                    .push(f.file.clone());
            }
        }
        let mut live = BTreeMap::new();
        let mut conflicts = 0;
        // A conflict is logged when it begins or changes, not at every scan.
        let before: BTreeMap<PathBuf, String> = files
            .values_mut()
            .filter_map(|f| f.conflict.take().map(|c| (f.file.clone(), c)))
            .collect();
        for (name, paths) in &holders {
            if let [only] = paths.as_slice() {
                if let Some(c) = files.get(only).and_then(|f| f.loaded.clone()) {
                    live.insert(name.clone(), c);
                }
                continue;
            }
            conflicts += 1;
            let list: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            let text = format!(
                "declares the name `{name}`, as do {}: none of them is live until only one remains (or pin the right one with sha256 in [connectors.{name}])",
                list.join(" and ")
            );
            if paths.iter().any(|p| before.get(p) != Some(&text)) {
                tracing::error!(connector = %name, "connector name claimed by {} files: {}", paths.len(), list.join(", "));
            }
            for p in paths {
                if let Some(f) = files.get_mut(p) {
                    f.conflict = Some(text.clone());
                }
            }
        }
        drop(files);
        self.conflicts.store(conflicts, Ordering::Relaxed);
        let mut map = self.connectors.write();
        for (name, c) in &live {
            if !map.get(name).is_some_and(|old| Arc::ptr_eq(old, c)) {
                tracing::info!(connector = %name, file = %c.file.display(), "connector live");
                report.loaded.push(name.clone());
            }
        }
        for name in map.keys() {
            if !live.contains_key(name) {
                tracing::info!(connector = %name, "connector retired");
                report.removed.push(name.clone());
            }
        }
        *map = live;
        Ok(report)
    }

    /// The plugin directory's files as of the last scan.
    pub fn plugin_files(&self) -> Vec<PluginFile> {
        self.files.lock().values().cloned().collect()
    }

    /// How many connector names two or more files declare, as of the last
    /// scan (none of those is live).
    pub fn conflicts(&self) -> u64 {
        self.conflicts.load(Ordering::Relaxed)
    }

    /// Why the last scan could not read the plugin directory, if it could
    /// not.
    pub fn scan_error(&self) -> Option<String> {
        self.scan_error.lock().clone()
    }

    /// How many times a file failed to load since the host started.
    pub fn reload_failures(&self) -> u64 {
        self.reload_failures.load(Ordering::Relaxed)
    }

    /// How many times each file failed to load, by kind of failure, since
    /// the host started: (file name, kind, count).
    pub fn reload_failures_by(&self) -> Vec<(String, &'static str, u64)> {
        self.failures_by
            .lock()
            .iter()
            .map(|((file, kind), n)| (file.clone(), *kind, *n))
            .collect()
    }

    /// The live connectors, by name.
    pub fn connectors(&self) -> Vec<Arc<Connector>> {
        self.connectors.read().values().cloned().collect()
    }

    /// One live connector.
    pub fn connector(&self, name: &str) -> Result<Arc<Connector>, UnknownConnector> {
        let map = self.connectors.read();
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
    let entries = std::fs::read_dir(dir).map_err(|e| {
        LoadError::new(
            dir,
            LoadKind::File,
            format!("cannot read the plugin directory ({e}); set [host] plugins in payhost.toml or create it"),
        )
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "wasm") && p.is_file())
        .collect();
    files.sort();
    Ok(files)
}
