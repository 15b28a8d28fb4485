//! XML (SOAP) bodies with secrets and sealed values in them, and answers
//! read back.
//!
//! A body is written as it is built, straight into the parts a request
//! sends, with [`Writer`]:
//!
//! ```
//! # use payhost_sdk::{Sealed, xml::Writer};
//! # struct Card { number: Sealed }
//! # let card = Card { number: Sealed::native(b"4111111111111111".to_vec()) };
//! let mut body = Writer::document();
//! body.element("soapenv:Envelope", &[("xmlns:soapenv", "http://schemas.xmlsoap.org/soap/envelope/")], |envelope| {
//!     envelope.secret_leaf("APIKey", "api_key");
//!     envelope.sealed_leaf("CardNumber", &card.number);
//! });
//! let parts = body.finish();
//! ```
//!
//! or as a tree of [`Element`]s first. Text and attribute values are
//! escaped here; a secret or a sealed value is a typed part, never a
//! string, and the host escapes it as it writes it.
//!
//! An answer whose shape the connector knows is read into a typed
//! structure that borrows from it, with [`answer::document`]; one it must
//! walk is [`parse`]d into a tree of [`Node`]s. Both refuse the same
//! documents, each with a [`ParseError`].

pub mod answer;
mod de;
mod element;
mod tree;
mod writer;

pub use element::Element;
pub use tree::{Node, ParseError, parse};
pub use writer::Writer;
