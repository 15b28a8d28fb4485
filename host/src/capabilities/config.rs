//! `payhost:connector/config`: the operator's non-secret settings for the
//! connector, read-only.

use crate::bindings::config as wit;
use crate::state::CallState;
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

pub(crate) fn add_to_linker(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    wit::add_to_linker::<CallState, ConfigCapability>(linker, |state| Config(&state.config))
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
