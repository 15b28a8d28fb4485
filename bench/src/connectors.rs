//! The four connectors as the sections drive them: their names, a payment
//! request that pays once at the simulator, and one payment through the
//! plugin (`Host::pay`) or through its native build.

use crate::native::as_connector;
use payhost::{Host, Money, PaymentMethod, PaymentRequest, PaymentState};
use std::collections::BTreeMap;

pub(crate) const CONNECTORS: [&str; 4] = ["atlas", "hkramble", "aerohub", "nemo"];

/// An order id that pays once at the simulator: `n` keeps it unique.
pub(crate) fn order(connector: &str, n: u64) -> String {
    match connector {
        "atlas" => format!("ATL-OK-b{n}"),
        "hkramble" => format!("HKR-OK-b{n}"),
        "aerohub" => format!("AH-OK-b{n}"),
        _ => format!("{}", 100_000 + (n % 100_000)),
    }
}

pub(crate) fn request(connector: &str, n: u64) -> PaymentRequest {
    let currency = if connector == "nemo" { "RUB" } else { "USD" };
    PaymentRequest {
        order_id: order(connector, n),
        client_order_id: Some(format!("PLT-{n}")),
        method: PaymentMethod::Balance,
        amount: Money {
            amount: "312.99".into(),
            currency: currency.into(),
        },
        idempotency_key: format!("bench-{connector}-{n}"),
        attributes: BTreeMap::new(),
    }
}

fn sdk_request(r: &PaymentRequest) -> payhost_sdk::PaymentRequest {
    payhost_sdk::PaymentRequest {
        order_id: r.order_id.clone(),
        client_order_id: r.client_order_id.clone(),
        method: payhost_sdk::PaymentMethod::Balance,
        amount: payhost_sdk::Money::new(r.amount.amount.clone(), r.amount.currency.clone()),
        idempotency_key: r.idempotency_key.clone(),
        attributes: Vec::new(),
    }
}

/// One payment through the native build of `connector`, on a blocking thread
/// as a synchronous connector runs in an async server.
pub(crate) async fn pay_native(connector: &'static str, r: PaymentRequest) -> bool {
    tokio::task::spawn_blocking(move || {
        let request = sdk_request(&r);
        let outcome = as_connector(connector, || match connector {
            "atlas" => <payhost_atlas::Atlas as payhost_sdk::Connector>::pay(request),
            "hkramble" => <payhost_hkramble::HkRamble as payhost_sdk::Connector>::pay(request),
            "aerohub" => <payhost_aerohub::AeroHub as payhost_sdk::Connector>::pay(request),
            _ => <payhost_nemo::Nemo as payhost_sdk::Connector>::pay(request),
        });
        outcome.state == payhost_sdk::PaymentState::Succeeded
    })
    .await
    .unwrap_or(false)
}

pub(crate) async fn pay_plugin(host: &Host, connector: &str, r: PaymentRequest) -> bool {
    matches!(host.pay(connector, r).await, Ok(o) if o.state == PaymentState::Succeeded)
}
