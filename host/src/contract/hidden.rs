//! The name of a value the host hides from a connector: which secret, which
//! card field, or which secrets a value computed by crypto derives from.
//! Placements say where each may stand in a request, and the scrubber names
//! it when an answer echoes it back: never its bytes.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

/// The source name of the card number in a derived value's sources.
pub(crate) const CARD_NUMBER_SOURCE: &str = "card.number";
/// The source name of the CVV in a derived value's sources.
pub(crate) const CVV_SOURCE: &str = "card.cvv";

/// What a hidden value is, by name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Hidden {
    /// One of the operator's secrets (`secret:client_id`).
    Secret(String),
    /// A value crypto computed from these sources: secret names, and
    /// `card.number` / `card.cvv` (`derived:partner_id+secret_key`);
    /// shared, as every value of a call names its sources.
    Derived(Arc<BTreeSet<String>>),
    /// The card number (`card:number`).
    CardNumber,
    /// The card verification value (`card:cvv`).
    Cvv,
    /// A value the host itself adds to a request (`host:traceparent`): the
    /// connector never holds it and may not place it; it is scrubbed from
    /// answers like the others.
    Host(&'static str),
}

impl Hidden {
    /// The sources a value computed from this one derives from.
    pub(crate) fn sources(&self) -> BTreeSet<String> {
        match self {
            Hidden::Secret(name) => BTreeSet::from([name.clone()]),
            Hidden::Derived(sources) => (**sources).clone(),
            Hidden::CardNumber => BTreeSet::from([CARD_NUMBER_SOURCE.to_owned()]),
            Hidden::Cvv => BTreeSet::from([CVV_SOURCE.to_owned()]),
            Hidden::Host(name) => BTreeSet::from([format!("host.{name}")]),
        }
    }

    /// Parses `secret:NAME`, `derived:A+B`, `card:number` or `card:cvv`.
    pub fn parse(text: &str) -> Result<Hidden, NotAHiddenValue> {
        let bad = || NotAHiddenValue(text.to_owned());
        let (kind, rest) = text.split_once(':').ok_or_else(bad)?;
        let name_ok = |n: &str| {
            !n.is_empty()
                && n.len() <= 64
                && n.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        };
        match kind {
            "secret" if name_ok(rest) && !rest.contains('.') => Ok(Hidden::Secret(rest.to_owned())),
            "derived" => {
                let sources: BTreeSet<String> = rest.split('+').map(str::to_owned).collect();
                if sources.is_empty() || !sources.iter().all(|s| name_ok(s)) {
                    return Err(bad());
                }
                for source in &sources {
                    if source.contains('.') && source != CARD_NUMBER_SOURCE && source != CVV_SOURCE
                    {
                        return Err(bad());
                    }
                }
                Ok(Hidden::Derived(Arc::new(sources)))
            }
            "card" if rest == "number" => Ok(Hidden::CardNumber),
            "card" if rest == "cvv" => Ok(Hidden::Cvv),
            _ => Err(bad()),
        }
    }
}

/// A text that names no hidden value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{}` is not a hidden value: write secret:NAME, derived:NAME+NAME (the secrets, or card.number / card.cvv, that crypto computed it from), card:number or card:cvv",
    .0.escape_debug()
)]
pub struct NotAHiddenValue(pub String);

impl fmt::Display for Hidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Hidden::Secret(name) => write!(f, "secret:{name}"),
            Hidden::Derived(sources) => {
                f.write_str("derived:")?;
                for (i, source) in sources.iter().enumerate() {
                    if i > 0 {
                        f.write_str("+")?;
                    }
                    f.write_str(source)?;
                }
                Ok(())
            }
            Hidden::CardNumber => f.write_str("card:number"),
            Hidden::Cvv => f.write_str("card:cvv"),
            Hidden::Host(name) => write!(f, "host:{name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_print_the_same() {
        for text in [
            "secret:client_id",
            "derived:partner_id+secret_key",
            "derived:card.number",
            "card:number",
            "card:cvv",
        ] {
            assert_eq!(Hidden::parse(text).unwrap().to_string(), text);
        }
        // Sources are a set: order does not matter.
        assert_eq!(
            Hidden::parse("derived:b+a").unwrap(),
            Hidden::parse("derived:a+b").unwrap()
        );
        for bad in [
            "client_id",
            "secret:",
            "card:pin",
            "derived:",
            "secret:a.b",
            "derived:x.y",
        ] {
            assert!(Hidden::parse(bad).is_err(), "{bad}");
        }
    }
}
