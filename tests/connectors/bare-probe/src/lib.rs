//! A test connector that imports no WASI, as the shipped connectors: each
//! payment's `action` attribute picks what it does. `loop` spins forever;
//! `spin` spins `iterations` times (10 million unless given); `work` has the
//! host hash 1 MiB `rounds` times (8 unless given).

use payhost_sdk::crypto::Output;
use payhost_sdk::{
    Connector, ConnectorError, ConnectorInfo, ErrorKind, MethodKind, Parts, PaymentOutcome,
    PaymentRequest, crypto, register_connector,
};

struct BareProbe;

impl Connector for BareProbe {
    fn info() -> ConnectorInfo {
        ConnectorInfo::new(
            "bare-probe",
            env!("CARGO_PKG_VERSION"),
            "Bare probe test supplier",
        )
        .methods([MethodKind::Balance])
    }

    fn pay(request: PaymentRequest) -> PaymentOutcome {
        match request.attribute("action").unwrap_or_default() {
            "loop" => loop {
                std::hint::black_box(0);
            },
            "spin" => {
                let iterations: u64 = request
                    .attribute("iterations")
                    .and_then(|r| r.parse().ok())
                    .unwrap_or(10_000_000);
                let mut n = 0u64;
                for _ in 0..iterations {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
                PaymentOutcome::succeeded().detail("spins", n.to_string())
            }
            "work" => {
                let rounds: u32 = request
                    .attribute("rounds")
                    .and_then(|r| r.parse().ok())
                    .unwrap_or(8);
                let data = Parts::new().bytes(vec![0x5a; 1 << 20]);
                let mut last = String::new();
                for _ in 0..rounds {
                    last = match crypto::sha256(&data) {
                        Ok(Output::Bytes(bytes)) => crypto::hex(&bytes),
                        Ok(Output::Sealed(_)) => "sealed".to_owned(),
                        Err(e) => format!("{e:?}"),
                    };
                }
                PaymentOutcome::succeeded().detail("sha256", last)
            }
            other => PaymentOutcome::failed(ConnectorError::new(
                ErrorKind::InvalidRequest,
                format!("no action `{other}`"),
            )),
        }
    }
}

register_connector!(BareProbe);
