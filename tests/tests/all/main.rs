//! payhost's integration tests: one binary, real components built from
//! source, real servers on loopback, real files.

mod cli;
mod crypto;
mod http;
mod limits;
mod loading;
mod secrets;
mod suppliers;
mod support;
