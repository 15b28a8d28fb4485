//! `payhost plugins package`: a signed package of a connector.

use super::super::{Exit, exit, output};
use payhost::Host;
use std::path::{Path, PathBuf};

/// `plugins package`.
pub(super) async fn package(file: &Path, key: &Path, out: Option<PathBuf>) -> Result<u8, Exit> {
    use tracing::instrument::WithSubscriber as _;
    let key_text = std::fs::read_to_string(key)
        .map_err(|e| Exit::usage(anyhow::anyhow!("cannot read {}: {e}", key.display())))?;
    let key = payhost::package::PublisherKey::from_file_text(&key_text)
        .map_err(|e| Exit::usage(anyhow::anyhow!("{}: {e}", key.display())))?;
    let bytes = std::fs::read(file)
        .map_err(|e| Exit::usage(anyhow::anyhow!("cannot read {}: {e}", file.display())))?;
    // Loaded as a host would, quietly: this host has no section for it.
    let host = Host::from_settings(payhost::Settings::default())
        .map_err(|e| anyhow::anyhow!("cannot start the WebAssembly engine: {e:#}"))?;
    let connector = host
        .check_file(file)
        .with_subscriber(tracing::subscriber::NoSubscriber::default())
        .await
        .map_err(|e| Exit {
            code: exit::FAILED,
            error: anyhow::anyhow!("not packaged: {e}"),
        })?;
    let info = &connector.info;
    let manifest = payhost::package::Manifest {
        name: info.name.clone(),
        version: info.version.clone(),
        contract: format!(
            "{}@{}",
            payhost::CONTRACT_PACKAGE,
            connector.contract.as_str()
        ),
        sha256: String::new(),
        hosts: info.hosts.clone(),
        secrets: info.secrets.clone(),
        config_keys: info.config_keys.clone(),
        placements: info.placements.clone(),
        section: requested(info)
            .section(&info.name, &format!("publishers = [\"{}\"]", key.public())),
        publisher: String::new(),
    };
    let section_text = manifest.section.clone();
    let package = payhost::package::sign(&bytes, manifest, &key)
        .map_err(|e| Exit::usage(anyhow::anyhow!("{}: {e}", file.display())))?;
    let out = out.unwrap_or_else(|| PathBuf::from(format!("{}-{}.wasm", info.name, info.version)));
    std::fs::write(&out, &package)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?;
    println!(
        "packaged {} {} as {}, signed by {}",
        output::shown(&info.name),
        output::shown(&info.version),
        out.display(),
        key.public()
    );
    println!("the section for payhost.toml (fill in the values):\n");
    for line in section_text.lines() {
        println!("{}", output::shown(line));
    }
    Ok(exit::OK)
}

/// What `info` asks for, as a summary has it.
fn requested(info: &payhost::ConnectorInfo) -> payhost::Requested {
    payhost::Requested {
        hosts: info.hosts.clone(),
        secrets: info.secrets.clone(),
        config_keys: info.config_keys.clone(),
        placements: info.placements.clone(),
    }
}
