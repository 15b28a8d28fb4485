//! Structured logging into the host's log, tagged with the connector's name.
//!
//! The host masks card numbers, but never log card data or secrets on purpose.

use crate::bindings::payhost::connector::log as wit;

pub use wit::Level;

/// Writes a message with key/value fields.
pub fn event(level: Level, message: &str, fields: &[(&str, &str)]) {
    let fields: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    crate::backend::log(level, message, &fields);
}

/// Writes a debug message.
pub fn debug(message: &str) {
    event(Level::Debug, message, &[]);
}

/// Writes an info message.
pub fn info(message: &str) {
    event(Level::Info, message, &[]);
}

/// Writes a warning.
pub fn warn(message: &str) {
    event(Level::Warn, message, &[]);
}

/// Writes an error message.
pub fn error(message: &str) {
    event(Level::Error, message, &[]);
}
