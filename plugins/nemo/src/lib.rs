//! payhost connector for Nemo.Travel: three SOAP 1.1 operations and one
//! signed GET. The payment method decides the call:
//!
//! - `balance`: `PayOrder` from the agency's deposit (`PaymentGateway` = `Deposit`);
//! - `account` with a gateway id (`1079`): `InitPayment` to list the order's
//!   gateways, then `SelectPayment` with that gateway, which answers a
//!   payment code the traveller pays with: the outcome is `pending`;
//! - `account` with `bill`: the signed `payment/bill` GET that records a
//!   payment received outside Nemo (`sig` = MD5 of booking id + security key,
//!   computed by the host and written by it into the URL's query: the
//!   connector holds it sealed).

// The helpers below return a payment's outcome as their early-exit value; it
// is built at most once per payment, so boxing it would buy nothing.
#![allow(clippy::result_large_err)]

use payhost_sdk::http::{Request, Response};
use payhost_sdk::xml::{self, Element, Node};
use payhost_sdk::{
    Code, Connector, ConnectorError, ConnectorInfo, Encoding, ErrorKind, MethodKind, Parts,
    PaymentMethod, PaymentOutcome, PaymentRequest, PaymentState, Placement, config, crypto,
    register_connector,
};

/// The Nemo.Travel connector.
pub struct Nemo;

const SOAP_ENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";

// ---- building the requests ----

/// The `Source` block every operation carries; the API key is a secret.
fn source(currency: &str) -> Result<Element, ConnectorError> {
    Ok(Element::new("Source")
        .child(Element::new("ClientId").text(config::require("client_id")?))
        .child(Element::new("APIKey").secret_text("api_key"))
        .child(
            Element::new("Language").text(config::get("language").unwrap_or_else(|| "RU".into())),
        )
        .child(Element::new("Currency").text(currency)))
}

/// A SOAP 1.1 envelope for `operation`, whose namespace is the service URL.
fn envelope(namespace: &str, operation: &str, request: Element, source: Element) -> Parts {
    Element::new("soapenv:Envelope")
        .attr("xmlns:soapenv", SOAP_ENV)
        .attr("xmlns:ver", namespace)
        .child(Element::new("soapenv:Header"))
        .child(
            Element::new("soapenv:Body").child(
                Element::new(format!("ver:{operation}"))
                    .child(Element::new("RequestBin").child(request).child(source)),
            ),
        )
        .to_document()
}

/// One of Nemo's SOAP operations.
struct Operation {
    /// `wsdev` or `nemoflights`.
    service: &'static str,
    /// The `for=` name of the service (`PaymentInitialization`).
    name: &'static str,
    /// The operation element (`InitPayment`).
    operation: &'static str,
}

const INIT_PAYMENT: Operation = Operation {
    service: "wsdev",
    name: "PaymentInitialization",
    operation: "InitPayment",
};
const SELECT_PAYMENT: Operation = Operation {
    service: "wsdev",
    name: "SelectPayment",
    operation: "SelectPayment",
};
const PAY_ORDER: Operation = Operation {
    service: "nemoflights",
    name: "PayOrder",
    operation: "PayOrder",
};

impl Operation {
    /// Posts the operation with the `Source` block and returns the answer's
    /// `ResponseBin`; `Err` is the outcome of a failed exchange or of the
    /// answer's `<Error>`.
    fn call(
        &self,
        base: &str,
        request: Element,
        currency: &str,
    ) -> Result<(Response, Node), PaymentOutcome> {
        let source = source(currency).map_err(PaymentOutcome::failed)?;
        let url = format!("{base}/{}/?version=1.0&for={}", self.service, self.name);
        let namespace = format!(
            "{base}/{}/?version%3D1.0%26for%3D{}",
            self.service, self.name
        );
        let response = Request::post(url)
            .header("content-type", "text/xml; charset=utf-8")
            .header("soapaction", format!("\"{namespace}#{}\"", self.operation))
            .body(envelope(&namespace, self.operation, request, source))
            .send()
            .map_err(|e| e.into_outcome())?;
        let bin = response_bin(&response)?;
        match error(&bin) {
            Some(outcome) => Err(outcome),
            None => Ok((response, bin)),
        }
    }
}

// ---- reading the answers ----

/// `ResponseBin`, or the outcome of an answer that is not a SOAP response.
fn response_bin(response: &Response) -> Result<Node, PaymentOutcome> {
    let root =
        xml::parse(&response.body).map_err(|e| response.unreadable(&format!("not XML ({e})")))?;
    if root.name != "Envelope" || root.namespace.as_deref() != Some(SOAP_ENV) {
        return Err(response.unreadable("not a SOAP 1.1 envelope"));
    }
    if let Some(fault) = root.find("Fault") {
        let text = fault
            .find("faultstring")
            .and_then(Node::value)
            .unwrap_or("SOAP fault")
            .to_owned();
        return Err(PaymentOutcome::unknown(ConnectorError::supplier(
            ErrorKind::Protocol,
            "SOAP-Fault",
            text,
        )));
    }
    root.find("ResponseBin")
        .cloned()
        .ok_or_else(|| response.unreadable("the answer has no ResponseBin"))
}

/// Nemo's PayOrder and SOAP error texts, as one table. Nemo has no codes:
/// the message itself is the supplier code. Every documented text is a
/// refusal (`failed`); an undocumented one is `unknown`.
fn map_error(message: &str) -> Code {
    match message {
        "You have not enough money to pay" => Code::failed(ErrorKind::Declined),
        m if m.starts_with("Price to pay") && m.ends_with("is greater than in request") => {
            Code::failed(ErrorKind::PriceChanged)
        }
        "Internal Error: Invalid BookID" | "Internal Error: Object not found" => {
            Code::failed(ErrorKind::OrderNotFound)
        }
        "Internal Error: Invalid gateway name" => Code::failed(ErrorKind::InvalidRequest),
        "Deposit gateway is not available for this order" => {
            Code::failed(ErrorKind::MethodNotSupported)
        }
        m if m.starts_with("Gateway ") && m.ends_with(" is not available for this order") => {
            Code::failed(ErrorKind::MethodNotSupported)
        }
        "Доступ заблокирован" => Code::failed(ErrorKind::AuthFailed),
        "Заказ не требует оплаты" => Code::failed(ErrorKind::AlreadyPaid),
        m if m.starts_with("Unknown order status") => Code::failed(ErrorKind::InvalidOrderState),
        _ => Code::unknown(ErrorKind::UnknownSupplierCode),
    }
}

/// The outcome of an `<Error>` element, if there is one.
fn error(bin: &Node) -> Option<PaymentOutcome> {
    let error = bin.find("Error")?;
    let message = error
        .child("Message")
        .and_then(Node::value)
        .unwrap_or("(no message)")
        .to_owned();
    let new_price = error.child("NewPrice").and_then(Node::value);
    let code = if new_price.is_some() {
        Code::failed(ErrorKind::PriceChanged)
    } else {
        map_error(&message)
    };
    let mut outcome = code.outcome(message.clone(), message);
    if let Some(price) = new_price {
        outcome = outcome.detail("new-price", price);
    }
    Some(outcome)
}

// ---- the three ways to pay ----

fn pay_order(base: &str, request: &PaymentRequest) -> PaymentOutcome {
    let order = Element::new("Request").child(
        Element::new("PayOrder")
            .child(Element::new("BookID").text(&request.order_id))
            .child(Element::new("PaymentGateway").text("Deposit")),
    );
    let (response, bin) = match PAY_ORDER.call(base, order, &request.amount.currency) {
        Ok(answer) => answer,
        Err(outcome) => return outcome,
    };
    let Some(pay_order) = bin.find("PayOrder") else {
        return response.unreadable("the answer has neither PayOrder nor Error");
    };
    if !response.is_success() {
        return response.unreadable("an answer without an error but with an HTTP error status");
    }
    let status = pay_order
        .find("PaymentStatus")
        .and_then(Node::value)
        .unwrap_or_default()
        .to_owned();
    let mut outcome = match status.as_str() {
        "fully_paid" => PaymentOutcome::succeeded(),
        "partly_paid" => PaymentOutcome::pending(),
        _ => PaymentOutcome::unknown(ConnectorError::supplier(
            ErrorKind::Protocol,
            status.clone(),
            "PayOrder answered without an error but the order is not paid",
        )),
    };
    outcome = outcome.supplier(status, None);
    if let Some(id) = pay_order.attr("ID") {
        outcome = outcome.reference(id);
    }
    for (key, attr) in [
        ("booking-status", "Status"),
        ("supplier-booking-code", "Code"),
    ] {
        if let Some(v) = pay_order.attr(attr).filter(|v| !v.is_empty()) {
            outcome = outcome.detail(key, v);
        }
    }
    if let Some(tx) = pay_order.find("Transaction") {
        if let Some(id) = tx.child("Id").and_then(Node::value) {
            outcome = outcome.detail("transaction", id);
        }
        if let Some(paid) = tx.child("MoneyPaid")
            && let (Some(amount), Some(currency)) = (paid.value(), paid.attr("Currency"))
        {
            outcome = outcome.charged(payhost_sdk::Money::new(amount, currency));
        }
    }
    outcome
}

fn select_payment(base: &str, request: &PaymentRequest, gateway: &str) -> PaymentOutcome {
    let currency = &request.amount.currency;
    let init = Element::new("Request")
        .child(Element::new("OrderId").text(&request.order_id))
        .child(Element::new("ReturnUrlToCatch").text("false"));
    let offered = match INIT_PAYMENT.call(base, init, currency) {
        Ok((_, bin)) => bin,
        // InitPayment moves no money: whatever went wrong, nothing was paid.
        Err(mut outcome) => {
            outcome.state = PaymentState::Failed;
            return outcome;
        }
    };
    let gateways: Vec<&Node> = offered
        .find("Gateways")
        .map(|g| g.children_named("Gateway").collect())
        .unwrap_or_default();
    let Some(chosen) = gateways
        .iter()
        .find(|g| g.child("PaymentMethodId").and_then(Node::value) == Some(gateway))
    else {
        let ids: Vec<&str> = gateways
            .iter()
            .filter_map(|g| g.child("PaymentMethodId").and_then(Node::value))
            .collect();
        return PaymentOutcome::failed(ConnectorError::new(
            ErrorKind::MethodNotSupported,
            format!(
                "gateway {gateway} is not offered for order {}; offered: {}",
                request.order_id,
                ids.join(", ")
            ),
        ));
    };
    let name = chosen
        .child("GatewayName")
        .and_then(Node::value)
        .unwrap_or_default()
        .to_owned();

    let select = Element::new("Request")
        .child(Element::new("OrderId").text(&request.order_id))
        .child(Element::new("PaymentMethodId").text(gateway));
    let (response, bin) = match SELECT_PAYMENT.call(base, select, currency) {
        Ok(answer) => answer,
        Err(outcome) => return outcome,
    };
    if !response.is_success() {
        return response.unreadable("an answer without an error but with an HTTP error status");
    }
    let Some(tx) = bin.find("TransactionId").and_then(Node::value) else {
        return response.unreadable("SelectPayment answered without a TransactionId");
    };
    let mut outcome = PaymentOutcome::pending()
        .reference(tx)
        .detail("gateway", name);
    for parameter in bin
        .find("PaymentParameters")
        .map(|p| p.children_named("PaymentParameter").collect::<Vec<_>>())
        .unwrap_or_default()
    {
        if let (Some(k), Some(v)) = (
            parameter.child("Key").and_then(Node::value),
            parameter.child("Value").and_then(Node::value),
        ) {
            outcome = outcome.detail(k.to_lowercase(), v);
        }
    }
    outcome
}

/// The plain-text answers of `payment/bill`: the success line and the four
/// documented errors.
fn bill_outcome(response: &Response) -> PaymentOutcome {
    let Ok(text) = response.text() else {
        return response.unreadable("not UTF-8 text");
    };
    let text = text.trim();
    if let Some(rest) = text.strip_prefix("Заказ был оплачен по транзакции ")
        && response.is_success()
    {
        let transaction = rest.split_whitespace().next().unwrap_or_default();
        return PaymentOutcome::succeeded()
            .supplier("paid", Some(text.to_owned()))
            .reference(transaction);
    }
    let code = match text {
        "Введите корректные billing_id / booking_id" => {
            Code::failed(ErrorKind::InvalidRequest)
        }
        "Доступ заблокирован" | "Не совпала контрольная сумма" => {
            Code::failed(ErrorKind::AuthFailed)
        }
        "Заказ не требует оплаты" => Code::failed(ErrorKind::AlreadyPaid),
        _ => return response.unreadable("not one of the answers payment/bill documents"),
    };
    code.outcome(text, text)
}

fn bill(base: &str, request: &PaymentRequest) -> PaymentOutcome {
    let id = &request.order_id;
    if !id.bytes().all(|b| b.is_ascii_digit()) {
        return PaymentOutcome::failed(ConnectorError::new(
            ErrorKind::InvalidRequest,
            format!("Nemo booking ids are numbers, not {id}"),
        ));
    }
    let sig = match crypto::md5(&Parts::new().text(id).secret("security_key", Encoding::Raw)) {
        Ok(digest) => digest.sealed(),
        Err(e) => {
            return PaymentOutcome::failed(ConnectorError::new(ErrorKind::Denied, e.message()));
        }
    };
    let Some(sig) = sig else {
        return PaymentOutcome::failed(ConnectorError::new(
            ErrorKind::Denied,
            "the host answered a signature over the security key unsealed",
        ));
    };
    // `…&sig=` and the sealed MD5 in lower-case hex, written by the host.
    Request::get(format!("{base}/index.php?go=payment/bill&booking_id={id}"))
        .query_sealed("sig", &sig, Encoding::Hex)
        .exchange(bill_outcome)
}

impl Connector for Nemo {
    fn info() -> ConnectorInfo {
        ConnectorInfo::new("nemo", env!("CARGO_PKG_VERSION"), "Nemo.Travel")
            .methods([MethodKind::Balance, MethodKind::Account])
            .secrets(["api_key", "security_key"])
            .config_keys(["base_url", "client_id", "language"])
            .hosts(["config:base_url"])
            // Where each hidden value goes, from the supplier's documents: the
            // operator grants these (`payhost plugins inspect` prints them).
            .placements([
                Placement::new(
                    "secret:api_key",
                    "POST **",
                    "xml:/Envelope/Body/*/RequestBin/Source/APIKey",
                    "xml-text",
                ),
                Placement::new(
                    "derived:security_key",
                    "GET **/index.php",
                    "query:sig",
                    "hex",
                ),
            ])
    }

    fn pay(request: PaymentRequest) -> PaymentOutcome {
        let base = match config::require("base_url") {
            Ok(b) => b.trim_end_matches('/').to_owned(),
            Err(e) => return PaymentOutcome::failed(e),
        };
        match &request.method {
            PaymentMethod::Balance => pay_order(&base, &request),
            PaymentMethod::Account(code) if code == "bill" => bill(&base, &request),
            PaymentMethod::Account(gateway) => select_payment(&base, &request, gateway),
            _ => PaymentOutcome::failed(ConnectorError::new(
                ErrorKind::MethodNotSupported,
                "Nemo takes deposit, gateway or bill payments",
            )),
        }
    }
}

register_connector!(Nemo);
