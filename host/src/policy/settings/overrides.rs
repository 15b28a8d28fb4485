//! Limits an operator may set, host-wide in `[limits]` or per connector.

use super::unknown_key;
use crate::policy::fields;
use crate::policy::limits::{self, Limits};
use serde::{Deserialize, Deserializer};

/// Limits an operator may set, host-wide in `[limits]` or per connector.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LimitOverrides {
    /// See [`Limits::timeout`].
    pub timeout: Option<std::time::Duration>,
    /// See [`Limits::cpu`].
    pub cpu: Option<std::time::Duration>,
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

pub(super) const LIMIT_KEYS: [&str; 7] = [
    "timeout",
    "cpu",
    "memory",
    "max_requests",
    "max_response_size",
    "max_log_lines",
    "max_concurrent",
];

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

    /// Takes a limit key out of a table; `Ok(false)` if `key` is no limit.
    pub(super) fn take(&mut self, key: &str, value: &toml::Value) -> Result<bool, String> {
        let text = || {
            value.as_str().ok_or_else(|| {
                format!("`{key}` must be a duration in quotes, like {key} = \"20s\"")
            })
        };
        let count = || {
            value
                .as_integer()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| {
                    format!("`{key}` must be a whole number without quotes, like {key} = 8")
                })
        };
        let size = || match value {
            toml::Value::Integer(n) => {
                u64::try_from(*n).map_err(|_| format!("`{key}` must not be negative"))
            }
            toml::Value::String(s) => limits::parse_size(s).map_err(|e| format!("`{key}`: {e}")),
            _ => Err(format!("`{key}` must be a size, like {key} = \"64MiB\"")),
        };
        match key {
            "timeout" => {
                self.timeout = Some(bounded(
                    key,
                    limits::parse_duration(text()?).map_err(|e| format!("`timeout`: {e}"))?,
                )?)
            }
            "cpu" => {
                self.cpu = Some(bounded(
                    key,
                    limits::parse_duration(text()?).map_err(|e| format!("`cpu`: {e}"))?,
                )?)
            }
            "memory" => {
                let bytes = size()?;
                if bytes > limits::MAX_MEMORY {
                    return Err(format!("`memory` may be at most 1GiB, not {bytes} bytes"));
                }
                self.memory = Some(bytes);
            }
            "max_requests" => self.max_requests = Some(count()?),
            "max_response_size" => self.max_response_size = Some(size()?),
            "max_log_lines" => self.max_log_lines = Some(count()?),
            "max_concurrent" => {
                let n = count()?;
                if n == 0 {
                    return Err("`max_concurrent` must be at least 1".to_owned());
                }
                self.max_concurrent = Some(n);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

impl<'de> Deserialize<'de> for LimitOverrides {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut limits = LimitOverrides::default();
        fields::keys(
            deserializer,
            "a table of limits, like { timeout = \"20s\" }",
            |key, value| match limits.take(&key, &value)? {
                true => Ok(()),
                false => Err(unknown_key(&key, &LIMIT_KEYS)),
            },
        )?;
        Ok(limits)
    }
}

/// A call's time limit: at most a day (a larger one would overflow the
/// deadline's arithmetic and is never meant).
fn bounded(key: &str, d: std::time::Duration) -> Result<std::time::Duration, String> {
    const DAY: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);
    if d > DAY {
        return Err(format!("`{key}` may be at most 24h"));
    }
    Ok(d)
}
