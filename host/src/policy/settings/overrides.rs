//! Limits an operator may set, host-wide in `[limits]` or per connector.

use super::raw;
use super::report::{ConfigError, Report};
use crate::policy::limits::{self, Limits};
use std::time::Duration;

/// Limits an operator may set, host-wide in `[limits]` or per connector.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LimitOverrides {
    /// See [`Limits::timeout`].
    pub timeout: Option<Duration>,
    /// See [`Limits::cpu`].
    pub cpu: Option<Duration>,
    /// See [`Limits::memory`].
    pub memory: Option<u64>,
    /// See [`Limits::max_requests`].
    pub max_requests: Option<u32>,
    /// See [`Limits::max_response_size`].
    pub max_response_size: Option<u64>,
    /// See [`Limits::max_log_lines`].
    pub max_log_lines: Option<u32>,
    /// See [`Limits::max_concurrent`].
    pub max_concurrent: Option<u32>,
}

impl LimitOverrides {
    /// `base` with these overrides applied.
    pub fn apply(&self, base: Limits) -> Limits {
        Limits {
            timeout: self.timeout.unwrap_or(base.timeout),
            cpu: self.cpu.unwrap_or(base.cpu),
            memory: self.memory.unwrap_or(base.memory),
            max_requests: self.max_requests.unwrap_or(base.max_requests),
            max_response_size: self.max_response_size.unwrap_or(base.max_response_size),
            max_log_lines: self.max_log_lines.unwrap_or(base.max_log_lines),
            max_concurrent: self.max_concurrent.unwrap_or(base.max_concurrent),
        }
    }

    /// The limits as written in `section` (`limits` or `connectors.NAME`),
    /// checked.
    pub(super) fn from_raw(
        raw: raw::Limits,
        section: &str,
        report: &Report<'_>,
    ) -> Result<Self, ConfigError> {
        // A call's time limit: at most a day (a larger one would overflow
        // the deadline's arithmetic and is never meant).
        const DAY: Duration = Duration::from_secs(24 * 60 * 60);
        let within_a_day = |key: &str, value: Option<toml::Spanned<super::values::Lasting>>| {
            value
                .map(|v| match v.get_ref().0 {
                    d if d > DAY => Err(report.at(
                        v.span(),
                        &format!("{section}.{key}"),
                        format!("`{key}` may be at most 24h"),
                    )),
                    Duration::ZERO => Err(report.at(
                        v.span(),
                        &format!("{section}.{key}"),
                        format!("`{key}` must be more than 0s: a call with no time would be refused before it starts"),
                    )),
                    d => Ok(d),
                })
                .transpose()
        };
        let memory = raw
            .memory
            .map(|v| match v.get_ref().0 {
                bytes if bytes > limits::MAX_MEMORY => Err(report.at(
                    v.span(),
                    &format!("{section}.memory"),
                    format!("`memory` may be at most 1GiB, not {bytes} bytes"),
                )),
                bytes => Ok(bytes),
            })
            .transpose()?;
        let max_concurrent = raw
            .max_concurrent
            .map(|v| match v.get_ref().0 {
                0 => Err(report.at(
                    v.span(),
                    &format!("{section}.max_concurrent"),
                    "`max_concurrent` must be at least 1",
                )),
                n => Ok(n),
            })
            .transpose()?;
        Ok(LimitOverrides {
            timeout: within_a_day("timeout", raw.timeout)?,
            cpu: within_a_day("cpu", raw.cpu)?,
            memory,
            max_requests: raw.max_requests.map(|v| v.0),
            max_response_size: raw.max_response_size.map(|v| v.0),
            max_log_lines: raw.max_log_lines.map(|v| v.0),
            max_concurrent,
        })
    }
}
