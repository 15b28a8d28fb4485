//! The frozen contract `payhost:connector@0.1.0` (`wit/frozen/0.1.0/`): a
//! connector built for it keeps working. Its imports are served by the same
//! capabilities (crypto with 0.1.0's weaker rule: results are bytes), its
//! exports are called through these bindings, and `convert` turns its types
//! into the current ones.

pub(crate) mod convert;

mod generated {
    #![allow(missing_docs, unused_qualifications, clippy::all)]
    wasmtime::component::bindgen!({
        path: "../wit/frozen/0.1.0",
        world: "payment-connector",
        imports: {
            "payhost:connector/http.send": async | trappable,
            "payhost:connector/crypto.md5": async | trappable,
            "payhost:connector/crypto.sha256": async | trappable,
            "payhost:connector/crypto.hmac-sha256": async | trappable,
            "payhost:connector/crypto.aes256-cbc-encrypt": async | trappable,
            "payhost:connector/crypto.aes256-cbc-decrypt": async | trappable,
            "payhost:connector/crypto.base64-encode": async | trappable,
            "payhost:connector/crypto.base64-decode": async | trappable,
            default: trappable,
        },
        exports: { default: async },
    });
}

pub(crate) use generated::payhost::connector::{clock, config, crypto, http, log, types};
pub(crate) use generated::{PaymentConnector, PaymentConnectorPre};
