//! The guest SDK for payhost payment connectors.
//!
//! A connector is a WebAssembly component that pays orders with one
//! supplier. Write it as a `cdylib` crate that depends on this one:
//!
//! ```
//! use payhost_sdk::{Connector, ConnectorInfo, PaymentOutcome, PaymentRequest, register_connector};
//!
//! struct Example;
//!
//! impl Connector for Example {
//!     fn info() -> ConnectorInfo {
//!         ConnectorInfo::new("example", env!("CARGO_PKG_VERSION"), "Example Air")
//!     }
//!     fn pay(request: PaymentRequest) -> PaymentOutcome {
//!         // Build the supplier's request, send it with `http`, map the answer;
//!         // here, a supplier that accepts every order.
//!         PaymentOutcome::pending().reference(request.order_id)
//!     }
//! }
//!
//! register_connector!(Example);
//! ```
//!
//! and build it with `cargo build --release --target wasm32-wasip2`; or,
//! for a component that imports only the contract (no WASI), build it for
//! `wasm32-unknown-unknown` and make the core module a component with
//! `wit-component` (what `cargo xtask build-plugins` does for the shipped
//! connectors).
//!
//! # Secrets, card data and signatures
//!
//! A connector never holds a credential, anything computed from one, or
//! cardholder data:
//!
//! - it names a secret where its value belongs, with [`Parts::secret`],
//!   [`json::Json::secret`], [`xml::Writer::secret_leaf`] or
//!   [`http::Request::query_secret`];
//! - a card's number and CVV arrive as [`Sealed`] values (with the clear
//!   [`Card::brand`], [`Card::first_six`] and [`Card::last_four`] beside
//!   them), and so does whatever [`crypto`] computes from a secret or a
//!   sealed input (a signature, a MAC): [`crypto::Output::Sealed`];
//! - a sealed value is placed where it belongs with [`Parts::sealed`],
//!   [`json::Json::sealed`], [`json::Json::sealed_string`],
//!   [`xml::Writer::sealed_leaf`] or [`http::Request::query_sealed`], with
//!   the [`Encoding`] the host applies as it writes it (`Hex` for an MD5
//!   signature, `JsonString` for a card number in JSON, …), or fed to
//!   further crypto.
//!
//! The host substitutes the values on the way to an allowed host or into a
//! crypto function. Secrets and sealed values are typed pieces of a
//! [`Parts`] sequence, never marked strings: no text a connector writes (an
//! attribute, a supplier's answer) can turn into a reference.
//!
//! A supplier's error codes map to a [`Code`] each: the outcome's state
//! (`failed` when no money moved, `unknown` when it may have), the unified
//! [`ErrorKind`] and whether the request may be sent again.

extern crate self as payhost_sdk;

#[doc(hidden)]
pub mod bindings {
    #![allow(missing_docs, unsafe_code, unused_qualifications, clippy::all)]
    wit_bindgen::generate!({
        path: "wit",
        world: "payment-connector",
        pub_export_macro: true,
        export_macro_name: "__payhost_export",
        default_bindings_module: "payhost_sdk::__private::bindings",
        runtime_path: "payhost_sdk::__private::wit_bindgen::rt",
    });
}

pub mod answer;
pub mod arena;
mod backend;
pub mod clock;
mod code;
pub mod config;
pub mod crypto;
pub mod http;
pub mod json;
pub mod log;
mod model;
mod output;
mod parts;
mod sealed;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;
pub mod xml;

pub use code::Code;
pub use model::*;
pub use parts::Parts;
/// The contract's shared rules (plain decimal amounts, currency codes,
/// connector and key names), the same ones the host checks.
pub use payhost_rules as rules;
pub use sealed::Sealed;

/// A payment connector: one supplier's payment API behind the payhost contract.
///
/// Every call runs in a fresh instance, so a connector keeps no state between
/// calls; these are associated functions, not methods.
pub trait Connector {
    /// Describes the connector: its name, version, supplier, the payment
    /// methods it implements and the secrets, config keys and hosts it needs.
    /// Called when the host loads the connector; must not do I/O.
    fn info() -> ConnectorInfo;

    /// Pays one order. Decide success by the supplier's documented status
    /// field only; answer [`PaymentState::Unknown`] when the request may have
    /// reached the supplier and its answer is unclear.
    fn pay(request: PaymentRequest) -> PaymentOutcome;

    /// Asks the supplier where the payment of an order stands. The default
    /// answers [`ErrorKind::Unsupported`], for suppliers without a status call.
    fn query(order_id: String) -> Result<PaymentOutcome, ConnectorError> {
        Err(ConnectorError::new(
            ErrorKind::Unsupported,
            format!("this connector cannot query the status of order {order_id}"),
        ))
    }
}

/// Every connector built for wasm32 allocates from an arena for its one
/// call (see [`arena`]), unless built without the `call-arena` feature.
#[cfg(all(target_arch = "wasm32", feature = "call-arena"))]
#[global_allocator]
static ALLOCATOR: arena::CallArena = arena::CallArena::new();

/// Makes a type implementing [`Connector`] the component's export.
///
/// Call it once, at the root of the connector crate.
#[macro_export]
macro_rules! register_connector {
    ($connector:ty) => {
        // Compiled natively (for a benchmark or a test), a connector exports
        // nothing: the program calls its `Connector` functions directly.
        #[cfg(target_arch = "wasm32")]
        #[allow(unsafe_code)]
        const _: () = {
            struct __PayhostExport;

            impl $crate::__private::Guest for __PayhostExport {
                fn info() -> $crate::ConnectorInfo {
                    $crate::__private::report_panics();
                    <$connector as $crate::Connector>::info()
                }
                fn pay(request: $crate::__private::WitPaymentRequest) -> $crate::PaymentOutcome {
                    $crate::__private::report_panics();
                    <$connector as $crate::Connector>::pay($crate::PaymentRequest::from(request))
                }
                fn query(
                    order_id: ::std::string::String,
                ) -> ::std::result::Result<$crate::PaymentOutcome, $crate::ConnectorError> {
                    $crate::__private::report_panics();
                    <$connector as $crate::Connector>::query(order_id)
                }
            }

            $crate::__private::bindings::__payhost_export!(__PayhostExport with_types_in $crate::__private::bindings);
        };
    };
}

/// Running a connector compiled natively: install a [`native::NativeHost`]
/// and call its [`Connector`] functions directly. Sealed values hold their
/// bytes here: make them with [`Sealed::native`] and read them with
/// [`Sealed::native_bytes`].
#[cfg(not(target_arch = "wasm32"))]
pub mod native {
    pub use crate::backend::{Header, NativeHost, Request, install};
    pub use crate::bindings::payhost::connector::clock::Instant;
    pub use crate::bindings::payhost::connector::crypto::CryptoError;
    pub use crate::bindings::payhost::connector::http::{HttpError, Method, Response};
    pub use crate::bindings::payhost::connector::log::Level;
    pub use crate::bindings::payhost::connector::types::SecretRef;
    pub use crate::crypto::Output;
    pub use crate::parts::{Part, SealedRef};
    pub use crate::{Encoding, Sealed};
}

#[doc(hidden)]
pub mod __private {
    pub use crate::bindings;
    pub use crate::bindings::exports::payhost::connector::connector::Guest;
    pub use crate::bindings::payhost::connector::types::PaymentRequest as WitPaymentRequest;
    pub use wit_bindgen;

    /// Built for wasm32-unknown-unknown, a connector has no standard error
    /// to print a panic on: the panic's place and message go to the host's
    /// log, at error level, before the call traps (the host names them in
    /// the call's failure). Elsewhere, nothing.
    pub fn report_panics() {
        #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
        std::panic::set_hook(Box::new(|panic| crate::log::error(&panic.to_string())));
    }
}
