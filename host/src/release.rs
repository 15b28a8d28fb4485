//! Releasing a connector file: packaged and signed for operators to pin
//! by publisher, or published to every host sharing the journal. Both
//! first load the file as a host would; `payhost plugins package` and
//! `payhost plugins publish` only map their arguments to these.

use crate::host::Host;
use crate::package::{Manifest, PackageError, PublisherKey};
use crate::payments::journal::{Journal, JournalError};

use crate::registry::{Connector, LoadError, Requested};
use std::path::{Path, PathBuf};

/// Why a connector file was not released.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file does not load as a connector.
    #[error(transparent)]
    NotLoadable(#[from] LoadError),
    /// It could not be packaged (an already packaged file, a bad key).
    #[error("{}: {source}", path.display())]
    Package {
        /// The file.
        path: PathBuf,
        /// Why.
        source: PackageError,
    },
    /// The file changed while it was being checked: what was checked is
    /// not what would be released.
    #[error(
        "{} changed while it was being checked; release it again once nothing is writing it",
        path.display()
    )]
    Changed {
        /// The file.
        path: PathBuf,
    },
    /// The name to publish it as is not a plain `.wasm` file name.
    #[error(
        "`{}` is not a plain file name ending in .wasm (letters, digits, -, _ and .); pass --as NAME.wasm",
        payhost_rules::text::escape(.0)
    )]
    FileName(String),
    /// The journal refused or failed.
    #[error(transparent)]
    Journal(#[from] JournalError),
}

/// A signed package, and what it says.
#[derive(Debug)]
pub struct Packaged {
    /// The package's bytes: the component with its manifest and signature.
    pub bytes: Vec<u8>,
    /// The manifest signed into it; `section` is the `payhost.toml`
    /// section that grants what it asks for, pinned to the publisher.
    pub manifest: Manifest,
}

/// A connector published to the journal.
#[derive(Debug)]
pub struct Publication {
    /// The connector as this host loaded it.
    pub connector: Connector,
    /// The file name hosts write it as.
    pub file: String,
    /// Its place in the journal's order of publications.
    pub seq: i64,
}

fn read(path: &Path) -> Result<Vec<u8>, ReleaseError> {
    std::fs::read(path).map_err(|source| ReleaseError::Unreadable {
        path: path.to_owned(),
        source,
    })
}

/// `file`'s bytes, loaded as a host would: the bytes released are those
/// checked (the file read once more, its digest the one the check took).
async fn checked(host: &Host, file: &Path) -> Result<(Vec<u8>, Connector), ReleaseError> {
    use sha2::Digest as _;
    let connector = host.check_file(file).await?;
    let bytes = read(file)?;
    if hex::encode(sha2::Sha256::digest(&bytes)) != connector.sha256 {
        return Err(ReleaseError::Changed {
            path: file.to_owned(),
        });
    }
    Ok((bytes, connector))
}

impl Host {
    /// Loads `file` as a host would and packages it signed by `key`.
    pub async fn package(&self, file: &Path, key: &PublisherKey) -> Result<Packaged, ReleaseError> {
        let (bytes, connector) = checked(self, file).await?;
        let info = &connector.info;
        let manifest = Manifest {
            name: info.name.clone(),
            version: info.version.clone(),
            contract: format!(
                "{}@{}",
                crate::contract::CONTRACT_PACKAGE,
                connector.contract.as_str()
            ),
            sha256: String::new(),
            hosts: info.hosts.clone(),
            secrets: info.secrets.clone(),
            config_keys: info.config_keys.clone(),
            placements: info.placements.clone(),
            section: Requested::from(info)
                .section(&info.name, &format!("publishers = [\"{}\"]", key.public())),
            publisher: String::new(),
        };
        let bytes = crate::package::sign(&bytes, manifest.clone(), key).map_err(|source| {
            ReleaseError::Package {
                path: file.to_owned(),
                source,
            }
        })?;
        Ok(Packaged { bytes, manifest })
    }

    /// Loads `file` as a host would and stores it in this host's journal
    /// as `name` (the file's own name when `None`), for every host sharing
    /// it.
    pub async fn publish(
        &self,
        file: &Path,
        name: Option<String>,
    ) -> Result<Publication, ReleaseError> {
        let name = name.unwrap_or_else(|| {
            file.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
        if !crate::fleet::valid_file_name(&name) {
            return Err(ReleaseError::FileName(name));
        }
        let (bytes, connector) = checked(self, file).await?;
        let settings = self.settings();
        let journal =
            Journal::open_target(&settings.journal_target(), settings.journal_options()).await?;
        let seq = journal.publish(&name, bytes).await;
        let _ = journal.close().await;
        let seq = seq?;
        Ok(Publication {
            connector,
            file: name,
            seq,
        })
    }
}
