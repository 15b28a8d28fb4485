//! A connector whose `info()` panics: the host must refuse to load it.

use payhost_sdk::{
    Connector, ConnectorError, ConnectorInfo, ErrorKind, PaymentOutcome, PaymentRequest,
    register_connector,
};

struct InfoTrap;

impl Connector for InfoTrap {
    fn info() -> ConnectorInfo {
        panic!("info() is broken on purpose")
    }

    fn pay(_: PaymentRequest) -> PaymentOutcome {
        PaymentOutcome::failed(ConnectorError::new(ErrorKind::Unsupported, "never loaded"))
    }
}

register_connector!(InfoTrap);
