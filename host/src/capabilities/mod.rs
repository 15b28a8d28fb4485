//! The sandbox wall: the only ways a connector can reach outside itself.
//!
//! One file per imported interface, each a context held in the call's store,
//! a borrowed view implementing the generated `Host` trait, and an
//! `add_to_linker`. Auditing the sandbox means reading these files.

pub mod clock;
pub mod config;
pub mod crypto;
pub mod http;
pub mod log;

use crate::bindings::types;
use crate::state::CallState;
use wasmtime::component::{HasData, Linker};

/// The `types` interface has no functions; its trait is implemented on this
/// marker so the world links.
struct Types;

impl types::Host for Types {}

impl HasData for Types {
    type Data<'a> = Types;
}

/// Adds every payhost import to `linker`.
pub(crate) fn add_to_linker(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    types::add_to_linker::<CallState, Types>(linker, |_| Types)?;
    http::add_to_linker(linker)?;
    crypto::add_to_linker(linker)?;
    config::add_to_linker(linker)?;
    clock::add_to_linker(linker)?;
    log::add_to_linker(linker)?;
    Ok(())
}
