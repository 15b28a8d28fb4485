//! The sandbox wall: the only ways a connector can reach outside itself.
//!
//! One file per imported interface (`http`, `crypto`, `config`, `clock`,
//! `log`), each a context held in the call's store, a borrowed view
//! implementing the generated `Host` trait, and an `add_to_linker` generic
//! over the store type, as wasmtime's own WASI interfaces are: the store
//! names the contexts, the capabilities never name the store. Each file
//! serves the current contract (0.3.0) and the frozen 0.1.0; `frozen`
//! serves 0.2.0's names with the same functions; `host_side` is where a
//! host call stops the connector's clock. Auditing the sandbox means
//! reading these files.

pub(crate) mod clock;
pub(crate) mod config;
pub(crate) mod crypto;
mod frozen;
pub(crate) mod host_side;
pub(crate) mod http;
pub(crate) mod log;

use crate::contract::sealed::SealedValue;
use crate::contract::{legacy, types};
use wasmtime::component::{HasData, Linker, Resource, ResourceTable};

/// A store that holds every capability's context, as the views the
/// generated traits are implemented on.
pub(crate) trait Capabilities: Send + 'static {
    /// The call's HTTP.
    fn http(&mut self) -> http::Http<'_>;
    /// The call's crypto.
    fn crypto(&mut self) -> crypto::Crypto<'_>;
    /// The call's config.
    fn config(&mut self) -> config::Config<'_>;
    /// The call's log.
    fn log(&mut self) -> log::Log<'_>;
    /// The call's clock.
    fn clock(&mut self) -> clock::Clock;
    /// The call's resource table, where sealed values live.
    fn table(&mut self) -> &mut ResourceTable;
}

/// The `types` interface: its only function is dropping a sealed value.
pub(crate) struct Types<'a>(&'a mut ResourceTable);

impl types::Host for Types<'_> {}

impl types::HostSealed for Types<'_> {
    fn drop(&mut self, value: Resource<SealedValue>) -> wasmtime::Result<()> {
        self.0.delete(value)?;
        Ok(())
    }
}

impl legacy::types::Host for Types<'_> {}

struct TypesCapability;

impl HasData for TypesCapability {
    type Data<'a> = Types<'a>;
}

/// Adds every payhost import, of every contract version, to `linker`.
pub(crate) fn add_to_linker<T: Capabilities>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    types::add_to_linker::<T, TypesCapability>(linker, |state| Types(state.table()))?;
    legacy::types::add_to_linker::<T, TypesCapability>(linker, |state| Types(state.table()))?;
    http::add_to_linker(linker, |state| state.http())?;
    crypto::add_to_linker(linker, |state| state.crypto())?;
    config::add_to_linker(linker, |state| state.config())?;
    clock::add_to_linker(linker, |state| state.clock())?;
    log::add_to_linker(linker, |state| state.log())?;
    frozen::add_to_linker(
        linker,
        frozen::Views {
            http: |state| state.http(),
            crypto: |state| state.crypto(),
            config: |state| state.config(),
            log: |state| state.log(),
            table: |state| state.table(),
            clock: |state| state.clock(),
        },
    )?;
    Ok(())
}
