//! The operator's secrets: held by the host, never shown to a connector.

use crate::contract::hidden::Hidden;
#[cfg(test)]
use crate::contract::parts::Encoding;
use crate::contract::parts::{self, Piece, SECRET_BOUND};
use crate::contract::sealed::SealedKind;
use secrecy::{ExposeSecret as _, SecretSlice};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A secret value, kept by `secrecy`: wiped from memory when the last copy
/// goes (a reload, a replaced connector). `Debug` prints
/// `Secret(<redacted>)`; there is no `Display`.
#[derive(Clone)]
pub struct Secret(Arc<SecretSlice<u8>>);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<Vec<u8>>) -> Self {
        Secret(Arc::new(SecretSlice::from(value.into())))
    }

    /// The value, for the capabilities that substitute it.
    pub(crate) fn expose(&self) -> &[u8] {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Where the operator keeps a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// An environment variable of the host process.
    Env(String),
    /// A file holding only the value (one trailing newline is dropped).
    File(PathBuf),
}

/// Why the operator's secret could not be read. The text never holds the
/// value.
#[derive(Debug, thiserror::Error)]
pub enum UnreadableSecret {
    /// The environment variable holds more than a secret may.
    #[error(
        "environment variable {0} is longer than {SECRET_BOUND} bytes, the most a secret may be"
    )]
    EnvTooLong(String),
    /// The environment variable is not set, or empty.
    #[error("environment variable {0} is not set: export it before starting payhost")]
    EnvNotSet(String),
    /// The file could not be read.
    #[error("cannot read secret file {}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is empty (after one trailing newline).
    #[error("secret file {} is empty", .0.display())]
    FileEmpty(PathBuf),
    /// The file holds more than a secret may.
    #[error(
        "secret file {} is longer than {SECRET_BOUND} bytes, the most a secret may be",
        .0.display()
    )]
    FileTooLong(PathBuf),
}

impl SecretSource {
    /// Reads the value. `base` resolves a relative file path (the directory
    /// of `payhost.toml`).
    pub fn read(&self, base: &Path) -> Result<Secret, UnreadableSecret> {
        match self {
            SecretSource::Env(name) => match std::env::var_os(name) {
                Some(value) if value.len() > SECRET_BOUND => {
                    Err(UnreadableSecret::EnvTooLong(name.clone()))
                }
                Some(value) if !value.is_empty() => Ok(Secret::new(value.into_encoded_bytes())),
                _ => Err(UnreadableSecret::EnvNotSet(name.clone())),
            },
            SecretSource::File(path) => {
                let path = base.join(path);
                let mut value = match std::fs::read(&path) {
                    Ok(value) => value,
                    Err(source) => return Err(UnreadableSecret::File { path, source }),
                };
                if value.last() == Some(&b'\n') {
                    value.pop();
                    if value.last() == Some(&b'\r') {
                        value.pop();
                    }
                }
                if value.is_empty() {
                    return Err(UnreadableSecret::FileEmpty(path));
                }
                if value.len() > SECRET_BOUND {
                    return Err(UnreadableSecret::FileTooLong(path));
                }
                Ok(Secret::new(value))
            }
        }
    }
}

/// Why parts could not be assembled. The text never holds a secret value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// The connector named a secret it was not granted.
    #[error(
        "secret `{0}` is not granted to this connector (it must be declared in info() and set by the operator)"
    )]
    NotGranted(String),
    /// The secret's bytes cannot be written in the asked encoding.
    #[error("secret `{0}` is not valid UTF-8 and cannot be written as JSON")]
    NotUtf8(String),
    /// A sealed value computed by crypto in an encoding whose length depends
    /// on its content.
    #[error(
        "a sealed value computed by crypto may be written only raw, hex, hex-upper, base64 or base64url: the length of any other encoding would depend on its content"
    )]
    SealedEncoding,
    /// What the pieces can write is over the limit. The bound is computed
    /// from what the connector knows (a literal's length, 8 KiB for a
    /// secret, a sealed value's bound), never from a hidden value's length.
    #[error(
        "this could be up to {bound} bytes once assembled (each secret counted as 8 KiB, each sealed value at its most), over the limit of {limit}"
    )]
    TooLarge {
        /// What the pieces can write.
        bound: usize,
        /// The limit.
        limit: usize,
    },
    /// The call has assembled all the secret and sealed bytes it may.
    #[error(
        "this call has assembled its limit of {limit} bytes from secrets and sealed values (each counted at its most)"
    )]
    CallBudget {
        /// The limit per call.
        limit: usize,
    },
}

/// The most bytes one call may have assembled from secrets and sealed
/// values, over all its requests and crypto inputs, each counted by its
/// bound. A few bytes of a connector's memory name a secret of up to 8 KiB:
/// without this, a call could make the host write gigabytes.
pub const MAX_HIDDEN_PER_CALL: usize = 32 * 1024 * 1024;

/// What one call has left of [`MAX_HIDDEN_PER_CALL`], shared by its HTTP
/// and crypto contexts.
#[derive(Debug, Clone)]
pub(crate) struct HiddenBudget(Arc<AtomicUsize>);

impl Default for HiddenBudget {
    fn default() -> Self {
        HiddenBudget(Arc::new(AtomicUsize::new(MAX_HIDDEN_PER_CALL)))
    }
}

impl HiddenBudget {
    /// Takes `bytes` from what is left, or refuses without taking any.
    fn take(&self, bytes: usize) -> Result<(), SecretError> {
        self.0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(bytes)
            })
            .map(drop)
            .map_err(|_| SecretError::CallBudget {
                limit: MAX_HIDDEN_PER_CALL,
            })
    }
}

/// The secrets granted to one connector.
#[derive(Debug, Clone, Default)]
pub struct SecretStore {
    values: BTreeMap<String, Secret>,
}

impl SecretStore {
    /// A store holding `values`.
    pub fn new(values: BTreeMap<String, Secret>) -> Self {
        SecretStore { values }
    }

    /// Every secret, named, for the scrubber that keeps them out of answers.
    pub(crate) fn hidden_values(&self) -> Vec<(Hidden, Vec<u8>)> {
        self.values
            .iter()
            .map(|(name, value)| (Hidden::Secret(name.clone()), value.expose().to_vec()))
            .collect()
    }

    fn get(&self, name: &str) -> Result<&Secret, SecretError> {
        self.values
            .get(name)
            .ok_or_else(|| SecretError::NotGranted(name.to_owned()))
    }

    /// Concatenates pieces, substituting every secret and sealed value in
    /// its encoding.
    pub(crate) fn assemble(
        &self,
        pieces: &[Piece<'_>],
        limit: usize,
        budget: &HiddenBudget,
    ) -> Result<Vec<u8>, SecretError> {
        let bound = parts::bound(pieces);
        if bound > limit {
            return Err(SecretError::TooLarge { bound, limit });
        }
        if pieces.iter().any(|p| {
            matches!(p, Piece::Sealed { value, encoding }
                if value.kind() == SealedKind::Derived && !encoding.fixed_size())
        }) {
            return Err(SecretError::SealedEncoding);
        }
        budget.take(
            pieces
                .iter()
                .filter(|p| p.is_hidden())
                .map(Piece::bound)
                .fold(0, usize::saturating_add),
        )?;
        let mut out = Vec::with_capacity(bound.min(64 * 1024));
        for piece in pieces {
            match *piece {
                Piece::Literal(bytes) => out.extend_from_slice(bytes),
                Piece::Secret { name, encoding } => {
                    let secret = self.get(name)?;
                    encoding
                        .write(&mut out, secret.expose(), false)
                        .map_err(|()| SecretError::NotUtf8(name.to_owned()))?;
                }
                Piece::Sealed { value, encoding } => {
                    // Never refused for its content: a refusal would tell
                    // the connector something about a value it may not read.
                    // (Card data is digits; a derived value is written only
                    // in an encoding that takes any bytes.)
                    let _ = encoding.write(&mut out, value.expose(), true);
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> SecretStore {
        SecretStore::new(BTreeMap::from([(
            "k".to_owned(),
            Secret::new("a\"b<&> c'"),
        )]))
    }

    fn secret(encoding: Encoding) -> Vec<u8> {
        store()
            .assemble(
                &[Piece::Secret {
                    name: "k",
                    encoding,
                }],
                1 << 20,
                &HiddenBudget::default(),
            )
            .unwrap()
    }

    #[test]
    fn secrets_are_written_in_their_encoding() {
        assert_eq!(secret(Encoding::Raw), b"a\"b<&> c'");
        assert_eq!(secret(Encoding::JsonString), b"\"a\\\"b<&> c'\"");
        assert_eq!(secret(Encoding::XmlText), b"a&quot;b&lt;&amp;&gt; c&apos;");
        assert_eq!(secret(Encoding::UrlComponent), b"a%22b%3C%26%3E+c%27");
    }

    #[test]
    fn unknown_secret_is_refused_and_debug_hides_values() {
        let pieces = [Piece::Secret {
            name: "nope",
            encoding: Encoding::Raw,
        }];
        assert_eq!(
            store().assemble(&pieces, 1 << 20, &HiddenBudget::default()),
            Err(SecretError::NotGranted("nope".into()))
        );
        assert!(!format!("{:?}", store()).contains("a\"b"));
    }

    #[test]
    fn a_call_assembles_at_most_its_budget_of_hidden_bytes() {
        let budget = HiddenBudget::default();
        let one = [Piece::Secret {
            name: "k",
            encoding: Encoding::Raw,
        }];
        // Each reference counts as a whole secret's bound, 8 KiB.
        for _ in 0..MAX_HIDDEN_PER_CALL / SECRET_BOUND {
            assert!(store().assemble(&one, 1 << 20, &budget).is_ok());
        }
        assert_eq!(
            store().assemble(&one, 1 << 20, &budget),
            Err(SecretError::CallBudget {
                limit: MAX_HIDDEN_PER_CALL
            })
        );
        // Literal bytes are the connector's own and cost nothing.
        let literal = [Piece::Literal(b"abc")];
        assert_eq!(
            store().assemble(&literal, 1 << 20, &budget),
            Ok(b"abc".to_vec())
        );
    }
}
