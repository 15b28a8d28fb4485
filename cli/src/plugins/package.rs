//! `payhost plugins package`: a signed package of a connector.

use super::super::{Exit, exit, output};
use payhost::{Host, ReleaseError};
use std::path::{Path, PathBuf};

/// `plugins package`.
pub(super) async fn package(file: &Path, key: &Path, out: Option<PathBuf>) -> Result<u8, Exit> {
    use tracing::instrument::WithSubscriber as _;
    let key_text = std::fs::read_to_string(key)
        .map_err(|e| Exit::usage(anyhow::anyhow!("cannot read {}: {e}", key.display())))?;
    let key = payhost::package::PublisherKey::from_file_text(&key_text)
        .map_err(|e| Exit::usage(anyhow::anyhow!("{}: {e}", key.display())))?;
    // Loaded as a host would, quietly: this host has no section for it.
    let host = Host::from_settings(payhost::Settings::default())
        .map_err(|e| anyhow::anyhow!("cannot start the WebAssembly engine: {e:#}"))?;
    let packaged = host
        .package(file, &key)
        .with_subscriber(tracing::subscriber::NoSubscriber::default())
        .await
        .map_err(|e| match e {
            ReleaseError::NotLoadable(e) => Exit {
                code: exit::FAILED,
                error: anyhow::anyhow!("not packaged: {e}"),
            },
            other => Exit::usage(other),
        })?;
    let manifest = &packaged.manifest;
    let out = out
        .unwrap_or_else(|| PathBuf::from(format!("{}-{}.wasm", manifest.name, manifest.version)));
    std::fs::write(&out, &packaged.bytes)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?;
    println!(
        "packaged {} {} as {}, signed by {}",
        output::shown(&manifest.name),
        output::shown(&manifest.version),
        out.display(),
        key.public()
    );
    println!("the section for payhost.toml (fill in the values):\n");
    for line in manifest.section.lines() {
        println!("{}", output::shown(line));
    }
    Ok(exit::OK)
}
