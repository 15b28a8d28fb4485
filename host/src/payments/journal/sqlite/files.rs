//! The journal file's mode: its owner's alone.

use std::path::Path;

/// Creates the file readable and writable by its owner only, and narrows
/// an existing one to that.
#[cfg(unix)]
pub(super) fn private_file(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)?;
    let mode = file.metadata()?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        file.set_permissions(std::fs::Permissions::from_mode(mode & 0o700))?;
    }
    Ok(())
}

#[cfg(not(unix))]
pub(super) fn private_file(_path: &Path) -> std::io::Result<()> {
    Ok(())
}
