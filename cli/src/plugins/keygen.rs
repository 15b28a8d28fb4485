//! `payhost plugins keygen`: a publisher key pair.

use super::super::{Exit, exit};
use std::path::Path;

/// `plugins keygen`.
pub(super) fn keygen(out: &Path) -> Result<u8, Exit> {
    let key = payhost::package::PublisherKey::generate()
        .map_err(|e| anyhow::anyhow!("cannot make a key: {e}"))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(out).map_err(|e| {
        Exit::usage(anyhow::anyhow!(
            "cannot create {}: {e} (an existing key is never overwritten)",
            out.display()
        ))
    })?;
    std::io::Write::write_all(&mut f, key.to_file_text().as_bytes())
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?;
    println!(
        "secret key written to {} (keep it; it signs your packages)",
        out.display()
    );
    println!("public key: {}", key.public());
    println!(
        "operators trust it with: publishers = [\"{}\"] in the connector's section of payhost.toml",
        key.public()
    );
    Ok(exit::OK)
}
