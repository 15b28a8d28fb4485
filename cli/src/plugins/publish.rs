//! `payhost plugins publish`: a connector for every host sharing the journal.

use super::super::{Exit, exit, host, output};
use payhost::ReleaseError;
use std::path::{Path, PathBuf};

/// Checks `file` here, then stores it in the journal as `name`.
pub(super) async fn run(config: &Path, file: PathBuf, name: Option<String>) -> Result<u8, Exit> {
    if let Some(name) = &name
        && !payhost::fleet::valid_file_name(name)
    {
        return Err(Exit::usage(ReleaseError::FileName(name.clone())));
    }
    let host = host(config)?;
    let published = host.publish(&file, name).await.map_err(|e| match e {
        ReleaseError::Journal(e) => Exit::journal(e),
        ReleaseError::NotLoadable(e) => Exit {
            code: exit::FAILED,
            error: anyhow::anyhow!("not published: {e}"),
        },
        other => Exit::usage(other),
    })?;
    println!(
        "published {} as {} (#{}, sha256 {}): every host sharing this journal loads it within seconds",
        output::shown(&published.connector.info.name),
        published.file,
        published.seq,
        published.connector.sha256
    );
    Ok(exit::OK)
}
