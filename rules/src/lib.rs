//! The rules of the payhost connector contract (`wit/`) that both sides
//! check: the host when it accepts a request or a connector's answer, the
//! guest SDK when a connector builds one. Each rule lives here once, so the
//! two sides cannot drift apart.
//!
//! - [`amount`]: what a money amount may look like;
//! - [`currency`]: what a currency code may look like;
//! - [`name`]: connector names and the keys of secrets and config;
//! - [`kind`]: the unified error kinds, [`ErrorKind`];
//! - [`state`]: where a payment stands, [`State`];
//! - [`text`]: what characters a request string may hold;
//! - `encoding` (feature `encoding`): how a hidden value's bytes are written;
//! - `crypto` (feature `crypto`): the crypto the host offers connectors.
//!
//! Without features the crate has no dependencies. With `serde`,
//! [`ErrorKind`] and [`State`] serialize as their contract names
//! (`in-progress`, `unknown`). `encoding` and `crypto` serve the host and
//! the SDK's native test double, so that a connector's unit tests and the
//! host write and compute the same bytes.

pub mod amount;
#[cfg(feature = "crypto")]
pub mod crypto;
pub mod currency;
#[cfg(feature = "encoding")]
pub mod encoding;
pub mod kind;
pub mod name;
pub mod state;
pub mod text;

pub use kind::{ErrorKind, UnknownKind};
pub use state::{State, UnknownState};

/// The contract's own text, for the tests to check the enums against.
#[cfg(test)]
mod wit {
    /// The case names of the enum `name` in `wit/types.wit`, in order.
    pub(crate) fn enum_names(name: &str) -> Vec<&'static str> {
        let wit: &'static str = include_str!("../../wit/types.wit");
        let start = wit
            .find(&format!("enum {name} {{"))
            .unwrap_or_else(|| panic!("wit/types.wit has no enum {name}"));
        let rest = &wit[start..];
        let body = &rest[rest.find('{').unwrap() + 1..rest.find('}').unwrap()];
        body.lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with("//"))
            .map(|line| line.trim_end_matches(','))
            .collect()
    }
}
