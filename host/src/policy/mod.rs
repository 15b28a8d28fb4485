//! What the operator allows: `payhost.toml` (`settings`), the origins a
//! connector may call (`allowlist`), the secrets it may use without seeing
//! (`secrets`), its limits per call (`limits`), and the grant: what it asks
//! for intersected with what its section allows (`grant`); and who may call
//! the host's API (`access`); where each hidden value may stand in a
//! request (`placement`).

pub(crate) mod access;
pub(crate) mod allowlist;
pub(crate) mod grant;
pub(crate) mod limits;
pub(crate) mod placement;
pub(crate) mod secrets;
pub(crate) mod settings;
