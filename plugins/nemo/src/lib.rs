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
use payhost_sdk::xml::{Writer, answer::Text};
use payhost_sdk::{
    Code, Connector, ConnectorError, ConnectorInfo, Encoding, ErrorKind, MethodKind, Parts,
    PaymentMethod, PaymentOutcome, PaymentRequest, PaymentState, Placement, config, crypto,
    register_connector,
};
use serde::Deserialize;

/// The Nemo.Travel connector.
pub struct Nemo;

const SOAP_ENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";

// ---- building the requests ----

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
    /// Posts the operation, its `Request` written by `request` and the
    /// `Source` block after it, and reads the answer's `ResponseBin` into
    /// `R`'s `Response`; `Err` is the outcome of a failed exchange, of an
    /// answer that is not a SOAP response, or of the answer's `<Error>`.
    fn call(
        &self,
        base: &str,
        currency: &str,
        request: impl FnOnce(&mut Writer),
    ) -> Result<Response, PaymentOutcome> {
        let client_id = config::require("client_id").map_err(PaymentOutcome::failed)?;
        let language = config::get("language");
        let url = format!("{base}/{}/?version=1.0&for={}", self.service, self.name);
        let namespace = format!(
            "{base}/{}/?version%3D1.0%26for%3D{}",
            self.service, self.name
        );
        let mut body = Writer::document();
        body.element(
            "soapenv:Envelope",
            &[("xmlns:soapenv", SOAP_ENV), ("xmlns:ver", &namespace)],
            |envelope| {
                envelope.element("soapenv:Header", &[], |_| {});
                envelope.element("soapenv:Body", &[], |soap_body| {
                    soap_body.element(&format!("ver:{}", self.operation), &[], |operation| {
                        operation.element("RequestBin", &[], |bin| {
                            bin.element("Request", &[], request);
                            // The `Source` block every operation carries; the
                            // API key is a secret.
                            bin.element("Source", &[], |source| {
                                source
                                    .leaf("ClientId", &client_id)
                                    .secret_leaf("APIKey", "api_key")
                                    .leaf("Language", language.as_deref().unwrap_or("RU"))
                                    .leaf("Currency", currency);
                            });
                        });
                    });
                });
            },
        );
        let response = Request::post(url)
            .header("content-type", "text/xml; charset=utf-8")
            .header("soapaction", format!("\"{namespace}#{}\"", self.operation))
            .body(body.finish())
            .send()
            .map_err(|e| e.into_outcome())?;
        Ok(response)
    }
}

// ---- reading the answers ----

/// A SOAP 1.1 envelope, as Nemo answers: `Body` holds a `Fault` or the
/// operation's `…Response`, whose `ResponseBin` holds an `Error` or a
/// `Response`. Elements are read where SOAP and Nemo's document put them,
/// by local name (an `Error` elsewhere is not Nemo's error); one said twice
/// makes the answer unreadable. A `Fault` or an `Error` is there whatever
/// it carries: each is read as a list, which no `xsi:nil` empties.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "Body", borrow)]
    body: Option<SoapBody<'a>>,
}

#[derive(Deserialize)]
struct SoapBody<'a> {
    #[serde(rename = "Fault", default, borrow)]
    fault: Vec<Fault<'a>>,
    #[serde(
        rename = "PayOrderResponse",
        alias = "InitPaymentResponse",
        alias = "SelectPaymentResponse"
    )]
    #[serde(borrow)]
    response: Option<OperationResponse<'a>>,
}

#[derive(Deserialize)]
struct Fault<'a> {
    #[serde(default, borrow)]
    faultstring: Text<'a>,
}

#[derive(Deserialize)]
struct OperationResponse<'a> {
    #[serde(rename = "ResponseBin", borrow)]
    bin: Option<Bin<'a>>,
}

#[derive(Deserialize)]
struct Bin<'a> {
    #[serde(rename = "Error", default, borrow)]
    error: Vec<SoapError<'a>>,
    #[serde(rename = "Response", borrow)]
    response: Option<Answer<'a>>,
}

/// What the three operations answer in `Response`, each its own part:
/// `PayOrder` for `PayOrder`, `Gateways` for `InitPayment`,
/// `TransactionId` and `PaymentParameters` for `SelectPayment`.
#[derive(Deserialize)]
struct Answer<'a> {
    #[serde(rename = "PayOrder", borrow)]
    pay_order: Option<PayOrder<'a>>,
    #[serde(rename = "Gateways", borrow)]
    gateways: Option<Gateways<'a>>,
    #[serde(rename = "TransactionId", default, borrow)]
    transaction: Text<'a>,
    #[serde(rename = "PaymentParameters", borrow)]
    parameters: Option<Parameters<'a>>,
}

#[derive(Deserialize)]
struct SoapError<'a> {
    #[serde(rename = "Message", default, borrow)]
    message: Text<'a>,
    #[serde(rename = "NewPrice", default, borrow)]
    new_price: Text<'a>,
}

/// The `Response` in the answer's `ResponseBin` (`None` when it has none),
/// or the outcome of an answer that is not a SOAP response or says
/// `<Error>`.
fn read_bin(response: &Response) -> Result<Option<Answer<'_>>, PaymentOutcome> {
    use payhost_sdk::xml::ParseError;
    let envelope: Envelope =
        payhost_sdk::xml::answer::document(&response.body, "Envelope", Some(SOAP_ENV)).map_err(
            |e| match e {
                ParseError::Root { .. } => response.unreadable("not a SOAP 1.1 envelope"),
                e => response.unreadable(&format!("not XML ({e})")),
            },
        )?;
    let body = envelope.body.unwrap_or(SoapBody {
        fault: Vec::new(),
        response: None,
    });
    if let Some(fault) = body.fault.first() {
        let text = fault.faultstring.get().unwrap_or("SOAP fault").to_owned();
        return Err(PaymentOutcome::unknown(ConnectorError::supplier(
            ErrorKind::Protocol,
            "SOAP-Fault",
            text,
        )));
    }
    let Some(bin) = body.response.and_then(|r| r.bin) else {
        return Err(response.unreadable("the answer has no ResponseBin"));
    };
    match bin.error.first() {
        Some(error) => Err(error.outcome()),
        None => Ok(bin.response),
    }
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

impl SoapError<'_> {
    /// The outcome this `<Error>` says.
    fn outcome(&self) -> PaymentOutcome {
        let message = self.message.get().unwrap_or("(no message)");
        let new_price = self.new_price.get();
        let code = if new_price.is_some() {
            Code::failed(ErrorKind::PriceChanged)
        } else {
            map_error(message)
        };
        let mut outcome = code.outcome(message, message);
        if let Some(price) = new_price {
            outcome = outcome.detail("new-price", price);
        }
        outcome
    }
}

// ---- the three ways to pay ----

#[derive(Deserialize)]
struct PayOrder<'a> {
    #[serde(rename = "@ID", default, borrow)]
    id: Text<'a>,
    #[serde(rename = "@Status", default, borrow)]
    booking_status: Text<'a>,
    #[serde(rename = "@Code", default, borrow)]
    booking_code: Text<'a>,
    #[serde(rename = "PaymentStatus", default, borrow)]
    status: Text<'a>,
    #[serde(rename = "PaymentTransactions", borrow)]
    transactions: Option<Transactions<'a>>,
}

#[derive(Deserialize)]
struct Transactions<'a> {
    #[serde(rename = "Transaction", default, borrow)]
    list: Vec<Transaction<'a>>,
}

#[derive(Deserialize)]
struct Transaction<'a> {
    #[serde(rename = "Id", default, borrow)]
    id: Text<'a>,
    #[serde(rename = "MoneyPaid", borrow)]
    paid: Option<MoneyPaid<'a>>,
}

#[derive(Deserialize)]
struct MoneyPaid<'a> {
    #[serde(rename = "@Currency", default, borrow)]
    currency: Text<'a>,
    #[serde(rename = "$text", default, borrow)]
    amount: Text<'a>,
}

/// `PayOrder` from the deposit; `Err` is an outcome reached before the
/// answer's `PayOrder` was read (a failed exchange, an `Error`, an
/// unreadable answer).
fn pay_order(base: &str, request: &PaymentRequest) -> Result<PaymentOutcome, PaymentOutcome> {
    let response = PAY_ORDER.call(base, &request.amount.currency, |order| {
        order.element("PayOrder", &[], |pay| {
            pay.leaf("BookID", &request.order_id)
                .leaf("PaymentGateway", "Deposit");
        });
    })?;
    let answer = read_bin(&response)?;
    let Some(pay_order) = answer.and_then(|a| a.pay_order) else {
        return Err(response.unreadable("the answer has neither PayOrder nor Error"));
    };
    if !response.is_success() {
        return Err(response.unreadable("an answer without an error but with an HTTP error status"));
    }
    let status = pay_order.status.get().unwrap_or_default();
    let mut outcome = match status {
        "fully_paid" => PaymentOutcome::succeeded(),
        "partly_paid" => PaymentOutcome::pending(),
        _ => PaymentOutcome::unknown(ConnectorError::supplier(
            ErrorKind::Protocol,
            status,
            "PayOrder answered without an error but the order is not paid",
        )),
    };
    outcome = outcome.supplier(status, None);
    if let Some(id) = pay_order.id.get() {
        outcome = outcome.reference(id);
    }
    for (key, value) in [
        ("booking-status", &pay_order.booking_status),
        ("supplier-booking-code", &pay_order.booking_code),
    ] {
        if let Some(v) = value.get() {
            outcome = outcome.detail(key, v);
        }
    }
    if let Some(tx) = pay_order.transactions.as_ref().and_then(|t| t.list.first()) {
        if let Some(id) = tx.id.get() {
            outcome = outcome.detail("transaction", id);
        }
        if let Some(paid) = &tx.paid
            && let (Some(amount), Some(currency)) = (paid.amount.get(), paid.currency.get())
        {
            outcome = outcome.charged(payhost_sdk::Money::new(amount, currency));
        }
    }
    Ok(outcome)
}

#[derive(Deserialize)]
struct Gateways<'a> {
    #[serde(rename = "Gateway", default, borrow)]
    list: Vec<Gateway<'a>>,
}

#[derive(Deserialize)]
struct Gateway<'a> {
    #[serde(rename = "PaymentMethodId", default, borrow)]
    id: Text<'a>,
    #[serde(rename = "GatewayName", default, borrow)]
    name: Text<'a>,
}

#[derive(Deserialize)]
struct Parameters<'a> {
    #[serde(rename = "PaymentParameter", default, borrow)]
    list: Vec<Parameter<'a>>,
}

#[derive(Deserialize)]
struct Parameter<'a> {
    #[serde(rename = "Key", default, borrow)]
    key: Text<'a>,
    #[serde(rename = "Value", default, borrow)]
    value: Text<'a>,
}

/// `InitPayment`, then `SelectPayment` with `gateway`; `Err` as for
/// [`pay_order`].
fn select_payment(
    base: &str,
    request: &PaymentRequest,
    gateway: &str,
) -> Result<PaymentOutcome, PaymentOutcome> {
    let currency = &request.amount.currency;
    // InitPayment moves no money: whatever went wrong, nothing was paid.
    let nothing_paid = |mut outcome: PaymentOutcome| {
        outcome.state = PaymentState::Failed;
        outcome
    };
    let init = INIT_PAYMENT
        .call(base, currency, |init| {
            init.leaf("OrderId", &request.order_id)
                .leaf("ReturnUrlToCatch", "false");
        })
        .map_err(nothing_paid)?;
    let offered = read_bin(&init).map_err(nothing_paid)?;
    let gateways = offered
        .and_then(|o| o.gateways)
        .map(|g| g.list)
        .unwrap_or_default();
    let Some(chosen) = gateways.iter().find(|g| g.id.get() == Some(gateway)) else {
        let ids: Vec<&str> = gateways.iter().filter_map(|g| g.id.get()).collect();
        return Err(PaymentOutcome::failed(ConnectorError::new(
            ErrorKind::MethodNotSupported,
            format!(
                "gateway {gateway} is not offered for order {}; offered: {}",
                request.order_id,
                ids.join(", ")
            ),
        )));
    };
    let name = chosen.name.get().unwrap_or_default().to_owned();

    let response = SELECT_PAYMENT.call(base, currency, |select| {
        select
            .leaf("OrderId", &request.order_id)
            .leaf("PaymentMethodId", gateway);
    })?;
    let answer = read_bin(&response)?;
    if !response.is_success() {
        return Err(response.unreadable("an answer without an error but with an HTTP error status"));
    }
    let Some(answer) = answer else {
        return Err(response.unreadable("SelectPayment answered without a TransactionId"));
    };
    let Some(tx) = answer.transaction.get() else {
        return Err(response.unreadable("SelectPayment answered without a TransactionId"));
    };
    let mut outcome = PaymentOutcome::pending()
        .reference(tx)
        .detail("gateway", name);
    for parameter in answer.parameters.iter().flat_map(|p| &p.list) {
        if let (Some(k), Some(v)) = (parameter.key.get(), parameter.value.get()) {
            outcome = outcome.detail(k.to_lowercase(), v);
        }
    }
    Ok(outcome)
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
            PaymentMethod::Balance => pay_order(&base, &request).unwrap_or_else(|refused| refused),
            PaymentMethod::Account(code) if code == "bill" => bill(&base, &request),
            PaymentMethod::Account(gateway) => {
                select_payment(&base, &request, gateway).unwrap_or_else(|refused| refused)
            }
            _ => PaymentOutcome::failed(ConnectorError::new(
                ErrorKind::MethodNotSupported,
                "Nemo takes deposit, gateway or bill payments",
            )),
        }
    }
}

register_connector!(Nemo);
