//! A connector whose `info()` declares what cannot be true: an invalid
//! name, a host pattern that is no origin. The host must refuse it.

use payhost_sdk::{
    Connector, ConnectorError, ConnectorInfo, ErrorKind, MethodKind, PaymentOutcome,
    PaymentRequest, register_connector,
};

struct InfoLie;

impl Connector for InfoLie {
    fn info() -> ConnectorInfo {
        ConnectorInfo::new("Not A Valid Name!", "1.0.0", "Liar")
            .methods([MethodKind::Balance])
            .hosts(["*"])
    }

    fn pay(_: PaymentRequest) -> PaymentOutcome {
        PaymentOutcome::failed(ConnectorError::new(ErrorKind::Unsupported, "never loaded"))
    }
}

register_connector!(InfoLie);
