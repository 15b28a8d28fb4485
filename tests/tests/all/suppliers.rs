//! The four connectors against the supplier simulator: every documented
//! code, the requests as the suppliers document them, bad credentials,
//! injected faults, and no payment sent twice.

use payhost::ErrorKind::{self, *};
use payhost::PaymentMethod::{self, Account, Balance};
use payhost::PaymentState::{self, Failed, Pending, Succeeded, Unknown};
use payhost_sandbox::demo::{Case, Setup, test_card};
use payhost_sandbox::sim::{Credentials, Fault, Supplier};
use payhost_tests::{cache_dir, connectors};

async fn setup(extra: &str) -> Setup {
    Setup::start(&connectors(), &cache_dir(), extra)
        .await
        .expect("the simulator and the four connectors start")
}

type Expect = (PaymentState, Option<ErrorKind>, Option<&'static str>);

fn fail(kind: ErrorKind, code: &'static str) -> Expect {
    (Failed, Some(kind), Some(code))
}

fn unknown(kind: ErrorKind, code: &'static str) -> Expect {
    (Unknown, Some(kind), Some(code))
}

/// One row per documented code of each supplier document.
fn code_table() -> Vec<Case> {
    let mut rows = Vec::new();
    let card = PaymentMethod::Card(test_card());
    // Atlas: 000_…/001_… status codes, and SUPPLIERS.md's 900–902 and 9999.
    for (code, expect) in [
        ("400", fail(InvalidRequest, "400")),
        ("401", fail(OrderExpired, "401")),
        ("402", fail(AlreadyPaid, "402")),
        ("403", fail(MethodNotSupported, "403")),
        ("404", fail(AlreadyPaid, "404")),
        ("405", fail(InvalidOrderState, "405")),
        ("406", unknown(InProgress, "406")),
        ("407", fail(InvalidRequest, "407")),
        ("408", fail(InvalidRequest, "408")),
        ("409", fail(InvalidRequest, "409")),
        ("410", fail(InvalidRequest, "410")),
        ("411", fail(Declined, "411")),
        ("412", fail(MethodNotSupported, "412")),
        ("413", fail(CardRejected, "413")),
        ("414", fail(CardRejected, "414")),
        ("415", fail(InvalidOrderState, "415")),
        ("900", fail(AuthFailed, "900")),
        ("901", fail(InvalidRequest, "901")),
        ("902", fail(AuthFailed, "902")),
        ("9999", unknown(SupplierUnavailable, "9999")),
        ("777", unknown(UnknownSupplierCode, "777")),
    ] {
        rows.push(Case::new(
            "atlas",
            "code",
            format!("ATL-{code}-1"),
            Balance,
            expect,
        ));
    }
    rows.push(Case::new(
        "atlas",
        "success",
        "ATL-OK-1",
        Balance,
        (Succeeded, None, Some("0")),
    ));
    rows.push(Case::new(
        "atlas",
        "VCC",
        "ATL-OK-2",
        card.clone(),
        (Succeeded, None, Some("0")),
    ));
    rows.push(Case::new(
        "atlas",
        "no VCC",
        "ATL-NOVCC-1",
        card.clone(),
        fail(MethodNotSupported, "403"),
    ));
    let mut other_card = test_card();
    other_card.number = "4111111111111111".into();
    rows.push(Case::new(
        "atlas",
        "not a test card",
        "ATL-OK-3",
        PaymentMethod::Card(other_card),
        fail(Declined, "411"),
    ));
    let mut jcb = test_card();
    jcb.number = "3566002020360505".into();
    rows.push(Case::new(
        "atlas",
        "MoR JCB",
        "ATL-OK-4",
        PaymentMethod::MerchantOfRecord(jcb),
        fail(CardRejected, "413"),
    ));

    // HK Ramble: 002_… error codes.
    for (code, expect) in [
        ("P001", fail(InvalidRequest, "P001")),
        ("S001", fail(SupplierUnavailable, "S001")),
        ("310", fail(SupplierUnavailable, "310")),
        ("B002", fail(AuthFailed, "B002")),
        ("B003", fail(AuthFailed, "B003")),
        ("B009", fail(InvalidOrderState, "B009")),
        ("B010", fail(OrderNotFound, "B010")),
        ("B026", fail(OrderExpired, "B026")),
        ("B101", fail(SupplierUnavailable, "B101")),
        ("B102", fail(InvalidOrderState, "B102")),
        ("B103", fail(SupplierUnavailable, "B103")),
        ("B104", fail(InvalidOrderState, "B104")),
        ("B105", fail(InvalidOrderState, "B105")),
        ("B106", fail(PriceChanged, "B106")),
        ("B107", fail(PriceChanged, "B107")),
        ("B108", fail(InvalidOrderState, "B108")),
        ("B109", fail(PriceChanged, "B109")),
        ("B112", fail(AlreadyPaid, "B112")),
        ("B113", fail(PriceChanged, "B113")),
        ("B114", fail(InvalidOrderState, "B114")),
        ("B115", fail(OrderExpired, "B115")),
        ("B116", fail(PriceChanged, "B116")),
        ("B117", fail(SupplierUnavailable, "B117")),
        ("B118", fail(InvalidOrderState, "B118")),
        ("B119", fail(SupplierUnavailable, "B119")),
        ("B120", fail(SupplierUnavailable, "B120")),
        ("B999", unknown(UnknownSupplierCode, "B999")),
    ] {
        rows.push(Case::new(
            "hkramble",
            "code",
            format!("HKR-{code}-1"),
            Balance,
            expect,
        ));
    }
    rows.push(Case::new(
        "hkramble",
        "success",
        "HKR-OK-1",
        Balance,
        (Succeeded, None, Some("0")),
    ));

    // AeroHub: 003_… status codes.
    for (code, expect) in [
        ("1000", unknown(SupplierUnavailable, "1000")),
        ("1001", fail(InvalidRequest, "1001")),
        ("1002", fail(InvalidRequest, "1002")),
        ("1003", fail(SupplierUnavailable, "1003")),
        ("1004", fail(InvalidRequest, "1004")),
        ("1005", unknown(SupplierUnavailable, "1005")),
        ("1006", fail(SupplierUnavailable, "1006")),
        ("1101", fail(AuthFailed, "1101")),
        ("1102", fail(AuthFailed, "1102")),
        ("2301", fail(MethodNotSupported, "2301")),
        ("2024", fail(Declined, "2024")),
        ("3333", unknown(UnknownSupplierCode, "3333")),
    ] {
        rows.push(Case::new(
            "aerohub",
            "code",
            format!("AH-{code}-1"),
            Balance,
            expect,
        ));
    }
    rows.push(Case::new(
        "aerohub",
        "AAG",
        "AH-OK-1",
        Balance,
        (Succeeded, None, Some("0")),
    ));
    rows.push(Case::new(
        "aerohub",
        "CAG",
        "AH-OK-2",
        Account("CAG".into()),
        (Succeeded, None, Some("0")),
    ));
    rows.push(Case::new(
        "aerohub",
        "CC",
        "AH-OK-3",
        card,
        (Succeeded, None, Some("0")),
    ));

    // Nemo.Travel: 004_… PayOrder, InitPayment/SelectPayment and payment/bill answers.
    let gateway = || Account("1079".into());
    let bill = || Account("bill".into());
    for (order, method, expect) in [
        ("100001", Balance, (Succeeded, None, Some("fully_paid"))),
        (
            "900001",
            Balance,
            fail(Declined, "You have not enough money to pay"),
        ),
        (
            "900002",
            Balance,
            fail(
                PriceChanged,
                "Price to pay(12000) is greater than in request",
            ),
        ),
        (
            "900003",
            Balance,
            fail(
                MethodNotSupported,
                "Deposit gateway is not available for this order",
            ),
        ),
        ("900005", Balance, fail(PriceChanged, "Price changed")),
        (
            "900007",
            Balance,
            unknown(
                UnknownSupplierCode,
                "Internal Error: Booking engine unavailable",
            ),
        ),
        (
            "555",
            Balance,
            fail(OrderNotFound, "Internal Error: Object not found"),
        ),
        (
            "not-a-number",
            Balance,
            fail(OrderNotFound, "Internal Error: Invalid BookID"),
        ),
        ("100002", gateway(), (Pending, None, None)),
        (
            "100003",
            Account("1075".into()),
            fail(
                MethodNotSupported,
                "Gateway 1075 is not available for this order",
            ),
        ),
        (
            "100004",
            Account("4242".into()),
            (Failed, Some(MethodNotSupported), None),
        ),
        (
            "900004",
            gateway(),
            fail(InvalidOrderState, "Unknown order status: Problematic"),
        ),
        ("100005", bill(), (Succeeded, None, Some("paid"))),
        ("900006", bill(), fail(AuthFailed, "Доступ заблокирован")),
        (
            "555",
            bill(),
            fail(InvalidRequest, "Введите корректные billing_id / booking_id"),
        ),
    ] {
        rows.push(Case::new("nemo", "code", order, method, expect));
    }
    rows
}

#[tokio::test(flavor = "multi_thread")]
async fn every_documented_code_maps_to_its_unified_kind() {
    let s = setup("").await;
    let rows = code_table();
    let results = payhost_sandbox::demo::run(&s.host, &rows).await;
    let wrong: Vec<String> = results
        .iter()
        .filter(|r| !r.case.matches(&r.outcome))
        .map(|r| {
            format!(
                "{} {}: expected {:?} {:?} {:?}, got {:#?}",
                r.case.connector, r.case.order, r.case.state, r.case.kind, r.case.code, r.outcome
            )
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{} of {} rows differ:\n{}",
        wrong.len(),
        rows.len(),
        wrong.join("\n")
    );
    // Money comes back exactly as the supplier wrote it, never through a float.
    let aerohub = results.iter().find(|r| r.case.order == "AH-OK-1").unwrap();
    let charged = aerohub.outcome.charged.as_ref().unwrap();
    assert_eq!(
        (charged.amount.as_str(), charged.currency.as_str()),
        ("59805.02", "JPY")
    );
    assert!(
        aerohub
            .outcome
            .details
            .contains(&("balanceDue".into(), "13320.00".into())),
        "{:?}",
        aerohub.outcome.details
    );
    let nemo = results.iter().find(|r| r.case.order == "100002").unwrap();
    assert!(
        nemo.outcome
            .details
            .contains(&("code".into(), "a117608085a0CGN73".into())),
        "{:?}",
        nemo.outcome.details
    );
    // XML entities in the answer are resolved as XML, not kept as text.
    let description = "Ваш платежный код — a117608085a0CGN73 & оплатить до 23:59 20.01.2027";
    assert!(
        nemo.outcome
            .details
            .contains(&("description".into(), description.into())),
        "{:?}",
        nemo.outcome.details
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_carry_the_documented_fields_and_verifiable_signatures() {
    let s = setup("").await;
    let creds = Credentials::default();
    let card = PaymentMethod::Card(test_card());
    for case in [
        Case::new(
            "atlas",
            "",
            "ATL-OK-77",
            card.clone(),
            (Succeeded, None, None),
        ),
        Case::new(
            "hkramble",
            "",
            "HKR-OK-77",
            Balance,
            (Succeeded, None, None),
        ),
        Case::new("aerohub", "", "AH-OK-77", card, (Succeeded, None, None)),
        Case::new("nemo", "", "100077", Balance, (Succeeded, None, None)),
        Case::new(
            "nemo",
            "",
            "100078",
            Account("bill".into()),
            (Succeeded, None, None),
        ),
    ] {
        let outcome = s.host.pay(case.connector, case.request()).await.unwrap();
        assert!(case.matches(&outcome), "{}: {outcome:#?}", case.order);
    }
    let received = s.sim.received();
    let last = |supplier: Supplier| {
        received
            .iter()
            .rev()
            .find(|r| r.supplier == supplier)
            .unwrap()
            .request
            .clone()
    };

    let atlas = last(Supplier::Atlas);
    assert_eq!(
        atlas.header("x-atlas-client-id"),
        Some(creds.atlas_client_id.as_str())
    );
    assert_eq!(
        atlas.header("x-atlas-client-secret"),
        Some(creds.atlas_client_secret.as_str())
    );
    assert_eq!(atlas.header("accept"), Some("application/json"));
    assert_eq!(atlas.header("accept-encoding"), Some("gzip"));
    let body = atlas.json();
    assert_eq!(body["orderNo"], "ATL-OK-77");
    assert_eq!(body["paymentMethod"], 3);
    assert_eq!(body["clientOrderNo"], "PLT-ATL-OK-77");
    assert_eq!(body["requestSource"], "payhost-demo");
    let cc = &body["creditCard"];
    assert_eq!(
        (
            cc["cardExpireMonth"].as_str(),
            cc["cardExpireYear"].as_str(),
            cc["cardCVV"].as_str()
        ),
        (Some("12"), Some("30"), Some("123"))
    );

    let hk = last(Supplier::HkRamble);
    let raw = String::from_utf8(hk.body.clone()).unwrap();
    assert!(raw.contains("\"totalPrice\":312.99"), "{raw}");
    let body = hk.json();
    assert_eq!(body["authentication"]["partnerId"], creds.hk_partner_id);
    let sign = format!(
        "{:x}",
        <md5::Md5 as md5::Digest>::digest(format!(
            "{}{}",
            creds.hk_partner_id, creds.hk_secret_key
        ))
    );
    assert_eq!(body["authentication"]["sign"], sign);
    assert_eq!(body["orderPricing"]["orderNum"], "HKR-OK-77");
    assert_eq!(body["orderPricing"]["currency"], "USD");

    let ah = last(Supplier::AeroHub).json();
    assert_eq!(ah["action"], "SetPaymentToBooking");
    assert_eq!(ah["key"], creds.aerohub_key);
    let timestamp = ah["timestamp"].as_u64().unwrap().to_string();
    assert_eq!(timestamp.len(), 10);
    let expected = payhost_sandbox::sim::aerohub_signature(
        creds.aerohub_secret.as_bytes(),
        &creds.aerohub_key,
        &timestamp,
    );
    assert_eq!(ah["signature"].as_str(), expected.as_deref());
    assert_eq!(ah["request"]["paymentCode"], "CC");
    assert_eq!(ah["request"]["ccFields"]["expiration"], "12/30");
    assert_eq!(ah["request"]["ccFields"]["cardType"], 0);
    assert_eq!(ah["request"]["ccFields"]["holderName"], "Ada Lovelace");

    let nemo: Vec<_> = received
        .iter()
        .filter(|r| r.supplier == Supplier::Nemo)
        .map(|r| &r.request)
        .collect();
    let soap = nemo.iter().find(|r| r.method == "POST").unwrap();
    let xml = String::from_utf8(soap.body.clone()).unwrap();
    assert!(
        soap.uri
            .starts_with("/nemoflights/?version=1.0&for=PayOrder"),
        "{}",
        soap.uri
    );
    assert!(
        soap.header("soapaction")
            .is_some_and(|a| a.contains("PayOrder"))
    );
    assert!(
        xml.contains("<BookID>100077</BookID><PaymentGateway>Deposit</PaymentGateway>"),
        "{xml}"
    );
    assert!(
        xml.contains("<APIKey>nemo-sandbox-api-key-&amp;&lt;1&gt;</APIKey>"),
        "{xml}"
    );
    assert!(
        xml.contains(&format!("<ClientId>{}</ClientId>", creds.nemo_client_id)),
        "{xml}"
    );
    let get = nemo.iter().find(|r| r.method == "GET").unwrap();
    let sig = format!(
        "{:x}",
        <md5::Md5 as md5::Digest>::digest(format!("100078{}", creds.nemo_security_key))
    );
    assert_eq!(
        get.uri,
        format!("/index.php?go=payment/bill&booking_id=100078&sig={sig}")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_credentials_get_each_suppliers_own_code() {
    let wrong = Credentials {
        atlas_client_secret: "not-the-secret".into(),
        hk_secret_key: "not-the-key".into(),
        aerohub_secret: "00000000000000000000000000000000".into(),
        nemo_api_key: "wrong".into(),
        nemo_security_key: "54321".into(),
        ..Credentials::default()
    };
    let s = Setup::start_with(&connectors(), &cache_dir(), "", &wrong)
        .await
        .unwrap();
    let wrong_id = Credentials {
        atlas_client_id: "nobody".into(),
        ..Credentials::default()
    };
    let t = Setup::start_with(&connectors(), &cache_dir(), "", &wrong_id)
        .await
        .unwrap();
    for (host, case) in [
        (
            &s.host,
            Case::new("atlas", "", "ATL-OK-9", Balance, fail(AuthFailed, "902")),
        ),
        (
            &t.host,
            Case::new("atlas", "", "ATL-OK-9", Balance, fail(AuthFailed, "900")),
        ),
        (
            &s.host,
            Case::new(
                "hkramble",
                "",
                "HKR-OK-9",
                Balance,
                fail(AuthFailed, "B003"),
            ),
        ),
        (
            &s.host,
            Case::new("aerohub", "", "AH-OK-9", Balance, fail(AuthFailed, "1101")),
        ),
        (
            &s.host,
            Case::new(
                "nemo",
                "",
                "100009",
                Balance,
                fail(AuthFailed, "Доступ заблокирован"),
            ),
        ),
        (
            &s.host,
            Case::new(
                "nemo",
                "",
                "100010",
                Account("bill".into()),
                fail(AuthFailed, "Не совпала контрольная сумма"),
            ),
        ),
    ] {
        let outcome = host.pay(case.connector, case.request()).await.unwrap();
        assert!(
            case.matches(&outcome),
            "{} {}: {outcome:#?}",
            case.connector,
            case.order
        );
    }
    // Nothing was paid.
    assert_eq!(s.sim.pay_calls(Supplier::Atlas, "ATL-OK-9"), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn injected_faults_never_succeed_and_the_host_keeps_serving() {
    let s = setup("timeout = \"1500ms\"").await;
    for (fault, marker) in Fault::ALL {
        for connector in ["atlas", "hkramble", "aerohub", "nemo"] {
            let case = Case::new(
                connector,
                "",
                format!("{marker}-{connector}"),
                Balance,
                (Unknown, None, None),
            );
            let outcome = s.host.pay(connector, case.request()).await.unwrap();
            assert_eq!(
                outcome.state, Unknown,
                "{connector} {fault:?}: {outcome:#?}"
            );
            let kind = outcome.kind().unwrap();
            let expected: &[ErrorKind] = match fault {
                Fault::Slow => &[Timeout],
                Fault::Big => &[Protocol],
                Fault::Html500 => &[SupplierUnavailable],
                Fault::Drop | Fault::Truncated => &[SupplierUnavailable, Protocol],
                _ => &[Protocol],
            };
            assert!(
                expected.contains(&kind),
                "{connector} {fault:?}: {kind:?} in {outcome:#?}"
            );
        }
    }
    // The host still serves, and nothing followed the redirect to the metadata address.
    for case in payhost_sandbox::demo::demo_cases()
        .iter()
        .filter(|c| c.label == "deposit" || c.label == "balance")
    {
        let outcome = s.host.pay(case.connector, case.request()).await.unwrap();
        assert_eq!(outcome.state, Succeeded, "{}: {outcome:#?}", case.connector);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn paying_a_paid_order_again_is_already_paid_and_nothing_is_sent_twice_by_the_host() {
    let s = setup("").await;
    for (connector, supplier, order) in [
        ("atlas", Supplier::Atlas, "ATL-OK-55"),
        ("hkramble", Supplier::HkRamble, "HKR-OK-55"),
        ("aerohub", Supplier::AeroHub, "AH-OK-55"),
        ("nemo", Supplier::Nemo, "100055"),
    ] {
        let case = Case::new(connector, "", order, Balance, (Succeeded, None, None));
        let first = s.host.pay(connector, case.request()).await.unwrap();
        assert_eq!(first.state, Succeeded, "{connector}: {first:#?}");
        assert_eq!(
            s.sim.pay_calls(supplier, order),
            1,
            "{connector}: one call for one payment"
        );
        let second = s.host.pay(connector, case.request()).await.unwrap();
        let expected = if connector == "aerohub" {
            Declined
        } else {
            AlreadyPaid
        };
        assert_eq!(
            (second.state, second.kind()),
            (Failed, Some(expected)),
            "{connector}: {second:#?}"
        );
        assert_eq!(
            s.sim.pay_calls(supplier, order),
            2,
            "{connector}: exactly the two calls made"
        );
    }
}
