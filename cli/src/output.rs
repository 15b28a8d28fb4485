//! What the CLI writes for people: rows whose values are escaped, and a log
//! writer that masks card numbers and escapes control characters in every
//! line, whoever wrote it (the host, a connector, a supplier's text quoted
//! in an error).

use payhost_rules::text::escape;
use std::io::Write;

/// Prints `key value` with the key padded to `width`; both escaped, so text
/// from a connector or a supplier cannot colour the terminal, move the
/// cursor or start a row of its own.
pub(crate) fn row(width: usize, key: &str, value: &str) {
    println!("{:<width$} {}", escape(key), escape(value));
}

/// Text from outside, ready to print: escaped.
pub(crate) fn shown(text: &str) -> String {
    escape(text).into_owned()
}

/// A message of several lines (a configuration error pointing at its
/// line), ready to print: escaped line by line, so that it keeps its lines
/// and no other control character passes.
pub(crate) fn shown_lines(text: &str) -> String {
    text.split('\n').map(shown).collect::<Vec<_>>().join("\n")
}

/// A time in Unix seconds as RFC 3339, in UTC (`2026-12-05T08:00:00Z`).
pub(crate) fn time(seconds: i64) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds.max(0) as u64);
    humantime::format_rfc3339_seconds(at).to_string()
}

/// Standard error for the log: each event's line masked and escaped, its
/// final newline kept. A JSON line is masked only: JSON already escapes
/// what a terminal would act on, and an escape of ours would break it.
pub(crate) struct LogWriter {
    /// The lines are JSON objects.
    pub(crate) json: bool,
}

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let (line, end) = match text.strip_suffix('\n') {
            Some(line) => (line, "\n"),
            None => (&*text, ""),
        };
        let masked = payhost::mask_text(line);
        let safe = if self.json {
            masked.into_owned()
        } else {
            escape(&masked).into_owned()
        };
        std::io::stderr().write_all(format!("{safe}{end}").as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
