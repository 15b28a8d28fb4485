//! A component that exports `payhost:connector/connector@9.0.0`: the host
//! must refuse it with an error naming the contract version.

#![allow(unsafe_code)]

mod bindings {
    #![allow(missing_docs, unused_qualifications, clippy::all)]
    wit_bindgen::generate!({ path: "wit", world: "payment-connector" });
}

struct Future;

impl bindings::exports::payhost::connector::connector::Guest for Future {
    fn hello() -> String {
        "hello from the future".to_owned()
    }
}

bindings::export!(Future with_types_in bindings);
