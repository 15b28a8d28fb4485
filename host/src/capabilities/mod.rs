//! The sandbox wall: the only ways a connector can reach outside itself.
//!
//! One file per imported interface (`http`, `crypto`, `config`, `clock`,
//! `log`), each a context held in the call's store, a borrowed view
//! implementing the generated `Host` trait, and an `add_to_linker` generic
//! over the store type, as wasmtime's own WASI interfaces are: the store
//! names the contexts, the capabilities never name the store. Auditing the
//! sandbox means reading these files.

pub(crate) mod clock;
pub(crate) mod config;
pub(crate) mod crypto;
pub(crate) mod http;
pub(crate) mod log;

use crate::contract::types;
use wasmtime::component::{HasData, Linker};

/// A store that holds every capability's context.
pub(crate) trait Capabilities: Send + 'static {
    /// The call's HTTP context.
    fn http(&mut self) -> &mut http::HttpCtx;
    /// The call's crypto context.
    fn crypto(&mut self) -> &mut crypto::CryptoCtx;
    /// The call's config.
    fn config(&mut self) -> &mut config::ConfigCtx;
    /// The call's log.
    fn log(&mut self) -> &mut log::LogCtx;
}

/// The `types` interface has no functions; its trait is implemented on this
/// marker so the world links.
struct Types;

impl types::Host for Types {}

impl HasData for Types {
    type Data<'a> = Types;
}

/// Adds every payhost import to `linker`.
pub(crate) fn add_to_linker<T: Capabilities>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    types::add_to_linker::<T, Types>(linker, |_| Types)?;
    http::add_to_linker(linker, |state| http::Http::new(state.http()))?;
    crypto::add_to_linker(linker, |state| crypto::Crypto::new(state.crypto()))?;
    config::add_to_linker(linker, |state| config::Config::new(state.config()))?;
    clock::add_to_linker(linker)?;
    log::add_to_linker(linker, |state| log::Log::new(state.log()))?;
    Ok(())
}
