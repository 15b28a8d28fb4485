//! The frozen 0.2.0 imports, under their 0.2.0 names: the same capabilities
//! as 0.3.0's, function for function. The two versions' imported types are
//! the same shapes (only `connector-info`, which a connector exports,
//! differs; see `contract::v0_2`), so each function takes and answers the
//! current bindings' types and calls the current `Host` implementation.

use super::Capabilities;
use crate::contract::sealed::SealedValue;
use crate::contract::{clock, config, crypto, http, log, types, v0_2};
use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource, ResourceType};

type Parts = Vec<types::Part>;
type Crypto = Result<crypto::Output, crypto::CryptoError>;

/// Adds every 0.2.0 import to `linker`.
pub(crate) fn add_to_linker<T: Capabilities>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    linker.instance(&v0_2::interface("types"))?.resource(
        "sealed",
        ResourceType::host::<SealedValue>(),
        |mut store: StoreContextMut<'_, T>, rep| {
            store
                .data_mut()
                .table()
                .delete(Resource::<SealedValue>::new_own(rep))?;
            Ok(())
        },
    )?;

    linker.instance(&v0_2::interface("http"))?.func_wrap_async(
        "send",
        |mut store: StoreContextMut<'_, T>, (request,): (http::Request,)| {
            Box::new(async move {
                let mut host = store.data_mut().http();
                Ok((http::Host::send(&mut host, request).await?,))
            })
        },
    )?;

    let mut crypto_fns = linker.instance(&v0_2::interface("crypto"))?;
    crypto_fns.func_wrap_async(
        "md5",
        |mut store: StoreContextMut<'_, T>, (data,): (Parts,)| {
            Box::new(async move {
                let mut host = store.data_mut().crypto();
                Ok::<(Crypto,), _>((crypto::Host::md5(&mut host, data).await?,))
            })
        },
    )?;
    crypto_fns.func_wrap_async(
        "sha256",
        |mut store: StoreContextMut<'_, T>, (data,): (Parts,)| {
            Box::new(async move {
                let mut host = store.data_mut().crypto();
                Ok::<(Crypto,), _>((crypto::Host::sha256(&mut host, data).await?,))
            })
        },
    )?;
    crypto_fns.func_wrap_async(
        "hmac-sha256",
        |mut store: StoreContextMut<'_, T>, (key, data): (Parts, Parts)| {
            Box::new(async move {
                let mut host = store.data_mut().crypto();
                Ok::<(Crypto,), _>((crypto::Host::hmac_sha256(&mut host, key, data).await?,))
            })
        },
    )?;
    crypto_fns.func_wrap_async(
        "aes256-cbc-encrypt",
        |mut store: StoreContextMut<'_, T>, (key, iv, text): (Parts, Vec<u8>, Parts)| {
            Box::new(async move {
                let mut host = store.data_mut().crypto();
                Ok::<(Crypto,), _>((
                    crypto::Host::aes256_cbc_encrypt(&mut host, key, iv, text).await?,
                ))
            })
        },
    )?;
    crypto_fns.func_wrap_async(
        "aes256-cbc-decrypt",
        |mut store: StoreContextMut<'_, T>, (key, iv, text): (Parts, Vec<u8>, Parts)| {
            Box::new(async move {
                let mut host = store.data_mut().crypto();
                Ok::<(Crypto,), _>((
                    crypto::Host::aes256_cbc_decrypt(&mut host, key, iv, text).await?,
                ))
            })
        },
    )?;
    crypto_fns.func_wrap_async(
        "base64-encode",
        |mut store: StoreContextMut<'_, T>, (data,): (Vec<u8>,)| {
            Box::new(async move {
                let mut host = store.data_mut().crypto();
                Ok((crypto::Host::base64_encode(&mut host, data).await?,))
            })
        },
    )?;
    crypto_fns.func_wrap_async(
        "base64-decode",
        |mut store: StoreContextMut<'_, T>, (text,): (String,)| {
            Box::new(async move {
                let mut host = store.data_mut().crypto();
                Ok((crypto::Host::base64_decode(&mut host, text).await?,))
            })
        },
    )?;

    let mut config_fns = linker.instance(&v0_2::interface("config"))?;
    config_fns.func_wrap(
        "get",
        |mut store: StoreContextMut<'_, T>, (key,): (String,)| {
            Ok((config::Host::get(&mut store.data_mut().config(), key)?,))
        },
    )?;
    config_fns.func_wrap("get-all", |mut store: StoreContextMut<'_, T>, (): ()| {
        Ok((config::Host::get_all(&mut store.data_mut().config())?,))
    })?;

    linker
        .instance(&v0_2::interface("clock"))?
        .func_wrap("now", |_: StoreContextMut<'_, T>, (): ()| {
            Ok((clock::Host::now(&mut super::clock::Clock)?,))
        })?;

    linker.instance(&v0_2::interface("log"))?.func_wrap(
        "log",
        |mut store: StoreContextMut<'_, T>,
         (level, message, fields): (log::Level, String, Vec<(String, String)>)| {
            log::Host::log(&mut store.data_mut().log(), level, message, fields)
        },
    )?;
    Ok(())
}
