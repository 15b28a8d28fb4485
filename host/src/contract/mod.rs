//! The contract: the host side of the `payment-connector` world, generated
//! from `wit/`, behind a small facade, and the conversions between the
//! generated types and the host's own (`convert`).
//!
//! The generated code stays in a private module; the rest of the crate uses
//! the names re-exported here.

mod convert;

mod generated {
    #![allow(missing_docs, unused_qualifications, clippy::all)]
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "payment-connector",
        imports: {
            "payhost:connector/http.send": async | trappable,
            default: trappable,
        },
        exports: { default: async },
    });
}

pub(crate) use generated::PaymentConnectorPre;
pub(crate) use generated::payhost::connector::{clock, config, crypto, http, log, types};

/// The contract version this host implements.
pub const CONTRACT_VERSION: &str = "0.1.0";
/// The contract's package name.
pub const CONTRACT_PACKAGE: &str = "payhost:connector";
/// The name of the interface every connector exports.
pub const CONNECTOR_EXPORT: &str = "payhost:connector/connector@0.1.0";
