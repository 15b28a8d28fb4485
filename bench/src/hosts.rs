//! The hosts and plugin directories the sections set up: the four plugin
//! files, a host over a directory with its own compile cache, a temporary
//! directory only this user may use, and copies of Atlas under other names.

use crate::connectors::CONNECTORS;
use payhost::{Host, RuntimeOptions, Settings};
use std::path::{Path, PathBuf};

/// The four connectors' files in `dir`.
pub(crate) fn plugin_files(dir: &Path) -> Vec<PathBuf> {
    CONNECTORS
        .iter()
        .map(|n| dir.join(format!("{n}.wasm")))
        .collect()
}

/// A copy of `atlas.wasm` that declares the name `name` (five characters).
pub(crate) fn renamed(atlas: &[u8], name: &str) -> Vec<u8> {
    assert_eq!(name.len(), 5);
    let mut bytes = atlas.to_vec();
    let mut i = 0;
    while i + 5 <= bytes.len() {
        if &bytes[i..i + 5] == b"atlas" {
            bytes[i..i + 5].copy_from_slice(name.as_bytes());
            i += 5;
        } else {
            i += 1;
        }
    }
    bytes
}

/// A temporary directory only this user may use: the compile cache
/// refuses one that others may read or write.
pub(crate) fn private_tempdir() -> anyhow::Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(dir)
}

/// A host over the connectors in `plugins`, compiling into `cache`, with
/// `extra_config` as its payhost.toml.
pub(crate) fn host_with_cache(
    cache: &Path,
    plugins: &Path,
    extra_config: &str,
) -> anyhow::Result<Host> {
    host_with_options(
        cache,
        plugins,
        extra_config,
        RuntimeOptions {
            max_instances: 128,
            ..RuntimeOptions::default()
        },
    )
}

/// The same, with `options` (its cache directory set to `cache`).
pub(crate) fn host_with_options(
    cache: &Path,
    plugins: &Path,
    extra_config: &str,
    options: RuntimeOptions,
) -> anyhow::Result<Host> {
    let mut settings = Settings::parse(extra_config).map_err(|e| anyhow::anyhow!(e))?;
    settings.host.plugins = plugins.to_owned();
    settings.host.cache = cache.to_owned();
    Host::new(
        settings,
        &RuntimeOptions {
            cache_dir: Some(cache.to_owned()),
            ..options
        },
    )
    .map_err(|e| anyhow::anyhow!("{e:#}"))
}
