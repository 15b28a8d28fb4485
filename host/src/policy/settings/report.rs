//! What is wrong in `payhost.toml`, said at its line in plain words, with
//! the right form: serde's own phrases ("invalid type", "expected a
//! sequence", "unknown field …, expected one of …") become the operator's.

use std::fmt;
use std::ops::Range;

/// What is wrong in `payhost.toml`, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Line and column (from 1), when the error has a place.
    pub position: Option<(usize, usize)>,
    /// The key, as a path: `connectors.atlas.timeout`.
    pub key: Option<String>,
    /// What is wrong, and how to write it.
    pub message: String,
    /// The line as it is written.
    line: Option<String>,
}

impl std::error::Error for ConfigError {}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.position, &self.key) {
            (Some((line, column)), Some(key)) => {
                write!(f, "line {line}, column {column}, at `{key}`: ")?
            }
            (Some((line, column)), None) => write!(f, "line {line}, column {column}: ")?,
            (None, Some(key)) => write!(f, "at `{key}`: ")?,
            (None, None) => {}
        }
        f.write_str(&self.message)?;
        if let (Some((n, column)), Some(line)) = (&self.position, &self.line) {
            let pad = n.to_string().len();
            write!(
                f,
                "\n {n} | {line}\n {:pad$} | {:>column$}",
                "",
                "^",
                pad = pad,
                column = *column
            )?;
        }
        Ok(())
    }
}

/// Turns places in the file's text into lines.
pub(super) struct Report<'a> {
    pub text: &'a str,
}

impl Report<'_> {
    /// The line (from 1) at which `span` starts.
    pub fn line(&self, span: Range<usize>) -> usize {
        self.text[..span.start.min(self.text.len())]
            .matches('\n')
            .count()
            + 1
    }

    /// An error of the validation step, at `span`, for `key`.
    pub fn at(&self, span: Range<usize>, key: &str, message: impl Into<String>) -> ConfigError {
        self.error(Some(span), Some(key.to_owned()), message.into())
    }

    /// An error of reading the typed structs, at the key serde was at.
    pub fn read(&self, error: serde_path_to_error::Error<toml::de::Error>) -> ConfigError {
        let key = error
            .path()
            .to_string()
            .split('.')
            .filter(|s| !s.starts_with("$__") && *s != "?")
            .collect::<Vec<_>>()
            .join(".");
        self.parse((!key.is_empty()).then_some(key), error.into_inner())
    }

    /// An error of the TOML parser, or of serde at `key`.
    pub fn parse(&self, key: Option<String>, error: toml::de::Error) -> ConfigError {
        let message = plain(error.message().trim_end(), key.as_deref());
        self.error(error.span(), key, message)
    }

    fn error(
        &self,
        span: Option<Range<usize>>,
        key: Option<String>,
        message: String,
    ) -> ConfigError {
        let place = span.map(|span| {
            let start = span.start.min(self.text.len());
            let before = &self.text[..start];
            let line_start = before.rfind('\n').map_or(0, |i| i + 1);
            let line_end = self.text[start..]
                .find('\n')
                .map_or(self.text.len(), |i| start + i);
            let n = before.matches('\n').count() + 1;
            let column = self.text[line_start..start].chars().count() + 1;
            (
                (n, column),
                self.text[line_start..line_end].trim_end().to_owned(),
            )
        });
        ConfigError {
            position: place.as_ref().map(|(p, _)| *p),
            line: place.map(|(_, l)| l),
            key,
            message,
        }
    }
}

/// serde's phrases in the operator's words, and the right form for `key`.
fn plain(message: &str, key: Option<&str>) -> String {
    let mut out = if let Some(rest) = message.strip_prefix("unknown field ") {
        unknown("field", rest)
    } else if let Some(rest) = message.strip_prefix("unknown variant ") {
        unknown("value", rest)
    } else if let Some(rest) = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))
    {
        match rest.split_once(", expected ") {
            Some((found, expected)) => format!("expected {}, not {found}", words(expected)),
            None => rest.to_owned(),
        }
    } else if let Some(rest) = message.strip_prefix("missing field ") {
        format!("{rest} is missing")
    } else {
        words(message)
    };
    let last = key.and_then(|k| k.rsplit('.').next());
    if let Some((last, example)) = last.and_then(|k| example(k).map(|e| (k, e))) {
        let form = format!("{last} = {example}");
        if !out.contains(&form) {
            out.push_str(&format!("; write it as {form}"));
        }
    }
    out
}

/// "`x`, expected one of `a`, `b`" as "unknown field `x`; did you mean `a`?".
fn unknown(what: &str, rest: &str) -> String {
    let (name, expected) = rest.split_once(", ").unwrap_or((rest, ""));
    let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    let name = name.trim_matches('`');
    super::suggest(&format!("unknown {what} `{name}`"), name, &known)
}

/// serde's names of kinds of value, in the words of a TOML file.
fn words(text: &str) -> String {
    [
        ("a boolean", "true or false"),
        ("a sequence", "a list"),
        ("a map", "a table"),
        ("a string", "text in quotes"),
        ("path string", "a path in quotes"),
        ("struct ", "a table of "),
    ]
    .iter()
    .fold(text.to_owned(), |t, (from, to)| t.replace(from, to))
}

/// How a value of `key` is written, for the keys with a form.
fn example(key: &str) -> Option<&'static str> {
    Some(match key {
        "timeout" => "\"20s\"",
        "cpu" => "\"2s\"",
        "memory" => "\"64MiB\"",
        "max_requests" => "8",
        "max_response_size" => "\"4MiB\"",
        "max_log_lines" => "200",
        "max_concurrent" => "64",
        "lease" => "\"15s\"",
        "journal_wait" => "\"5s\"",
        "compile_timeout" => "\"120s\"",
        "header_timeout" | "body_timeout" => "\"10s\"",
        "shutdown_grace" => "\"30s\"",
        "max_body" => "\"64KiB\"",
        "max_connections" => "512",
        "min_contract" => "\"0.2\"",
        "unpinned" | "allow_downgrade" | "start_degraded" | "tiered" => "true",
        _ => return None,
    })
}
