//! The operator's non-secret settings for this connector.

use crate::{ConnectorError, ErrorKind};

/// The value of `key`, if the operator set it.
pub fn get(key: &str) -> Option<String> {
    crate::backend::get(key)
}

/// The value of `key`, or an `invalid-request` error that tells the operator
/// which key to set.
pub fn require(key: &str) -> Result<String, ConnectorError> {
    get(key).filter(|v| !v.is_empty()).ok_or_else(|| {
        ConnectorError::new(
            ErrorKind::InvalidRequest,
            format!(
                "config key `{key}` is not set: add it to this connector's section in payhost.toml"
            ),
        )
    })
}

/// Every key the operator set, sorted by key.
pub fn all() -> Vec<(String, String)> {
    crate::backend::get_all()
}
