//! Where a payment stands.

use std::fmt;
use std::str::FromStr;

/// The contract's `payment-state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "kebab-case")
)]
pub enum State {
    /// `succeeded`: the supplier took the money.
    Succeeded,
    /// `pending`: the supplier accepted the payment; ticketing or settlement
    /// follows.
    Pending,
    /// `failed`: the supplier refused, or the request never left: no money
    /// moved.
    Failed,
    /// `unknown`: the request may have reached the supplier and its answer
    /// is not known. Never retried blindly: resolved by a query or by the
    /// operator.
    Unknown,
}

impl State {
    /// Every state, in the contract's order.
    pub const ALL: &[State] = &[
        State::Succeeded,
        State::Pending,
        State::Failed,
        State::Unknown,
    ];

    /// The state's name, as in the contract (`succeeded`).
    pub fn as_str(self) -> &'static str {
        match self {
            State::Succeeded => "succeeded",
            State::Pending => "pending",
            State::Failed => "failed",
            State::Unknown => "unknown",
        }
    }

    /// Whether money may have moved: `true` for every state but
    /// [`State::Failed`], so only a failed payment may be paid again.
    pub fn may_have_moved_money(self) -> bool {
        match self {
            State::Succeeded | State::Pending | State::Unknown => true,
            State::Failed => false,
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for State {
    type Err = UnknownState;

    /// Reads a state by its contract name (`succeeded`), exactly.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        State::ALL
            .iter()
            .copied()
            .find(|state| state.as_str() == text)
            .ok_or_else(|| UnknownState(text.to_owned()))
    }
}

/// A text that names no [`State`]; its message lists the names that do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownState(String);

impl UnknownState {
    /// The text that was read.
    pub fn text(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UnknownState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a payment state; the states are succeeded, pending, failed, unknown",
            self.0
        )
    }
}

impl std::error::Error for UnknownState {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_is_the_contract_in_order() {
        let names: Vec<&str> = State::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names, crate::wit::enum_names("payment-state"));
    }

    #[test]
    fn names() {
        assert_eq!(State::Succeeded.as_str(), "succeeded");
        assert_eq!(State::Pending.as_str(), "pending");
        assert_eq!(State::Failed.as_str(), "failed");
        assert_eq!(State::Unknown.as_str(), "unknown");
    }

    #[test]
    fn every_state_round_trips() {
        for &state in State::ALL {
            assert_eq!(state.as_str().parse::<State>(), Ok(state));
            assert_eq!(state.to_string(), state.as_str());
        }
        for bad in ["", "Succeeded", "success", "fail", " unknown", "unknown "] {
            let err = bad.parse::<State>().unwrap_err();
            assert_eq!(err.text(), bad);
            assert!(
                err.to_string()
                    .contains("succeeded, pending, failed, unknown")
            );
        }
    }

    #[test]
    fn only_failed_moved_no_money() {
        assert!(State::Succeeded.may_have_moved_money());
        assert!(State::Pending.may_have_moved_money());
        assert!(State::Unknown.may_have_moved_money());
        assert!(!State::Failed.may_have_moved_money());
    }
}

#[cfg(all(test, feature = "serde"))]
mod serde_tests {
    use super::State;
    use serde::Deserialize;
    use serde::de::IntoDeserializer;
    use serde::de::value::{Error, StrDeserializer};

    #[test]
    fn deserializes_by_contract_name() {
        for &state in State::ALL {
            let text: StrDeserializer<'_, Error> = state.as_str().into_deserializer();
            assert_eq!(State::deserialize(text), Ok(state));
        }
        let text: StrDeserializer<'_, Error> = "Succeeded".into_deserializer();
        assert!(State::deserialize(text).is_err());
    }
}
