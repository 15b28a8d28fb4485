//! `payhost plugins publish`: a connector for every host sharing the journal.

use super::super::{Exit, exit, host, output};
use std::path::{Path, PathBuf};

/// Checks `file` here, then stores it in the journal as `name`.
pub(super) async fn run(config: &Path, file: PathBuf, name: Option<String>) -> Result<u8, Exit> {
    let name = match name {
        Some(name) => name,
        None => file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    if !payhost::fleet::valid_file_name(&name) {
        return Err(Exit::usage(anyhow::anyhow!(
            "`{}` is not a plain file name ending in .wasm (letters, digits, -, _ and .); pass --as NAME.wasm",
            output::shown(&name)
        )));
    }
    let host = host(config)?;
    let connector = host.check_file(&file).await.map_err(|e| Exit {
        code: exit::FAILED,
        error: anyhow::anyhow!("not published: {e}"),
    })?;
    let bytes = std::fs::read(&file)
        .map_err(|e| Exit::usage(anyhow::anyhow!("cannot read {}: {e}", file.display())))?;
    let settings = host.settings();
    let journal =
        payhost::Journal::open_target(&settings.journal_target(), settings.journal_options())
            .await
            .map_err(Exit::journal)?;
    let seq = journal.publish(&name, bytes).await.map_err(Exit::journal)?;
    let _ = journal.close().await;
    println!(
        "published {} as {name} (#{seq}, sha256 {}): every host sharing this journal loads it within seconds",
        output::shown(&connector.info.name),
        connector.sha256
    );
    Ok(exit::OK)
}
