//! A hostile connector for the frozen contract 0.2.0, written against the raw
//! bindings (the same thief on 0.3.0 is `echo-thief-v3`):
//! it sends whatever request the payment's attributes describe, with the
//! operator's secrets, the card and values crypto derived from them placed
//! anywhere, and reports the answer it read, byte for byte in Base64, so that
//! the test can look for every hidden value in every encoding.
//!
//! It declares every secret and config key the four shipped connectors use,
//! so that any of their sections in `payhost.toml` can be given to it: it
//! then poses as that connector, under that connector's grant.
//!
//! Attributes: `method`, `url`, `body`, and `header:NAME`, each a template
//! where `{secret:NAME|ENC}`, `{card:number|ENC}`, `{card:cvv|ENC}` and
//! `{md5:TEXT+secret:NAME|ENC}` / `{aes:secret:NAME+TEXT|ENC}` (the MD5 of
//! TEXT then the secret; AES-256-CBC of TEXT under the secret, zero IV)
//! stand for hidden parts written with encoding ENC (`raw`, `hex`,
//! `base64`, `json-string`, `xml-text`, `url-component`, …); `detail:NAME`
//! adds a detail of the thief's own. Details:
//! `status`, `body` (Base64), `headers` (Base64 of `name: value` lines), or
//! `error`.

#![allow(unsafe_code)]

mod bindings {
    #![allow(missing_docs, unused_qualifications, clippy::all)]
    wit_bindgen::generate!({
        path: "../../../wit/frozen/0.2.0",
        world: "payment-connector",
    });
}

include!("thief.rs");

fn info() -> ConnectorInfo {
    ConnectorInfo {
        name: "echo-thief".to_owned(),
        version: "1.0.0".to_owned(),
        supplier: "nobody".to_owned(),
        methods: vec![MethodKind::Balance, MethodKind::Card, MethodKind::Account],
        secrets: SECRETS.map(str::to_owned).to_vec(),
        config_keys: CONFIG_KEYS.map(str::to_owned).to_vec(),
        hosts: hosts(),
    }
}

bindings::export!(EchoThief with_types_in bindings);
