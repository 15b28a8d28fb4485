//! `[reconcile]` and a connector's `reconcile = { … }`: how often
//! `payhost serve` asks suppliers about payments whose outcome is not final
//! (`unknown`, `pending`), and for how long before it leaves them to a
//! person.
//!
//! ```toml
//! [reconcile]
//! every = "5s"          # how often the reconciler looks for attempts due
//! first = "1m"          # the first query, this long after the last change
//! max_interval = "30m"  # the wait doubles after each query, up to this
//! horizon = "3d"        # after this long since the payment, stop asking
//!
//! [connectors.atlas]
//! reconcile = { first = "30s", horizon = "1d" }   # or { enabled = false }
//! ```

use super::raw;
use super::report::{ConfigError, Report};
use super::values::above_zero;
use std::time::Duration;

/// When one connector's attempts are asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Whether the reconciler asks about them at all.
    pub enabled: bool,
    /// The first query comes this long after the attempt last changed.
    pub first: Duration,
    /// The wait doubles after each query, up to this.
    pub max_interval: Duration,
    /// After this long since the payment was made, the reconciler stops
    /// and leaves the attempt to a person.
    pub horizon: Duration,
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            enabled: true,
            first: Duration::from_secs(60),
            max_interval: Duration::from_secs(30 * 60),
            horizon: Duration::from_secs(3 * 24 * 3600),
        }
    }
}

impl Schedule {
    /// The wait after the `asked`-th query: `first`, doubled for each query
    /// already made, at most `max_interval`.
    pub fn wait_after(&self, asked: u32) -> Duration {
        let doubled = self.first.saturating_mul(1u32 << asked.min(20));
        doubled
            .min(self.max_interval)
            .max(self.first.min(self.max_interval))
    }
}

/// The `[reconcile]` section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReconcileSettings {
    /// How often the reconciler looks for attempts due.
    pub every: Duration,
    /// The schedule of every connector without its own.
    pub schedule: Schedule,
}

impl Default for ReconcileSettings {
    fn default() -> Self {
        ReconcileSettings {
            every: Duration::from_secs(5),
            schedule: Schedule::default(),
        }
    }
}

/// A connector's `reconcile = { … }`: what it changes of `[reconcile]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScheduleOverrides {
    /// `enabled`.
    pub enabled: Option<bool>,
    /// `first`.
    pub first: Option<Duration>,
    /// `max_interval`.
    pub max_interval: Option<Duration>,
    /// `horizon`.
    pub horizon: Option<Duration>,
}

impl ScheduleOverrides {
    /// `schedule` with these changes.
    pub fn apply(&self, schedule: Schedule) -> Schedule {
        Schedule {
            enabled: self.enabled.unwrap_or(schedule.enabled),
            first: self.first.unwrap_or(schedule.first),
            max_interval: self.max_interval.unwrap_or(schedule.max_interval),
            horizon: self.horizon.unwrap_or(schedule.horizon),
        }
    }

    /// The keys as written at `key` (`reconcile` or
    /// `connectors.NAME.reconcile`), each duration above zero.
    pub(super) fn from_raw(
        raw: raw::Reconcile,
        key: &str,
        report: &Report<'_>,
    ) -> Result<Self, ConfigError> {
        Ok(ScheduleOverrides {
            enabled: raw.enabled,
            first: above_zero(report, &format!("{key}.first"), raw.first)?,
            max_interval: above_zero(report, &format!("{key}.max_interval"), raw.max_interval)?,
            horizon: above_zero(report, &format!("{key}.horizon"), raw.horizon)?,
        })
    }
}

impl ReconcileSettings {
    /// `[reconcile]` as written, checked.
    pub(super) fn from_raw(
        mut raw: raw::Reconcile,
        report: &Report<'_>,
    ) -> Result<Self, ConfigError> {
        let d = ReconcileSettings::default();
        let every = above_zero(report, "reconcile.every", raw.every.take())?;
        let schedule = ScheduleOverrides::from_raw(raw, "reconcile", report)?.apply(d.schedule);
        Ok(ReconcileSettings {
            every: every.unwrap_or(d.every),
            schedule,
        })
    }
}
