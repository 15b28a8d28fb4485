//! Payments as data, and what may be kept of them: the model (money, cards,
//! requests, outcomes, error kinds), what the CLI and the API hand in
//! (`intake`: a method from its parts, an operator's resolution), a
//! currency's minor unit (`minor_unit`), masking card data (`mask`)
//! including where it is written encoded (`encoded`), vetting what a
//! connector returned (`vet`), and the journal of every attempt.
//!
//! Nothing here knows the engine or the registry: it is the vocabulary the
//! rest of the host speaks.

pub(crate) mod attempt;
pub(crate) mod card_secret;
pub(crate) mod cores;
pub(crate) mod encoded;
pub(crate) mod intake;
pub(crate) mod journal;
pub(crate) mod mask;
pub(crate) mod minor_unit;
pub(crate) mod model;
pub(crate) mod vet;
