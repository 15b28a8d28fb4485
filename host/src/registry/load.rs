//! Loading a connector file, in order: it is a WebAssembly component (not a
//! core module, not a precompiled artifact), it exports this contract's
//! `connector` interface, it imports nothing the host does not provide,
//! `info()` answers within its limits, what it declares is well-formed, and
//! its grant is what it asks for intersected with what the operator allows.
//!
//! `load` is the sequence; the steps are apart: reading the file (`file`),
//! its exports and imports (`world`), compiling and linking (`compile`),
//! calling and checking `info()` (`declared`), what its section requires
//! (`section`) and granting (`granting`).

use super::compile::{compile, link, tier_up};
use super::connector::Connector;
use super::declared::{ask_info, check_info};
use super::file::{check_header, open_package, read_file};
use super::granting::grant_for;
use super::info::LoadError;
use super::section::{check_package, check_pin, check_section_min_contract};
use super::world::{check_exports, check_host_min_contract, check_imports, warn_legacy};
use crate::capabilities::http::scrub::Scrubber;
use crate::engine::Runtime;
use crate::engine::cache::CacheOutcome;
use crate::engine::call::Sandbox;
use crate::policy::settings::Settings;
use sha2::Digest;
use std::path::Path;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

/// Loads, checks and grants the connector in `file`.
pub(crate) async fn load(
    rt: &Runtime,
    settings: &Settings,
    file: &Path,
) -> Result<Connector, LoadError> {
    let started = Instant::now();
    let bytes = read_file(file).await?;
    check_header(file, &bytes)?;
    // A signed package is checked whoever loads it: one whose signature or
    // digest does not hold is refused even where nobody asks for one.
    let package = open_package(file, &bytes)?;
    let sha256 = hex::encode(sha2::Sha256::digest(&bytes));
    let bytes: Arc<[u8]> = bytes.into();
    let (component, cache) = compile(rt, settings, file, bytes.clone(), &sha256).await?;
    let version = check_exports(file, &component)?;
    check_imports(file, &component, version)?;
    check_host_min_contract(file, settings, version)?;
    let pre = link(rt, file, &component, version)?;

    // Ask it who it is, and whether it can query, with nothing granted.
    let (pre, info, can_query) = ask_info(rt, settings, file, pre).await?;
    let info = check_info(file, info)?;
    check_package(file, settings, &info, package.as_ref())?;
    check_pin(file, settings, &info, &sha256)?;
    check_section_min_contract(file, settings, &info, version)?;
    warn_legacy(&info.name, version);
    let (grant, hosts, secrets, config, pins) = grant_for(file, settings, &info, version)?;
    // Every check passed: the optimised code, where this is baseline code.
    if cache == CacheOutcome::Baseline {
        tier_up(rt, settings, bytes, &sha256);
    }
    let secret_scrub = Arc::new(Scrubber::new(&secrets.hidden_values()));
    let limits = settings.limits_for(&info.name);
    Ok(Connector {
        sandbox: Sandbox {
            imports_wasi: pre.imports_wasi(),
            pre,
            name: Arc::from(info.name.as_str()),
            hosts: Arc::from(hosts),
            secrets: Arc::new(secrets),
            config: Arc::new(config),
            limits,
            pins: Arc::new(pins),
            secret_scrub,
            pinned_clock: Arc::default(),
        },
        places: Arc::new(tokio::sync::Semaphore::new(limits.max_concurrent as usize)),
        info,
        contract: version,
        can_query,
        grant,
        limits,
        file: file.to_owned(),
        sha256,
        package,
        loaded_at: SystemTime::now(),
        cache,
        load_time: started.elapsed(),
    })
}
