//! Compiling a connector file (through the compile cache, within
//! `compile_timeout`) and linking the component against the host's imports
//! for the contract version it is built for.

use super::info::{LoadError, LoadKind};
use super::world::linked_text;
use crate::contract::{ContractVersion, exports, legacy, v0_2};
use crate::engine::Runtime;
use crate::engine::cache::CacheOutcome;
use crate::engine::call::Pre;
use crate::policy::settings::Settings;
use std::path::Path;
use std::sync::Arc;
use wasmtime::component::Component;

/// The component in `bytes`, from the compile cache under `sha256` or
/// compiled, and whether the cache had it. Where the runtime tiers and the
/// cache does not hold it, it is compiled by the baseline compiler (Winch)
/// now, or by Cranelift when Winch cannot compile it (a proposal it lacks);
/// `load` asks for the optimised code in the background (`tier_up`) once
/// the connector has passed every check.
pub(super) async fn compile(
    rt: &Runtime,
    settings: &Settings,
    file: &Path,
    bytes: Arc<[u8]>,
    sha256: &str,
) -> Result<(Component, CacheOutcome), LoadError> {
    let key = sha256.to_owned();
    let limit = settings.host.compile_timeout;
    let (engine, cache) = (rt.engine.clone(), rt.cache.clone());
    let compiling = match &rt.baseline {
        Some(baseline) if !rt.cache.has(sha256) => {
            let baseline = baseline.engine.clone();
            tokio::task::spawn_blocking(move || match Component::from_binary(&baseline, &bytes) {
                Ok(component) => Ok((component, CacheOutcome::Baseline)),
                Err(_) => cache.load_or_compile(&engine, &bytes, &key),
            })
        }
        _ => tokio::task::spawn_blocking(move || cache.load_or_compile(&engine, &bytes, &key)),
    };
    tokio::time::timeout(limit, compiling)
        .await
        .map_err(|_| {
            // The compiler cannot be interrupted: it finishes on its blocking
            // thread and what it makes is dropped.
            LoadError::new(
                file,
                LoadKind::NotAComponent,
                format!(
                    "took longer than compile_timeout = \"{}\" to compile and is refused; a connector this large or this complex is not accepted (raise compile_timeout in [host] if the file is trusted)",
                    humantime::format_duration(limit)
                ),
            )
        })?
        .map_err(|e| LoadError::new(file, LoadKind::NotAComponent, format!("compilation stopped: {e}")))?
        .map_err(|e| {
            LoadError::new(file, LoadKind::NotAComponent, format!("is not a valid WebAssembly component: {e:#}"))
        })
}

/// The component linked against the host's imports, typed by the contract
/// version it is built for.
pub(super) fn link(
    rt: &Runtime,
    file: &Path,
    component: &Component,
    version: ContractVersion,
) -> Result<Pre, LoadError> {
    let linked = rt
        .linker_for(component.engine())
        .instantiate_pre(component)
        .map_err(|e| {
            LoadError::new(
                file,
                LoadKind::Contract,
                format!(
                    "needs an import this host does not provide ({e:#}); {}",
                    linked_text()
                ),
            )
        })?;
    let mismatch = |e: wasmtime::Error| {
        LoadError::new(
            file,
            LoadKind::Contract,
            format!("does not match the payment-connector world: {e:#}"),
        )
    };
    Ok(match version {
        ContractVersion::V0_3 => {
            Pre::Current(exports::ConnectorPre::new(linked).map_err(mismatch)?)
        }
        ContractVersion::V0_2 => Pre::V0_2(v0_2::ConnectorPre::new(linked).map_err(mismatch)?),
        ContractVersion::V0_1 => {
            Pre::Legacy(legacy::PaymentConnectorPre::new(linked).map_err(mismatch)?)
        }
    })
}

/// Compiles `bytes` with Cranelift into the compile cache in the background,
/// one component at a time, each once, within `compile_timeout`, after the
/// scan that loaded it, and wakes the plugin directory's watcher when it is
/// there: its next scan swaps the optimised code in, through the same path
/// as a replaced file. A compile that fails or runs out of time leaves the
/// connector on its baseline code, and the log says so.
pub(super) fn tier_up(rt: &Runtime, settings: &Settings, bytes: Arc<[u8]>, sha256: &str) {
    let tier = rt.tier_up.clone();
    if !tier.pending.lock().insert(sha256.to_owned()) {
        return;
    }
    let (engine, cache, key) = (rt.engine.clone(), rt.cache.clone(), sha256.to_owned());
    let limit = settings.host.compile_timeout;
    tokio::spawn(async move {
        let Ok(_one) = tier.one.acquire().await else {
            tier.pending.lock().remove(&key);
            return;
        };
        // After the scan that asked for it: its baseline compiles first.
        tier.no_scan().await;
        let started = std::time::Instant::now();
        let compiling = tokio::task::spawn_blocking({
            let key = key.clone();
            move || cache.load_or_compile(&engine, &bytes, &key)
        });
        let compiled = tokio::time::timeout(limit, compiling).await;
        tier.pending.lock().remove(&key);
        match compiled {
            Ok(Ok(Ok(_))) => {
                tracing::info!(sha256 = %key, ms = started.elapsed().as_millis() as u64, "optimised code compiled; the next scan swaps it in");
                tier.ready.notify_one();
            }
            Ok(Ok(Err(e))) => {
                tracing::warn!(sha256 = %key, "the optimised compile failed ({e:#}); the baseline code keeps serving")
            }
            Ok(Err(e)) => {
                tracing::warn!(sha256 = %key, "the optimised compile stopped ({e}); the baseline code keeps serving")
            }
            Err(_) => {
                tracing::warn!(sha256 = %key, "the optimised compile took longer than compile_timeout = \"{}\"; the baseline code keeps serving", humantime::format_duration(limit))
            }
        }
    });
}
