//! The host: the registry of live connectors and the executor of payments
//! together, with the entry points the CLI, the API and embedders use.

use crate::engine::{Runtime, RuntimeOptions};
use crate::execution::{Begun, Executed, Executor, PayError};
use crate::payments::journal::Journal;
use crate::payments::model::{ConnectorError, PaymentOutcome, PaymentRequest};
use crate::policy::settings::Settings;
use crate::registry::{Connector, LoadError, PluginFile, Registry, ScanReport, UnknownConnector};
use std::path::Path;
use std::sync::Arc;

/// The host.
pub struct Host {
    registry: Arc<Registry>,
    executor: Executor,
}

impl Host {
    /// A host with no connector loaded yet.
    pub fn new(settings: Settings, options: &RuntimeOptions) -> wasmtime::Result<Host> {
        Ok(Host {
            registry: Arc::new(Registry::new(Runtime::new(options)?, settings)),
            executor: Executor::default(),
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

    /// A host that serves (`payhost serve`): as `from_settings`, and
    /// tiered where `[host] tiered` says so (a connector the cache does not
    /// hold serves on baseline code until its optimised code is ready).
    pub fn serving(settings: Settings) -> wasmtime::Result<Host> {
        let options = RuntimeOptions {
            cache_dir: Some(settings.cache_dir()),
            tiered: settings.host.tiered,
            ..RuntimeOptions::default()
        };
        Self::new(settings, &options)
    }

    /// Journals every payment in `journal`.
    pub fn with_journal(mut self, journal: Journal) -> Host {
        self.executor = Executor::new(Some(journal));
        self
    }

    /// The journal, if payments are journaled.
    pub fn journal(&self) -> Option<&Journal> {
        self.executor.journal()
    }

    /// Payments under way (and journal writes after them still retried).
    pub fn in_flight(&self) -> usize {
        self.executor.in_flight()
    }

    /// Waits until no payment is under way, at most `grace`; whether none is.
    pub async fn wait_idle(&self, grace: std::time::Duration) -> bool {
        self.executor.wait_idle(grace).await
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        self.registry.settings()
    }

    /// The runtime.
    pub fn runtime(&self) -> &Runtime {
        self.registry.runtime()
    }

    /// The registry of live connectors (for the directory watcher).
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// Loads a connector without registering it (for `plugins check`).
    pub async fn check_file(&self, file: &Path) -> Result<Connector, LoadError> {
        self.registry.check_file(file).await
    }

    /// Loads a connector file and makes it live, replacing any connector of
    /// the same name.
    pub async fn load_file(&self, file: &Path) -> Result<Arc<Connector>, LoadError> {
        self.registry.load_file(file).await
    }

    /// Loads every `*.wasm` in the plugin directory (see `Registry::load_plugins`).
    pub async fn load_plugins(&self) -> Vec<Result<Arc<Connector>, LoadError>> {
        self.registry.load_plugins().await
    }

    /// Brings the live connectors in line with the plugin directory (see
    /// `Registry::scan`).
    pub async fn scan(&self) -> Result<ScanReport, LoadError> {
        self.registry.scan().await
    }

    /// What keeps the host from being whole, as of the last scan (see
    /// `Registry::problems`).
    pub fn problems(&self) -> Vec<crate::registry::Problem> {
        self.registry().problems()
    }

    /// The plugin directory's files as of the last scan.
    pub fn plugin_files(&self) -> Vec<PluginFile> {
        self.registry.plugin_files()
    }

    /// How many times a file failed to load since the host started.
    pub fn reload_failures(&self) -> u64 {
        self.registry.reload_failures()
    }

    /// The live connectors, by name.
    pub fn connectors(&self) -> Vec<Arc<Connector>> {
        self.registry.connectors()
    }

    /// One live connector.
    pub fn connector(&self, name: &str) -> Result<Arc<Connector>, UnknownConnector> {
        self.registry.connector(name)
    }

    /// Validates and makes one payment. An `Err` means nothing was sent,
    /// except [`PayError::Unrecorded`] and [`PayError::Superseded`]: those
    /// come after the supplier answered, and say what it answered.
    pub async fn pay(
        &self,
        connector: &str,
        request: PaymentRequest,
    ) -> Result<PaymentOutcome, PayError> {
        self.execute(connector, request).await.map(|e| e.outcome)
    }

    /// Validates, journals and makes one payment (see `Executor::execute`).
    pub async fn execute(
        &self,
        connector: &str,
        request: PaymentRequest,
    ) -> Result<Executed, PayError> {
        self.executor
            .execute(&self.registry, connector, request)
            .await
    }

    /// [`Host::execute`], telling `begun` the attempt's id once it is
    /// written (see `Executor::execute_noting`).
    pub async fn execute_noting(
        &self,
        connector: &str,
        request: PaymentRequest,
        begun: &Begun,
    ) -> Result<Executed, PayError> {
        self.executor
            .execute_noting(&self.registry, connector, request, Some(begun))
            .await
    }

    /// Stops waiting for payments (the shutdown grace is over): no new
    /// attempt begins, and every caller still waiting is answered with
    /// what the journal will say (see `Executor::answer_waiting`).
    pub fn answer_waiting(&self) {
        self.executor.answer_waiting();
    }

    /// Becomes `true` once [`Host::answer_waiting`] was called.
    pub fn stopping(&self) -> tokio::sync::watch::Receiver<bool> {
        self.executor.stopping()
    }

    /// Asks a connector where an order's payment stands: under the same
    /// limits as a payment (one of the connector's places, one of the
    /// host's instances), refused as busy when none comes free.
    pub async fn query(
        &self,
        connector: &str,
        order_id: &str,
    ) -> Result<Result<PaymentOutcome, ConnectorError>, PayError> {
        let connector = self.registry.connector(connector)?;
        let _reserved = crate::execution::reserve(&self.registry, &connector).await?;
        Ok(connector.query(self.registry.runtime(), order_id).await)
    }
}
