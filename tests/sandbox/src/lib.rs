//! Servers on loopback for payhost's tests and demo.
//!
//! - [`recorder`]: an HTTP server that records every connection and request
//!   it receives and answers a few fixed routes, to prove what a connector
//!   sent and that nothing reached a host it was not allowed to call.

pub mod recorder;
