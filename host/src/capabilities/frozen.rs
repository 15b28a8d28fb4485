//! The frozen 0.2.0 imports, under their 0.2.0 names: the same capabilities
//! as 0.3.0's, function for function. The two versions' imported types are
//! the same shapes (only `connector-info`, which a connector exports,
//! differs; see `contract::v0_2`), so each function takes and answers the
//! current bindings' types and calls the current `Host` implementation.

use super::clock::Clock;
use super::config::Config;
use super::crypto::Crypto as CryptoView;
use super::http::Http;
use super::log::Log;
use crate::contract::sealed::SealedValue;
use crate::contract::{clock, config, crypto, http, log, types, v0_2};
use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource, ResourceTable, ResourceType};

type Parts = Vec<types::Part>;
type Crypto = Result<crypto::Output, crypto::CryptoError>;

/// Where each capability's view is found in a store of type `T`.
pub(crate) struct Views<T> {
    pub(crate) http: fn(&mut T) -> Http<'_>,
    pub(crate) crypto: fn(&mut T) -> CryptoView<'_>,
    pub(crate) config: fn(&mut T) -> Config<'_>,
    pub(crate) log: fn(&mut T) -> Log<'_>,
    pub(crate) table: fn(&mut T) -> &mut ResourceTable,
    pub(crate) clock: fn(&mut T) -> Clock,
}

impl<T> Clone for Views<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Views<T> {}

/// Adds every 0.2.0 import to `linker`; `views` finds each capability's
/// context in the store.
pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    views: Views<T>,
) -> wasmtime::Result<()> {
    linker.instance(&v0_2::interface("types"))?.resource(
        "sealed",
        ResourceType::host::<SealedValue>(),
        move |mut store: StoreContextMut<'_, T>, rep| {
            (views.table)(store.data_mut()).delete(Resource::<SealedValue>::new_own(rep))?;
            Ok(())
        },
    )?;

    linker.instance(&v0_2::interface("http"))?.func_wrap_async(
        "send",
        move |mut store: StoreContextMut<'_, T>, (request,): (http::Request,)| {
            Box::new(async move {
                let mut host = (views.http)(store.data_mut());
                Ok((http::Host::send(&mut host, request).await?,))
            })
        },
    )?;

    let mut crypto_fns = linker.instance(&v0_2::interface("crypto"))?;
    crypto_fns.func_wrap_async(
        "md5",
        move |mut store: StoreContextMut<'_, T>, (data,): (Parts,)| {
            Box::new(async move {
                let mut host = (views.crypto)(store.data_mut());
                Ok::<(Crypto,), _>((crypto::Host::md5(&mut host, data).await?,))
            })
        },
    )?;
    crypto_fns.func_wrap_async(
        "sha256",
        move |mut store: StoreContextMut<'_, T>, (data,): (Parts,)| {
            Box::new(async move {
                let mut host = (views.crypto)(store.data_mut());
                Ok::<(Crypto,), _>((crypto::Host::sha256(&mut host, data).await?,))
            })
        },
    )?;
    crypto_fns.func_wrap_async(
        "hmac-sha256",
        move |mut store: StoreContextMut<'_, T>, (key, data): (Parts, Parts)| {
            Box::new(async move {
                let mut host = (views.crypto)(store.data_mut());
                Ok::<(Crypto,), _>((crypto::Host::hmac_sha256(&mut host, key, data).await?,))
            })
        },
    )?;
    crypto_fns.func_wrap_async(
        "aes256-cbc-encrypt",
        move |mut store: StoreContextMut<'_, T>, (key, iv, text): (Parts, Vec<u8>, Parts)| {
            Box::new(async move {
                let mut host = (views.crypto)(store.data_mut());
                Ok::<(Crypto,), _>((
                    crypto::Host::aes256_cbc_encrypt(&mut host, key, iv, text).await?,
                ))
            })
        },
    )?;
    crypto_fns.func_wrap_async(
        "aes256-cbc-decrypt",
        move |mut store: StoreContextMut<'_, T>, (key, iv, text): (Parts, Vec<u8>, Parts)| {
            Box::new(async move {
                let mut host = (views.crypto)(store.data_mut());
                Ok::<(Crypto,), _>((
                    crypto::Host::aes256_cbc_decrypt(&mut host, key, iv, text).await?,
                ))
            })
        },
    )?;
    crypto_fns.func_wrap_async(
        "base64-encode",
        move |mut store: StoreContextMut<'_, T>, (data,): (Vec<u8>,)| {
            Box::new(async move {
                let mut host = (views.crypto)(store.data_mut());
                Ok((crypto::Host::base64_encode(&mut host, data).await?,))
            })
        },
    )?;
    crypto_fns.func_wrap_async(
        "base64-decode",
        move |mut store: StoreContextMut<'_, T>, (text,): (String,)| {
            Box::new(async move {
                let mut host = (views.crypto)(store.data_mut());
                Ok((crypto::Host::base64_decode(&mut host, text).await?,))
            })
        },
    )?;

    let mut config_fns = linker.instance(&v0_2::interface("config"))?;
    config_fns.func_wrap(
        "get",
        move |mut store: StoreContextMut<'_, T>, (key,): (String,)| {
            Ok((config::Host::get(
                &mut (views.config)(store.data_mut()),
                key,
            )?,))
        },
    )?;
    config_fns.func_wrap(
        "get-all",
        move |mut store: StoreContextMut<'_, T>, (): ()| {
            Ok((config::Host::get_all(&mut (views.config)(
                store.data_mut(),
            ))?,))
        },
    )?;

    linker.instance(&v0_2::interface("clock"))?.func_wrap(
        "now",
        move |mut store: StoreContextMut<'_, T>, (): ()| {
            Ok((clock::Host::now(&mut (views.clock)(store.data_mut()))?,))
        },
    )?;

    linker.instance(&v0_2::interface("log"))?.func_wrap(
        "log",
        move |mut store: StoreContextMut<'_, T>,
              (level, message, fields): (log::Level, String, Vec<(String, String)>)| {
            log::Host::log(&mut (views.log)(store.data_mut()), level, message, fields)
        },
    )?;
    Ok(())
}
