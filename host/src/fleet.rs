//! Fleet-wide hot add: a connector file published to the shared journal
//! (`payhost plugins publish`) is written into every host's plugin
//! directory, where it is loaded as any new file is (compiled off the
//! request path, swapped in, the previous version kept when it fails).

use crate::host::Host;
use crate::payments::journal::Published;
use crate::registry::MAX_COMPONENT_SIZE;
use sha2::Digest as _;
use std::path::Path;
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

/// Writes `published` into `dir`, unless the file there already has its
/// bytes; `true` when it wrote.
fn place(dir: &Path, published: &Published) -> Result<bool, String> {
    if !valid_file_name(&published.file) {
        return Err(format!(
            "published file name `{}` is not a plain `name.wasm`; skipped",
            payhost_rules::text::escape(&published.file)
        ));
    }
    // No larger than a host loads.
    if published.bytes.len() as u64 > MAX_COMPONENT_SIZE {
        return Err(format!(
            "published {} is over 64 MiB; skipped",
            published.file
        ));
    }
    if hex::encode(sha2::Sha256::digest(&published.bytes)) != published.sha256 {
        return Err(format!(
            "published {} does not match its SHA-256; skipped",
            published.file
        ));
    }
    let target = dir.join(&published.file);
    // What is there now: a regular file (not a link, not a FIFO) of at most
    // the size a connector may have, or nothing.
    if let Ok(meta) = std::fs::symlink_metadata(&target) {
        if !meta.is_file() {
            return Err(format!(
                "{} is not a regular file (a link or something else); published {} not written",
                target.display(),
                published.file
            ));
        }
        if meta.len() == published.bytes.len() as u64
            && std::fs::read(&target).is_ok_and(|b| b == published.bytes)
        {
            return Ok(false);
        }
    }
    // Written whole to a fresh temporary file, synced, then renamed in.
    let mut temp = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| format!("cannot write in {}: {e}", dir.display()))?;
    std::io::Write::write_all(&mut temp, &published.bytes)
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|e| format!("cannot write {}: {e}", target.display()))?;
    temp.persist(&target)
        .map_err(|e| format!("cannot write {}: {}", target.display(), e.error))?;
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
