//! What every handler shares: the host, the counters and the API's settings.

use super::metrics::Metrics;
use crate::host::Host;
use crate::policy::settings::ApiSettings;
use std::sync::Arc;

/// What every handler shares.
pub(crate) struct AppState {
    /// The host that pays.
    pub(crate) host: Arc<Host>,
    /// The counters `/metrics` shows.
    pub(crate) metrics: Metrics,
    /// Who may call, and how requests are bounded.
    pub(crate) api: ApiSettings,
}
