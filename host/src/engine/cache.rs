//! Compiled connectors cached on disk, keyed by the component's SHA-256 and
//! the engine's configuration.
//!
//! A cache entry is native code, so nothing but this module's own output
//! is ever loaded from it:
//! - the directory must be ours: created with mode 0700, or, if it exists,
//!   a real directory (not a link) owned by this process's user that no one
//!   else can write or read; otherwise the cache is refused and every
//!   connector is compiled on load;
//! - each entry is bound, by an HMAC-SHA-256 under a key kept outside the
//!   cache (`<cache>.key`, mode 0600), to the component it was compiled
//!   from and to its own bytes; an entry without a valid MAC (copied over
//!   another, planted, truncated) is recompiled, never loaded;
//! - entries and the key are opened without following links, and the bytes
//!   checked are the bytes loaded.
//!
//! A `.wasm` from the plugin directory is always compiled from its
//! WebAssembly; a precompiled artifact offered as a connector is refused by
//! the loader.

use hmac::Mac as _;
use sha2::Digest as _;
use std::hash::{Hash, Hasher};
use std::io::{Read as _, Write};
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
    /// Compiled now by the baseline compiler, to serve until the optimised
    /// code, compiling in the background, is in the cache.
    Baseline,
}

/// The on-disk cache of compiled components.
#[derive(Debug, Clone)]
pub struct CompileCache {
    dir: Option<PathBuf>,
    key: Vec<u8>,
    engine_key: String,
}

type Hmac = hmac::Hmac<sha2::Sha256>;

impl CompileCache {
    /// A cache in `dir`, or none. The directory is created (mode 0700) or
    /// checked; the key beside it is created or read.
    pub fn new(dir: Option<PathBuf>, engine: &Engine) -> Self {
        let mut hasher = std::hash::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        env!("CARGO_PKG_VERSION").hash(&mut hasher);
        let engine_key = format!("{:016x}", hasher.finish());
        let opened = dir.and_then(|dir| {
            match open_private_dir(&dir).and_then(|()| key_for(&dir)) {
                Ok(key) => Some((dir, key)),
                Err(e) => {
                    tracing::warn!(
                        "compile cache {} is not usable ({e}); compiling every connector on load",
                        dir.display()
                    );
                    None
                }
            }
        });
        match opened {
            Some((dir, key)) => CompileCache {
                dir: Some(dir),
                key,
                engine_key,
            },
            None => CompileCache {
                dir: None,
                key: Vec::new(),
                engine_key,
            },
        }
    }

    /// Whether there is a cache directory at all.
    pub fn is_on(&self) -> bool {
        self.dir.is_some()
    }

    /// Whether the cache holds an entry for `sha256` (whose MAC is checked
    /// when it is loaded).
    pub fn has(&self, sha256: &str) -> bool {
        self.entry(sha256)
            .is_some_and(|path| path.is_file() && path.with_extension("mac").is_file())
    }

    fn entry(&self, sha256: &str) -> Option<PathBuf> {
        self.dir
            .as_ref()
            .map(|d| d.join(format!("{sha256}-{}.cwasm", self.engine_key)))
    }

    /// The MAC that binds an entry's bytes to the component it came from.
    fn mac(&self, sha256: &str, data: &[u8]) -> Hmac {
        let mut mac = Hmac::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(sha256.as_bytes());
        mac.update(self.engine_key.as_bytes());
        mac.update(&sha2::Sha256::digest(data));
        mac
    }

    /// The compiled component for `bytes`, from the cache when it is there
    /// and its MAC holds.
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
        let mac_path = path.with_extension("mac");
        if let (Ok(data), Ok(mac)) = (read_no_follow(&path), read_no_follow(&mac_path)) {
            // `verify_slice` compares in constant time.
            if self.mac(sha256, &data).verify_slice(&mac).is_ok() {
                match load_own(engine, &data) {
                    Ok(component) => return Ok((component, CacheOutcome::Hit)),
                    Err(e) => tracing::warn!(
                        "cache entry {} is unusable ({e}); recompiling",
                        path.display()
                    ),
                }
            } else {
                tracing::warn!(
                    "cache entry {} is not one this host wrote for this component; recompiling",
                    path.display()
                );
            }
        }
        let component = Component::from_binary(engine, bytes)?;
        let written = component
            .serialize()
            .map_err(|e| e.to_string())
            .and_then(|data| {
                let mac = self.mac(sha256, &data).finalize().into_bytes();
                write_atomic(&path, &data)
                    .and_then(|()| write_atomic(&mac_path, &mac))
                    .map_err(|e| e.to_string())
            });
        match written {
            Ok(()) => Ok((component, CacheOutcome::Compiled)),
            Err(e) => {
                tracing::warn!("cannot write cache entry {}: {e}", path.display());
                Ok((component, CacheOutcome::Uncached))
            }
        }
    }
}

/// Loads a cache entry's bytes.
#[allow(unsafe_code)]
fn load_own(engine: &Engine, data: &[u8]) -> wasmtime::Result<Component> {
    // SAFETY: `deserialize` trusts the bytes to be wasmtime's own output.
    // These are the bytes read (not followed through a link) from a
    // directory that only this user can write, and their HMAC under a key
    // kept outside the cache shows they are what this host serialized for
    // this very component; wasmtime also checks the header and version.
    unsafe { Component::deserialize(engine, data) }
}

/// Reads a file without following a link to it.
fn read_no_follow(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NOFOLLOW);
    let mut file = options.open(path)?;
    let mut data = Vec::new();
    file.read_to_end(&mut data)?;
    Ok(data)
}

/// Creates the directory (mode 0700), or checks that an existing one is
/// ours alone: a real directory, this user's, no access for anyone else.
fn open_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    check_private(dir, true)
}

/// Refuses `path` unless it is a real directory (or file) owned by this
/// process's user with no permission for group or others.
fn check_private(path: &Path, directory: bool) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    let kind_ok = if directory {
        meta.is_dir()
    } else {
        meta.is_file()
    };
    if !kind_ok {
        return Err(std::io::Error::other(format!(
            "it is not a {}: a link or something else is there",
            if directory { "directory" } else { "file" }
        )));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        // SAFETY: `geteuid` has no preconditions and cannot fail.
        #[allow(unsafe_code)]
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me {
            return Err(std::io::Error::other(format!(
                "it belongs to user {}, not to this process's user {me}; use a directory of this user's",
                meta.uid()
            )));
        }
        if meta.mode() & 0o077 != 0 {
            return Err(std::io::Error::other(format!(
                "its mode is {:o}: others may read or write it; run `chmod 700` (or `600` for the key) on it",
                meta.mode() & 0o777
            )));
        }
    }
    Ok(())
}

/// The MAC key for `dir`'s entries: `<dir>.key`, beside the cache, created
/// (mode 0600, 32 random bytes) if missing and checked like the directory.
fn key_for(dir: &Path) -> std::io::Result<Vec<u8>> {
    let mut name = dir.file_name().unwrap_or_default().to_os_string();
    name.push(".key");
    let path = dir.with_file_name(name);
    if std::fs::symlink_metadata(&path).is_err() {
        let mut key = [0u8; 32];
        std::fs::File::open("/dev/urandom")?.read_exact(&mut key)?;
        // Written whole, then linked in without replacing one another host
        // made first (theirs is read below). A temporary file is mode 0600.
        let mut file = tempfile::NamedTempFile::new_in(path.parent().unwrap_or(Path::new(".")))?;
        file.write_all(&key)?;
        file.as_file().sync_all()?;
        if let Err(e) = file.persist_noclobber(&path)
            && e.error.kind() != std::io::ErrorKind::AlreadyExists
        {
            return Err(e.error);
        }
    }
    check_private(&path, false)
        .map_err(|e| std::io::Error::other(format!("{}: {e}", path.display())))?;
    let key = read_no_follow(&path)?;
    if key.len() != 32 {
        return Err(std::io::Error::other(format!(
            "{} is not a cache key (32 bytes); remove it to make a new one",
            path.display()
        )));
    }
    Ok(key)
}

fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    file.write_all(data)?;
    file.as_file().sync_all()?;
    file.persist(path).map(drop).map_err(|e| e.error)
}
