//! The current contract's exports, found once per component and
//! type-checked at its first instance: every later instance (a fresh one per
//! call) only fetches its three functions by index. The generated bindings
//! would look up and type-check all three on every instantiation.

use super::CONNECTOR_EXPORT;
use super::types as wit;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use wasmtime::AsContextMut;
use wasmtime::component::{ComponentExportIndex, Func, InstancePre, TypedFunc};

/// Where a connector's three functions are among its exports.
#[derive(Clone, Copy)]
pub(crate) struct Indices {
    pub(crate) info: ComponentExportIndex,
    pub(crate) pay: ComponentExportIndex,
    pub(crate) query: ComponentExportIndex,
}

impl Indices {
    /// The three functions of the interface `export` (a version's
    /// `payhost:connector/connector@…`), or which is missing.
    pub(crate) fn find(
        component: &wasmtime::component::Component,
        export: &str,
    ) -> wasmtime::Result<Indices> {
        let connector = component
            .get_export_index(None, export)
            .ok_or_else(|| wasmtime::format_err!("no export `{export}`"))?;
        let function = |name: &str| {
            component
                .get_export_index(Some(&connector), name)
                .ok_or_else(|| wasmtime::format_err!("`{export}` does not export `{name}`"))
        };
        Ok(Indices {
            info: function("info")?,
            pay: function("pay")?,
            query: function("query")?,
        })
    }
}

/// Each function's parameters and results, written once: the type check
/// and the unchecked calls below use the same.
type InfoParams = ();
type InfoResults = (wit::ConnectorInfo,);
type PayParams<'a> = (&'a wit::PaymentRequest,);
type PayResults = (wit::PaymentOutcome,);
type QueryParams<'a> = (&'a str,);
type QueryResults = (Result<wit::PaymentOutcome, wit::ConnectorError>,);

/// A current-contract connector, linked and ready to instantiate.
pub(crate) struct ConnectorPre<T: 'static> {
    pre: InstancePre<T>,
    indices: Indices,
    /// Whether an instance of this component had its three functions
    /// type-checked: the same component has the same types in every instance.
    checked: Arc<AtomicBool>,
}

impl<T: 'static> Clone for ConnectorPre<T> {
    fn clone(&self) -> Self {
        ConnectorPre {
            pre: self.pre.clone(),
            indices: self.indices,
            checked: self.checked.clone(),
        }
    }
}

impl<T: Send + 'static> ConnectorPre<T> {
    /// Finds the connector's functions, or says which is missing.
    pub(crate) fn new(pre: InstancePre<T>) -> wasmtime::Result<Self> {
        let indices = Indices::find(pre.component(), CONNECTOR_EXPORT)?;
        Ok(ConnectorPre {
            pre,
            indices,
            checked: Arc::default(),
        })
    }

    /// The engine its component was compiled by.
    pub(crate) fn engine(&self) -> &wasmtime::Engine {
        self.pre.component().engine()
    }

    /// Its component.
    pub(crate) fn component(&self) -> &wasmtime::component::Component {
        self.pre.component()
    }

    /// A fresh instance in `store`: its functions type-checked if no
    /// instance of this component has been yet.
    pub(crate) async fn instantiate_async(
        &self,
        mut store: impl AsContextMut<Data = T>,
    ) -> wasmtime::Result<Connector> {
        let instance = self.pre.instantiate_async(store.as_context_mut()).await?;
        if !self.checked.load(Ordering::Acquire) {
            let mut store = store.as_context_mut();
            instance.get_typed_func::<InfoParams, InfoResults>(&mut store, self.indices.info)?;
            instance.get_typed_func::<PayParams<'_>, PayResults>(&mut store, self.indices.pay)?;
            instance
                .get_typed_func::<QueryParams<'_>, QueryResults>(&mut store, self.indices.query)?;
            self.checked.store(true, Ordering::Release);
        }
        let func = |store: &mut wasmtime::StoreContextMut<'_, T>, index| {
            instance
                .get_func(&mut *store, index)
                .ok_or_else(|| wasmtime::format_err!("the connector's instance lost an export"))
        };
        let mut store = store.as_context_mut();
        Ok(Connector {
            info: func(&mut store, self.indices.info)?,
            pay: func(&mut store, self.indices.pay)?,
            query: func(&mut store, self.indices.query)?,
        })
    }
}

/// A current-contract connector's instance: its three functions.
pub(crate) struct Connector {
    info: Func,
    pay: Func,
    query: Func,
}

impl Connector {
    /// `info()`.
    pub(crate) async fn call_info<S: AsContextMut>(
        &self,
        mut store: S,
    ) -> wasmtime::Result<wit::ConnectorInfo>
    where
        S::Data: Send,
    {
        // SAFETY: the component's `info` was checked against this signature
        // (`instantiate_async`), and every instance of it has the same types.
        #[allow(unsafe_code)]
        let info: TypedFunc<InfoParams, InfoResults> =
            unsafe { TypedFunc::new_unchecked(self.info) };
        let (answer,) = info.call_async(store.as_context_mut(), ()).await?;
        Ok(answer)
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
        // SAFETY: as for `info`: `pay` was checked against this signature.
        #[allow(unsafe_code)]
        let pay: TypedFunc<PayParams<'_>, PayResults> =
            unsafe { TypedFunc::new_unchecked(self.pay) };
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
        // SAFETY: as for `info`: `query` was checked against this signature.
        #[allow(unsafe_code)]
        let query: TypedFunc<QueryParams<'_>, QueryResults> =
            unsafe { TypedFunc::new_unchecked(self.query) };
        let (answer,) = query.call_async(store.as_context_mut(), (order,)).await?;
        Ok(answer)
    }
}
