//! The frozen contract `payhost:connector@0.2.0` (`wit/frozen/0.2.0/`): a
//! connector built for it keeps working. Its types are 0.3.0's record for
//! record, case for case, except `connector-info`, which has no
//! `placements`; and the component model types values by their shape, not
//! by the interface that named them. So a 0.2.0 connector is served with
//! the current bindings' types: its imports by the same capabilities,
//! registered under the 0.2.0 names (`capabilities::frozen`), its exports
//! called here, only `info()` read into its own record.

use super::exports::Indices;
use super::types as wit;
use wasmtime::AsContextMut;
use wasmtime::component::{ComponentType, Instance, InstancePre, Lift};

/// The version's package and number, as import and export names carry it.
pub(crate) const VERSION: &str = "0.2.0";

/// The name of the connector interface a 0.2.0 connector exports.
pub(crate) const CONNECTOR_EXPORT: &str = "payhost:connector/connector@0.2.0";

/// The full name of a 0.2.0 interface (`payhost:connector/http@0.2.0`).
pub(crate) fn interface(name: &str) -> String {
    format!("payhost:connector/{name}@{VERSION}")
}

/// `connector-info` as 0.2.0 has it: no placements (its operator writes
/// them).
#[derive(ComponentType, Lift)]
#[component(record)]
pub(crate) struct ConnectorInfo {
    name: String,
    version: String,
    supplier: String,
    methods: Vec<wit::MethodKind>,
    secrets: Vec<String>,
    #[component(name = "config-keys")]
    config_keys: Vec<String>,
    hosts: Vec<String>,
}

impl From<ConnectorInfo> for wit::ConnectorInfo {
    fn from(info: ConnectorInfo) -> Self {
        wit::ConnectorInfo {
            name: info.name,
            version: info.version,
            supplier: info.supplier,
            methods: info.methods,
            secrets: info.secrets,
            config_keys: info.config_keys,
            hosts: info.hosts,
            placements: Vec::new(),
        }
    }
}

/// A 0.2.0 connector, linked and ready to instantiate.
pub(crate) struct ConnectorPre<T: 'static> {
    pre: InstancePre<T>,
    indices: Indices,
}

impl<T: 'static> Clone for ConnectorPre<T> {
    fn clone(&self) -> Self {
        ConnectorPre {
            pre: self.pre.clone(),
            indices: self.indices,
        }
    }
}

impl<T: Send + 'static> ConnectorPre<T> {
    /// Finds the connector's functions, or says which is missing.
    pub(crate) fn new(pre: InstancePre<T>) -> wasmtime::Result<Self> {
        let indices = Indices::find(pre.component(), CONNECTOR_EXPORT)?;
        Ok(ConnectorPre { pre, indices })
    }

    /// The engine its component was compiled by.
    pub(crate) fn engine(&self) -> &wasmtime::Engine {
        self.pre.component().engine()
    }

    /// Its component.
    pub(crate) fn component(&self) -> &wasmtime::component::Component {
        self.pre.component()
    }

    /// A fresh instance in `store`.
    pub(crate) async fn instantiate_async(
        &self,
        mut store: impl AsContextMut<Data = T>,
    ) -> wasmtime::Result<Connector> {
        let instance = self.pre.instantiate_async(store.as_context_mut()).await?;
        Ok(Connector {
            instance,
            indices: self.indices,
        })
    }
}

/// A 0.2.0 connector's instance: its functions, called with the current
/// types.
pub(crate) struct Connector {
    instance: Instance,
    indices: Indices,
}

impl Connector {
    /// `info()`, as the current record (no placements). Its other two
    /// functions are type-checked here too, so that a connector whose
    /// `pay` or `query` does not match 0.2.0 is refused when it loads.
    pub(crate) async fn call_info<S: AsContextMut>(
        &self,
        mut store: S,
    ) -> wasmtime::Result<wit::ConnectorInfo>
    where
        S::Data: Send,
    {
        self.instance
            .get_typed_func::<(&wit::PaymentRequest,), (wit::PaymentOutcome,)>(
                store.as_context_mut(),
                self.indices.pay,
            )?;
        self.instance
            .get_typed_func::<(&str,), (Result<wit::PaymentOutcome, wit::ConnectorError>,)>(
                store.as_context_mut(),
                self.indices.query,
            )?;
        let info = self
            .instance
            .get_typed_func::<(), (ConnectorInfo,)>(store.as_context_mut(), self.indices.info)?;
        let (answer,) = info.call_async(store.as_context_mut(), ()).await?;
        Ok(answer.into())
    }

    /// `pay(request)`.
    pub(crate) async fn call_pay<S: AsContextMut>(
        &self,
        mut store: S,
        request: &wit::PaymentRequest,
    ) -> wasmtime::Result<wit::PaymentOutcome>
    where
        S::Data: Send,
    {
        let pay = self
            .instance
            .get_typed_func::<(&wit::PaymentRequest,), (wit::PaymentOutcome,)>(
                store.as_context_mut(),
                self.indices.pay,
            )?;
        let (answer,) = pay.call_async(store.as_context_mut(), (request,)).await?;
        Ok(answer)
    }

    /// `query(order-id)`.
    pub(crate) async fn call_query<S: AsContextMut>(
        &self,
        mut store: S,
        order: &str,
    ) -> wasmtime::Result<Result<wit::PaymentOutcome, wit::ConnectorError>>
    where
        S::Data: Send,
    {
        let query = self
            .instance
            .get_typed_func::<(&str,), (Result<wit::PaymentOutcome, wit::ConnectorError>,)>(
                store.as_context_mut(),
                self.indices.query,
            )?;
        let (answer,) = query.call_async(store.as_context_mut(), (order,)).await?;
        Ok(answer)
    }
}
