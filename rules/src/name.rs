//! Names a connector declares in its `connector-info`: its own name, and
//! the names of the secrets and config keys it uses.

/// The longest connector name, in bytes.
pub const MAX_CONNECTOR_NAME: usize = 32;

/// The longest secret or config key name, in bytes.
pub const MAX_KEY_NAME: usize = 64;

/// Whether `name` is a valid connector name: 1 to [`MAX_CONNECTOR_NAME`]
/// bytes, a lower-case ASCII letter first, then lower-case ASCII letters,
/// digits or `-`. It is also the name of the connector's section in the
/// operator's configuration.
///
/// ```
/// use payhost_rules::name::is_connector_name;
///
/// assert!(is_connector_name("hkramble"));
/// assert!(!is_connector_name("HK Ramble"));
/// ```
pub fn is_connector_name(name: &str) -> bool {
    (1..=MAX_CONNECTOR_NAME).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Whether `key` is a valid name for a secret or a config key: 1 to
/// [`MAX_KEY_NAME`] bytes of lower-case ASCII letters, digits, `_` or `-`.
///
/// ```
/// use payhost_rules::name::is_key_name;
///
/// assert!(is_key_name("client_secret"));
/// assert!(!is_key_name("Client-Secret"));
/// ```
pub fn is_key_name(key: &str) -> bool {
    (1..=MAX_KEY_NAME).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connector_names() {
        for ok in [
            "a",
            "atlas",
            "hkramble",
            "nemo-2",
            "a-",
            "x9",
            "wrong-contract",
        ] {
            assert!(is_connector_name(ok), "{ok:?} should be a connector name");
        }
        assert!(is_connector_name(&"a".repeat(MAX_CONNECTOR_NAME)));
        for bad in [
            "",
            "Atlas",
            "9atlas",
            "-atlas",
            "_atlas",
            "at_las",
            "at las",
            "atlas!",
            "Not A Valid Name!",
            "atlás",
        ] {
            assert!(
                !is_connector_name(bad),
                "{bad:?} should not be a connector name"
            );
        }
        assert!(!is_connector_name(&"a".repeat(MAX_CONNECTOR_NAME + 1)));
    }

    #[test]
    fn key_names() {
        for ok in [
            "a",
            "base_url",
            "client-id",
            "9",
            "_",
            "-",
            "api_key2",
            "security_key",
        ] {
            assert!(is_key_name(ok), "{ok:?} should be a key name");
        }
        assert!(is_key_name(&"k".repeat(MAX_KEY_NAME)));
        for bad in [
            "", "Base_url", "base url", "base.url", "base/url", "clé", "key!",
        ] {
            assert!(!is_key_name(bad), "{bad:?} should not be a key name");
        }
        assert!(!is_key_name(&"k".repeat(MAX_KEY_NAME + 1)));
    }
}
