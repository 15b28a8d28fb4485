//! Compiled connectors cached on disk, keyed by the component's SHA-256 and
//! the engine's configuration.
//!
//! Only files this module wrote are ever loaded as native code: a `.wasm`
//! from the plugin directory is always compiled from its WebAssembly, and a
//! precompiled artifact offered as a connector is refused by the loader.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Whether a component came from the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CacheOutcome {
    /// Loaded from the cache: no compilation.
    Hit,
    /// Compiled now, and written to the cache.
    Compiled,
    /// Compiled now; there is no cache.
    Uncached,
}

/// The on-disk cache of compiled components.
#[derive(Debug, Clone)]
pub struct CompileCache {
    dir: Option<PathBuf>,
    engine_key: String,
}

impl CompileCache {
    /// A cache in `dir`, or none. The directory is created (mode 0700).
    pub fn new(dir: Option<PathBuf>, engine: &Engine) -> Self {
        let mut hasher = std::hash::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        env!("CARGO_PKG_VERSION").hash(&mut hasher);
        let engine_key = format!("{:016x}", hasher.finish());
        let dir = dir.and_then(|dir| match create_private_dir(&dir) {
            Ok(()) => Some(dir),
            Err(e) => {
                tracing::warn!(
                    "compile cache {} is not usable ({e}); compiling every connector on load",
                    dir.display()
                );
                None
            }
        });
        CompileCache { dir, engine_key }
    }

    fn entry(&self, sha256: &str) -> Option<PathBuf> {
        self.dir
            .as_ref()
            .map(|d| d.join(format!("{sha256}-{}.cwasm", self.engine_key)))
    }

    /// The compiled component for `bytes`, from the cache when it is there.
    pub fn load_or_compile(
        &self,
        engine: &Engine,
        bytes: &[u8],
        sha256: &str,
    ) -> wasmtime::Result<(Component, CacheOutcome)> {
        let Some(path) = self.entry(sha256) else {
            return Ok((
                Component::from_binary(engine, bytes)?,
                CacheOutcome::Uncached,
            ));
        };
        if path.exists() {
            match load_own(engine, &path) {
                Ok(component) => return Ok((component, CacheOutcome::Hit)),
                Err(e) => tracing::warn!(
                    "cache entry {} is unusable ({e}); recompiling",
                    path.display()
                ),
            }
        }
        let component = Component::from_binary(engine, bytes)?;
        match component
            .serialize()
            .map_err(|e| e.to_string())
            .and_then(|data| write_atomic(&path, &data).map_err(|e| e.to_string()))
        {
            Ok(()) => Ok((component, CacheOutcome::Compiled)),
            Err(e) => {
                tracing::warn!("cannot write cache entry {}: {e}", path.display());
                Ok((component, CacheOutcome::Uncached))
            }
        }
    }
}

/// Loads a cache entry.
#[allow(unsafe_code)]
fn load_own(engine: &Engine, path: &Path) -> wasmtime::Result<Component> {
    // SAFETY: `deserialize_file` trusts the file to be wasmtime's own output.
    // Entries live in a directory this process created with mode 0700, are
    // named by the SHA-256 of the source component and the engine's
    // compatibility hash, and are written only by `write_atomic` below from
    // `Component::serialize`; wasmtime also checks the header and version.
    unsafe { Component::deserialize_file(engine, path) }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    file.write_all(data)?;
    file.as_file().sync_all()?;
    file.persist(path).map(drop).map_err(|e| e.error)
}
