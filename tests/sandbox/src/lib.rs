//! Servers on loopback for payhost's tests, demo and benchmarks.
//!
//! - [`sim`]: a faithful simulator of the four suppliers' payment APIs
//!   (Atlas, HK Ramble, AeroHub, Nemo.Travel), with order state, their own
//!   credential and signature checks, every documented code reachable
//!   through documented test inputs, and injected faults.
//! - [`recorder`]: an HTTP server that records every connection and request
//!   it receives, to prove what a connector sent and that nothing reached a
//!   host it was not allowed to call.
//! - [`script`]: a supplier whose answers the test chooses.
//! - [`demo`]: payments through all four connectors against the simulator.
//! - [`soak`]: the reliability suite a release runs (`cargo xtask soak`).

pub mod demo;
pub mod pg;
pub mod recorder;
pub mod script;
mod serve;
pub mod sim;
pub mod soak;

pub use serve::{Answer, Body, Dropped, Recorded};
