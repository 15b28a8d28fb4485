//! Nemo.Travel: SOAP `InitPayment` and `SelectPayment` under `/wsdev/`,
//! `PayOrder` under `/nemoflights/`, and `GET /index.php?go=payment/bill`.
//!
//! Test inputs (booking ids): 100000–199999 are unpaid orders that pay once
//! (a second `PayOrder` answers "Заказ не требует оплаты"); 900001 not enough
//! money; 900002 a higher price; 900003 deposit not available; 900004 an
//! unknown order status (InitPayment); 900005 a new price; 900006 access
//! blocked (payment/bill); 900007 an undocumented error; any other number is
//! not found; a non-number is an invalid BookID. Gateway 1079 (Rapida) offers
//! SelectPayment; 1075 (Uniteller) redirects.

use super::{Fault, State, Supplier};
use crate::serve::{Answer, query_param, respond};
use md5::Digest;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

const SOAP_ENV: &[u8] = b"http://schemas.xmlsoap.org/soap/envelope/";

/// The leaf values of a SOAP request, by their path of local names.
struct Fields(Vec<(String, String)>);

impl Fields {
    fn parse(body: &[u8]) -> Option<Fields> {
        let mut reader = quick_xml::NsReader::from_reader(body);
        let mut path: Vec<String> = Vec::new();
        let mut fields = Vec::new();
        let mut text = String::new();
        let mut soap = false;
        loop {
            match reader.read_resolved_event().ok()? {
                (ns, Event::Start(e)) => {
                    if path.is_empty() {
                        soap = matches!(ns, ResolveResult::Bound(n) if n.as_ref() == SOAP_ENV)
                            && e.local_name().as_ref() == b"Envelope";
                    }
                    path.push(String::from_utf8_lossy(e.local_name().as_ref()).into_owned());
                    text.clear();
                }
                (_, Event::Empty(e)) => {
                    let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                    fields.push((format!("{}/{name}", path.join("/")), String::new()));
                }
                (_, Event::Text(t)) => text.push_str(&t.decode().ok()?),
                (_, Event::GeneralRef(r)) => {
                    let name = r.decode().ok()?;
                    text.push_str(quick_xml::escape::resolve_predefined_entity(&name)?);
                }
                (_, Event::End(_)) => {
                    fields.push((path.join("/"), text.trim().to_owned()));
                    text.clear();
                    path.pop();
                }
                (_, Event::Eof) => break,
                _ => {}
            }
        }
        (soap && path.is_empty()).then_some(Fields(fields))
    }

    /// The value of the element whose path ends with `suffix`.
    fn get(&self, suffix: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(p, _)| p.ends_with(suffix))
            .map(|(_, v)| v.as_str())
    }
}

pub(super) fn envelope(operation: &str, service: &str, inner: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns1="http://sandbox.nemo.travel/{service}/?version%3D1.0%26for%3D{operation}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <SOAP-ENV:Body>
    <ns1:{operation}Response>
      <ResponseBin>{inner}</ResponseBin>
    </ns1:{operation}Response>
  </SOAP-ENV:Body>
</SOAP-ENV:Envelope>"#
    )
}

fn xml(text: String) -> Answer {
    Ok(respond(200, "text/xml; charset=utf-8", text))
}

fn soap_error(operation: &str, service: &str, message: &str, new_price: Option<&str>) -> Answer {
    let price = new_price.map_or("<NewPrice/>".to_owned(), |p| {
        format!("<NewPrice>{p}</NewPrice>")
    });
    xml(envelope(
        operation,
        service,
        &format!("<Error>{price}<Message>{message}</Message></Error>"),
    ))
}

pub(super) fn pay_order_success(id: &str) -> String {
    envelope(
        "PayOrder",
        "nemoflights",
        &format!(
            r#"<Response><PayOrder ID="{id}" Status="booked" Code="PZ7981">
  <QueryPlace xsi:nil="true"/>
  <Flight FlightId="88812"><WebService>Sirena</WebService><ValCompany>SU</ValCompany>
    <URL>http://sandbox.nemo.travel/poffice__bookinfo?&amp;booking_id={id}</URL>
    <Charges Currency="RUB">0</Charges><TotalPrice Currency="RUB">3600</TotalPrice></Flight>
  <Agency/>
  <FareStored xsi:nil="true"/>
  <PaymentTransactions><Transaction><Id>117892581</Id><Status>paid</Status><GatewayName>Deposit</GatewayName>
    <MoneyPaid Currency="RUB">3600</MoneyPaid><PaymentDateTime>2026-11-21T10:00:00</PaymentDateTime><CreateDateTime>2026-11-21T10:00:00</CreateDateTime><Description/></Transaction></PaymentTransactions>
  <PaymentStatus>fully_paid</PaymentStatus>
  <Travellers/>
</PayOrder></Response>"#
        ),
    )
}

/// A SOAP operation, by the `for` query parameter.
pub(super) async fn soap(state: &State, operation: &str, body: &[u8]) -> Answer {
    let (op, service) = match operation {
        "PaymentInitialization" => ("InitPayment", "wsdev"),
        "SelectPayment" => ("SelectPayment", "wsdev"),
        "PayOrder" => ("PayOrder", "nemoflights"),
        _ => {
            return Ok(respond(
                404,
                "text/html",
                "<html><body>Unknown service</body></html>",
            ));
        }
    };
    let Some(fields) = Fields::parse(body) else {
        return Ok(respond(
            500,
            "text/xml; charset=utf-8",
            r#"<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body><SOAP-ENV:Fault><faultcode>SOAP-ENV:Client</faultcode><faultstring>Bad Request</faultstring></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>"#,
        ));
    };
    let order = fields
        .get("/BookID")
        .or_else(|| fields.get("/OrderId"))
        .unwrap_or_default()
        .to_owned();
    if let Some(fault) = Fault::in_order(&order) {
        state.count(Supplier::Nemo, &order);
        return fault
            .answer("text/xml; charset=utf-8", &pay_order_success("100001"))
            .await;
    }
    let creds = &state.credentials;
    if fields.get("Source/ClientId") != Some(creds.nemo_client_id.as_str())
        || fields.get("Source/APIKey") != Some(creds.nemo_api_key.as_str())
    {
        return soap_error(op, service, "Доступ заблокирован", None);
    }
    match op {
        "InitPayment" => init_payment(&order),
        "SelectPayment" => {
            state.count(Supplier::Nemo, &order);
            select_payment(&order, fields.get("/PaymentMethodId").unwrap_or_default())
        }
        _ => {
            state.count(Supplier::Nemo, &order);
            pay_order(
                state,
                &order,
                fields.get("/PaymentGateway").unwrap_or_default(),
            )
        }
    }
}

fn known(order: &str) -> Option<u32> {
    order.parse::<u32>().ok()
}

fn init_payment(order: &str) -> Answer {
    let (op, service) = ("InitPayment", "wsdev");
    match known(order) {
        None => soap_error(op, service, "Internal Error: Invalid BookID", None),
        Some(900_004) => soap_error(op, service, "Unknown order status: Problematic", None),
        Some(100_000..=199_999) => xml(envelope(
            op,
            service,
            &format!(
                r#"<Response><Gateways>
  <Gateway><PaymentMethodId>1075</PaymentMethodId><GatewayName>Uniteller</GatewayName><PaymentCharge Currency="RUB">81.54</PaymentCharge>
    <RedirectUrl>http://sandbox.nemo.travel/payment__select_outside?booking_id={order}&amp;one_time_booking_code=PZ7981&amp;method=27</RedirectUrl>
    <UrlToCatch>http://sandbox.nemo.travel/poffice__bookinfo?&amp;booking_id={order}</UrlToCatch></Gateway>
  <Gateway><PaymentMethodId>1079</PaymentMethodId><GatewayName>Rapida</GatewayName><PaymentCharge Currency="RUB">123</PaymentCharge>
    <RedirectUrl/><UrlToCatch xsi:nil="true"/></Gateway>
</Gateways></Response>"#
            ),
        )),
        Some(_) => soap_error(op, service, "Internal Error: Object not found", None),
    }
}

fn select_payment(order: &str, gateway: &str) -> Answer {
    let (op, service) = ("SelectPayment", "wsdev");
    match (known(order), gateway) {
        (None, _) => soap_error(op, service, "Internal Error: Invalid BookID", None),
        (Some(100_000..=199_999), "1079") => xml(envelope(
            op,
            service,
            &format!(
                r#"<Response><TransactionId>1176{order}</TransactionId><PaymentParameters>
  <PaymentParameter><Key>Code</Key><Value>a117608085a0CGN73</Value></PaymentParameter>
  <PaymentParameter><Key>Timelimit</Key><Value>23:59 20.01.2027</Value></PaymentParameter>
  <PaymentParameter><Key>Description</Key><Value>Ваш платежный код &#8212; a117608085a0CGN73 &amp; оплатить до 23:59 20.01.2027</Value></PaymentParameter>
</PaymentParameters></Response>"#
            ),
        )),
        (Some(100_000..=199_999), other) => soap_error(
            op,
            service,
            &format!("Gateway {other} is not available for this order"),
            None,
        ),
        (Some(_), _) => soap_error(op, service, "Internal Error: Object not found", None),
    }
}

fn pay_order(state: &State, order: &str, gateway: &str) -> Answer {
    let (op, service) = ("PayOrder", "nemoflights");
    if gateway.is_empty() {
        return soap_error(op, service, "Internal Error: Invalid gateway name", None);
    }
    let Some(id) = known(order) else {
        return soap_error(op, service, "Internal Error: Invalid BookID", None);
    };
    if gateway != "Deposit" && gateway != "1880" {
        return soap_error(
            op,
            service,
            &format!("Gateway {gateway} is not available for this order"),
            None,
        );
    }
    match id {
        900_001 => soap_error(op, service, "You have not enough money to pay", None),
        900_002 => soap_error(
            op,
            service,
            "Price to pay(12000) is greater than in request",
            None,
        ),
        900_003 => soap_error(
            op,
            service,
            "Deposit gateway is not available for this order",
            None,
        ),
        900_005 => soap_error(op, service, "Price changed", Some("13500")),
        900_007 => soap_error(
            op,
            service,
            "Internal Error: Booking engine unavailable",
            None,
        ),
        100_000..=199_999 => {
            if state.settle(Supplier::Nemo, order) {
                return soap_error(op, service, "Заказ не требует оплаты", None);
            }
            xml(pay_order_success(order))
        }
        _ => soap_error(op, service, "Internal Error: Object not found", None),
    }
}

/// `GET /index.php?go=payment/bill&booking_id=ID&sig=MD5(ID + key)`.
pub(super) async fn bill(state: &State, uri: &hyper::Uri) -> Answer {
    let text = |t: &str| Ok(respond(200, "text/plain; charset=utf-8", t.to_owned()));
    if query_param(uri, "go").as_deref() != Some("payment/bill") {
        return Ok(respond(
            404,
            "text/html",
            "<html><body>Not found</body></html>",
        ));
    }
    let id = query_param(uri, "booking_id").unwrap_or_default();
    if let Some(fault) = Fault::in_order(&id) {
        state.count(Supplier::Nemo, &id);
        return fault
            .answer(
                "text/plain; charset=utf-8",
                "Заказ был оплачен по транзакции 117892581 на сумму 3600RUB",
            )
            .await;
    }
    let Some(number) = known(&id) else {
        return text("Введите корректные billing_id / booking_id");
    };
    let expected = format!(
        "{:x}",
        md5::Md5::digest(format!("{id}{}", state.credentials.nemo_security_key).as_bytes())
    );
    if query_param(uri, "sig").as_deref() != Some(expected.as_str()) {
        return text("Не совпала контрольная сумма");
    }
    state.count(Supplier::Nemo, &id);
    match number {
        900_006 => text("Доступ заблокирован"),
        100_000..=199_999 => {
            if state.settle(Supplier::Nemo, &id) {
                text("Заказ не требует оплаты")
            } else {
                text(&format!(
                    "Заказ был оплачен по транзакции 1178{number} на сумму 3600RUB"
                ))
            }
        }
        _ => text("Введите корректные billing_id / booking_id"),
    }
}
