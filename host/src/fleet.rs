//! Fleet-wide hot add: a connector file published to the shared journal
//! (`payhost plugins publish`) is written into every host's plugin
//! directory, where it is loaded as any new file is (compiled off the
//! request path, swapped in, the previous version kept when it fails).

use crate::host::Host;
use crate::payments::journal::Published;
use crate::registry::MAX_COMPONENT_SIZE;
use sha2::Digest as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How often a host looks for newly published connectors.
pub const FOLLOW_EVERY: Duration = Duration::from_secs(1);

/// Whether `file` may name a published connector: `name.wasm`, of
/// letters, digits, `-`, `_` and `.`, not hidden, no path.
pub fn valid_file_name(file: &str) -> bool {
    file.len() <= 128
        && file.ends_with(".wasm")
        && !file.starts_with('.')
        && file
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// Why a published connector was not written into the plugin directory.
#[derive(Debug, thiserror::Error)]
enum PlaceError {
    /// The published file name is not a plain `name.wasm`.
    #[error(
        "published file name `{}` is not a plain `name.wasm`; skipped",
        payhost_rules::text::escape(.file)
    )]
    FileName {
        /// The file name, as published.
        file: String,
    },
    /// The published bytes are larger than a host loads.
    #[error("published {file} is over 64 MiB; skipped")]
    TooLarge {
        /// The file name.
        file: String,
    },
    /// The published bytes do not match their SHA-256.
    #[error("published {file} does not match its SHA-256; skipped")]
    Digest {
        /// The file name.
        file: String,
    },
    /// Something other than a regular file is at the target path.
    #[error(
        "{target} is not a regular file (a link or something else); published {file} not written"
    )]
    NotRegular {
        /// The path in the plugin directory.
        target: PathBuf,
        /// The file name.
        file: String,
    },
    /// No temporary file can be made in the plugin directory.
    #[error("cannot write in {dir}: {error}")]
    TempFile {
        /// The plugin directory.
        dir: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The file cannot be written, synced or renamed into place.
    #[error("cannot write {target}: {error}")]
    Write {
        /// The path in the plugin directory.
        target: PathBuf,
        /// Why.
        error: std::io::Error,
    },
}

/// Writes `published` into `dir`, unless the file there already has its
/// bytes; `true` when it wrote.
fn place(dir: &Path, published: &Published) -> Result<bool, PlaceError> {
    if !valid_file_name(&published.file) {
        return Err(PlaceError::FileName {
            file: published.file.clone(),
        });
    }
    // No larger than a host loads.
    if published.bytes.len() as u64 > MAX_COMPONENT_SIZE {
        return Err(PlaceError::TooLarge {
            file: published.file.clone(),
        });
    }
    if hex::encode(sha2::Sha256::digest(&published.bytes)) != published.sha256 {
        return Err(PlaceError::Digest {
            file: published.file.clone(),
        });
    }
    let target = dir.join(&published.file);
    // What is there now: a regular file (not a link, not a FIFO) of at most
    // the size a connector may have, or nothing.
    if let Ok(meta) = std::fs::symlink_metadata(&target) {
        if !meta.is_file() {
            return Err(PlaceError::NotRegular {
                target,
                file: published.file.clone(),
            });
        }
        if meta.len() == published.bytes.len() as u64
            && std::fs::read(&target).is_ok_and(|b| b == published.bytes)
        {
            return Ok(false);
        }
    }
    // Written whole to a fresh temporary file, synced, then renamed in.
    let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(|error| PlaceError::TempFile {
        dir: dir.to_owned(),
        error,
    })?;
    std::io::Write::write_all(&mut temp, &published.bytes)
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|error| PlaceError::Write {
            target: target.clone(),
            error,
        })?;
    temp.persist(&target).map_err(|e| PlaceError::Write {
        target: target.clone(),
        error: e.error,
    })?;
    Ok(true)
}

/// Follows the journal's published connectors for as long as the task
/// runs: everything published so far at start, then each new one.
pub fn follow(host: Arc<Host>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut seen = 0;
        loop {
            if let Some(journal) = host.journal() {
                match journal.published_after(seen).await {
                    Ok(list) => {
                        let mut wrote = false;
                        let dir = host.settings().plugins_dir();
                        for published in &list {
                            seen = published.seq;
                            match place(&dir, published) {
                                Ok(true) => {
                                    tracing::info!(
                                        file = %published.file,
                                        sha256 = %published.sha256,
                                        "published connector written to the plugin directory"
                                    );
                                    wrote = true;
                                }
                                Ok(false) => {}
                                Err(e) => tracing::error!("{e}"),
                            }
                        }
                        if wrote && let Err(e) = host.scan().await {
                            tracing::error!("{e}");
                        }
                    }
                    Err(e) => tracing::warn!("cannot read published connectors: {e}"),
                }
            }
            tokio::time::sleep(FOLLOW_EVERY).await;
        }
    })
}
