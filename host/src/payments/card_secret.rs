//! A card number or CVV in host memory: kept by `secrecy`, so that it is
//! wiped when the last copy goes and no `Debug`, `Display` or `Serialize`
//! can print it by accident. It is read only where it is used, by name.

use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Deserializer};
use std::fmt;

/// A card number or CVV.
#[derive(Clone)]
pub struct CardSecret(SecretString);

impl CardSecret {
    /// The digits, for the few places that send, mask or check them.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// The same value without the characters `drop` selects.
    pub(crate) fn without(&self, drop: impl Fn(char) -> bool) -> CardSecret {
        let kept = secrecy::zeroize::Zeroizing::new(
            self.expose()
                .chars()
                .filter(|c| !drop(*c))
                .collect::<String>(),
        );
        CardSecret::from(kept.as_str())
    }
}

impl From<&str> for CardSecret {
    fn from(text: &str) -> Self {
        CardSecret(SecretString::from(text))
    }
}

impl From<String> for CardSecret {
    fn from(text: String) -> Self {
        CardSecret(SecretString::from(text))
    }
}

impl PartialEq for CardSecret {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for CardSecret {}

impl PartialEq<&str> for CardSecret {
    fn eq(&self, other: &&str) -> bool {
        self.expose() == *other
    }
}

impl fmt::Debug for CardSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CardSecret(<redacted>)")
    }
}

impl<'de> Deserialize<'de> for CardSecret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        SecretString::deserialize(d).map(CardSecret)
    }
}
