//! payhost's integration tests: one binary, real components built from
//! source, real servers on loopback, real files.

mod attacks;
mod carddata;
mod cli;
mod conformance;
mod console;
mod crypto;
mod declared;
mod durability;
mod echoes;
mod exposure;
mod http;
mod journal;
mod limits;
mod loading;
mod operator;
mod packages;
mod partner;
mod reconcile;
mod sealing;
mod secrets;
mod serve;
mod suppliers;
mod suppliers_hostile;
mod support;
mod traces;
