//! Values the connector may place but never read.

#[cfg(target_arch = "wasm32")]
use crate::bindings::payhost::connector::types as wit;

/// A value the connector may use but never read: a card number, a CVV, or
/// anything crypto computed from a secret or from another sealed value (a
/// signature, a MAC, a decrypted plaintext).
///
/// Place it in a request with [`crate::Parts::sealed`],
/// [`crate::json::Json::sealed`], [`crate::json::Json::sealed_string`],
/// [`crate::xml::Element::sealed_text`] or
/// [`crate::http::Request::query_sealed`], or feed it to [`crate::crypto`]
/// (the result is sealed too). The host writes its bytes, with the
/// [`crate::Encoding`] chosen, as the request leaves; nothing here gives its
/// bytes, its length or anything else about it.
///
/// Cloning it is cheap: the clones stand for the same value.
#[derive(Clone)]
pub struct Sealed(Inner);

/// The host's handle, shared by the clones.
#[cfg(target_arch = "wasm32")]
type Inner = std::rc::Rc<wit::Sealed>;

/// Compiled natively there is no host to hold the value: the bytes stay
/// here, for the [`crate::native::NativeHost`] only.
#[cfg(not(target_arch = "wasm32"))]
type Inner = std::sync::Arc<[u8]>;

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealed(..)")
    }
}

#[cfg(target_arch = "wasm32")]
impl Sealed {
    /// Takes ownership of a handle the host gave.
    pub(crate) fn from_wit(handle: wit::Sealed) -> Self {
        Sealed(std::rc::Rc::new(handle))
    }

    /// The host's handle, to lend in a call.
    pub(crate) fn wit(&self) -> &wit::Sealed {
        &self.0
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl Sealed {
    /// A sealed value holding `bytes`, made by a
    /// [`crate::native::NativeHost`] (a crypto result, a card number in a
    /// test request). Exists only when the connector is compiled natively.
    pub fn native(bytes: impl Into<Vec<u8>>) -> Self {
        Sealed(bytes.into().into())
    }

    /// The bytes, for a [`crate::native::NativeHost`] writing the value
    /// into a request or a crypto input. Exists only when the connector is
    /// compiled natively: a connector that reads them does not build as a
    /// component.
    pub fn native_bytes(&self) -> &[u8] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_nothing_of_the_value() {
        let sealed = Sealed::native(b"4111111111111111".to_vec());
        assert_eq!(format!("{sealed:?}"), "Sealed(..)");
        assert_eq!(format!("{:?}", Some(sealed.clone())), "Some(Sealed(..))");
        assert_eq!(sealed.native_bytes(), b"4111111111111111");
    }
}
