//! `payhost:connector/config`: the operator's non-secret settings for the
//! connector, read-only.

use crate::contract::{config as wit, legacy};
use std::collections::BTreeMap;
use std::sync::Arc;
use wasmtime::component::{HasData, Linker};

/// The values of one connector's section that are its config.
pub(crate) struct ConfigCtx {
    pub(crate) values: Arc<BTreeMap<String, String>>,
}

/// The view of [`ConfigCtx`] that implements the generated trait.
pub(crate) struct Config<'a>(&'a ConfigCtx);

struct ConfigCapability;

impl HasData for ConfigCapability {
    type Data<'a> = Config<'a>;
}

/// Adds `config` to a linker whose store is `T`; `get` finds this
/// capability's context in the store.
pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> Config<'_>,
) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, ConfigCapability>(linker, get)?;
    legacy::config::add_to_linker::<T, ConfigCapability>(linker, get)
}

impl<'a> Config<'a> {
    /// The view of one call's context.
    pub(crate) fn new(ctx: &'a ConfigCtx) -> Self {
        Config(ctx)
    }
}

impl wit::Host for Config<'_> {
    fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        Ok(self.0.values.get(&key).cloned())
    }

    fn get_all(&mut self) -> wasmtime::Result<Vec<(String, String)>> {
        Ok(self
            .0
            .values
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }
}

impl legacy::config::Host for Config<'_> {
    fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        wit::Host::get(self, key)
    }

    fn get_all(&mut self) -> wasmtime::Result<Vec<(String, String)>> {
        wit::Host::get_all(self)
    }
}
