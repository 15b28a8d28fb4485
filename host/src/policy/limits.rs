//! Per-call limits: what one call into a connector may use.

use std::time::Duration;

/// What one call (`info`, `pay` or `query`) into a connector may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time for the whole call, host I/O included.
    pub timeout: Duration,
    /// Time spent running the connector's own code, host I/O excluded.
    pub cpu: Duration,
    /// Linear memory, in bytes.
    pub memory: u64,
    /// Outbound HTTP requests per call.
    pub max_requests: u32,
    /// Size of one HTTP answer's body, in bytes, after decompression.
    pub max_response_size: u64,
    /// Log messages (and lines of standard output and error) per call.
    pub max_log_lines: u32,
    /// Calls of one connector at a time; more wait up to `BUSY_WAIT` (1 s) and
    /// are then refused as busy, before anything is sent. Keeps one slow
    /// supplier from taking the instance pool every connector shares.
    pub max_concurrent: u32,
}

/// How long a payment waits for one of its connector's `max_concurrent`
/// places before it is refused as busy.
pub const BUSY_WAIT: Duration = Duration::from_secs(1);

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(30),
            cpu: Duration::from_secs(2),
            memory: 64 << 20,
            max_requests: 8,
            max_response_size: 4 << 20,
            max_log_lines: 200,
            max_concurrent: 64,
        }
    }
}

/// The largest linear memory any connector may be given: the size of a slot
/// in the host's instance pool.
pub const MAX_MEMORY: u64 = 1 << 30;

/// Why a size or a duration could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// No number where a size begins.
    #[error("`{0}` is not a size: write it like `64MiB`, `512KiB` or `1048576`")]
    NotASize(String),
    /// A size with a unit this host does not know.
    #[error("`{text}`: unknown unit `{unit}`; use B, KiB, MiB, GiB, KB, MB or GB")]
    Unit {
        /// The size as written.
        text: String,
        /// Its unit.
        unit: String,
    },
    /// A size beyond 2^64 bytes.
    #[error("`{0}` is too large")]
    TooLarge(String),
    /// Not a duration.
    #[error("`{text}` is not a duration ({reason}): write it like `20s`, `500ms` or `2m`")]
    NotADuration {
        /// The duration as written.
        text: String,
        /// What `humantime` found wrong.
        reason: String,
    },
}

/// Parses a byte size: `65536`, `64KiB`, `64MiB`, `1GiB` (also KB, MB, GB).
pub fn parse_size(text: &str) -> Result<u64, QuantityError> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| QuantityError::NotASize(text.to_owned()))?;
    let mult: u64 = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "KB" | "kB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        other => {
            return Err(QuantityError::Unit {
                text: text.to_owned(),
                unit: other.to_owned(),
            });
        }
    };
    n.checked_mul(mult)
        .ok_or_else(|| QuantityError::TooLarge(text.to_owned()))
}

/// Parses a duration: `20s`, `500ms`, `2m`.
pub fn parse_duration(text: &str) -> Result<Duration, QuantityError> {
    humantime::parse_duration(text.trim()).map_err(|e| QuantityError::NotADuration {
        text: text.to_owned(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations() {
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("2 KB"), Ok(2000));
        assert!(
            parse_size("64 parsecs")
                .unwrap_err()
                .to_string()
                .contains("unknown unit")
        );
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("soon").is_err());
    }
}
