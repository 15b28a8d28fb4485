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
use wasmtime::component::Component;

/// The component in `bytes`, from the compile cache under `sha256` or
/// compiled, and whether the cache had it. Where the runtime tiers and the
/// cache does not hold it, it is compiled by the baseline compiler now and
/// by Cranelift into the cache in the background (`tier_up`).
pub(super) async fn compile(
    rt: &Runtime,
    settings: &Settings,
    file: &Path,
    bytes: Vec<u8>,
    sha256: &str,
) -> Result<(Component, CacheOutcome), LoadError> {
    let key = sha256.to_owned();
    let limit = settings.host.compile_timeout;
    let compiling = match &rt.baseline {
        Some(baseline) if !rt.cache.has(sha256) => {
            tier_up(rt, bytes.clone(), sha256);
            let engine = baseline.engine.clone();
            tokio::task::spawn_blocking(move || {
                Component::from_binary(&engine, &bytes).map(|c| (c, CacheOutcome::Baseline))
            })
        }
        _ => {
            let engine = rt.engine.clone();
            let cache = rt.cache.clone();
            tokio::task::spawn_blocking(move || cache.load_or_compile(&engine, &bytes, &key))
        }
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
/// one component at a time and each once, and wakes the plugin directory's
/// watcher when it is there: its next scan swaps the optimised code in,
/// through the same path as a replaced file.
fn tier_up(rt: &Runtime, bytes: Vec<u8>, sha256: &str) {
    let tier = rt.tier_up.clone();
    if !tier.pending.lock().insert(sha256.to_owned()) {
        return;
    }
    let (engine, cache, key) = (rt.engine.clone(), rt.cache.clone(), sha256.to_owned());
    tokio::spawn(async move {
        let Ok(_one) = tier.one.acquire().await else {
            return;
        };
        // After the scan that asked for it: its baseline compiles first.
        tier.no_scan().await;
        let started = std::time::Instant::now();
        let compiled = tokio::task::spawn_blocking({
            let key = key.clone();
            move || cache.load_or_compile(&engine, &bytes, &key)
        })
        .await;
        tier.pending.lock().remove(&key);
        match compiled {
            Ok(Ok(_)) => {
                tracing::info!(sha256 = %key, ms = started.elapsed().as_millis() as u64, "optimised code compiled; the next scan swaps it in");
                tier.ready.notify_one();
            }
            Ok(Err(e)) => {
                tracing::warn!(sha256 = %key, "the optimised compile failed ({e:#}); the baseline code keeps serving");
            }
            Err(e) => tracing::warn!(sha256 = %key, "the optimised compile stopped: {e}"),
        }
    });
}
