//! What pinning and scrubbing cost per payment, on the shapes of the four
//! shipped connectors' requests and on their suppliers' answers: the work the host adds to a
//! payment of a pinned connector (the placement check, the call's own
//! scrubber for its card data and derived values, and scrubbing the
//! answer), timed beside what the host did with the same request before
//! (assembling it from its parts). For the benchmark; nothing calls it on
//! a payment's path.

use super::pinning;
use super::scrub::{Echoes, Prefilter, Scrubber};
use crate::contract::hidden::Hidden;
use crate::contract::parts::{self, Encoding, Piece};
use crate::contract::placement::PlacementSpec;
use crate::contract::sealed::SealedValue;
use crate::policy::placement::{Pins, Placement};
use crate::policy::secrets::{HiddenBudget, Secret, SecretStore};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

const PAN: &str = "4532015112830366";
const CVV: &str = "738";

/// One payment's timings, `rounds` of each.
#[derive(Debug, Clone)]
pub struct SealingCost {
    /// Pinning, the call's scrubber, and scrubbing the answer, per payment.
    pub pin_and_scrub: Vec<Duration>,
    /// Of which the placement check.
    pub pin: Vec<Duration>,
    /// Of which building the call's scrubber.
    pub build: Vec<Duration>,
    /// Of which scrubbing the answer.
    pub scan: Vec<Duration>,
    /// Assembling the same request from its parts, per payment: the
    /// baseline the host already paid.
    pub assemble: Vec<Duration>,
}

fn secret(name: &str, encoding: Encoding) -> Piece<'_> {
    Piece::Secret { name, encoding }
}

fn sealed(value: &SealedValue, encoding: Encoding) -> Piece<'_> {
    Piece::Sealed { value, encoding }
}

fn lit(text: &str) -> Piece<'_> {
    Piece::Literal(text.as_bytes())
}

/// Times `rounds` payments shaped as `connector`'s (`atlas`, `hkramble`,
/// `aerohub` or `nemo`, with a card where it takes one), under
/// `placements` as written in its section, each answered with `answer`
/// (its headers, names in lower case, and its body: the supplier's, as
/// the host reads it); `None` for another name, or placements that do
/// not read.
pub fn measure_sealing(
    connector: &str,
    placements: &[PlacementSpec],
    answer: (&[(String, Vec<u8>)], &[u8]),
    rounds: usize,
) -> Option<SealingCost> {
    let (answer_headers, answer) = answer;
    let pins = Pins::new(
        placements
            .iter()
            .map(Placement::from_spec)
            .collect::<Result<_, _>>()
            .ok()?,
        false,
    );
    // A signature is a digest's bytes: as varied as a real one's.
    let derived = |from: &str, len: usize| {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(from.as_bytes());
        SealedValue::derived(
            digest.iter().copied().cycle().take(len).collect(),
            len,
            Hidden::Derived(BTreeSet::from([from.to_owned()]).into()),
        )
    };
    let pan = SealedValue::card_data(PAN, 19, Hidden::CardNumber);
    let cvv = SealedValue::card_data(CVV, 4, Hidden::Cvv);
    let sign = derived("secret_key", 16);
    let aes = derived("api_secret", 32);
    let secrets = SecretStore::new(BTreeMap::from(
        [
            ("client_id", "atlas-demo-client"),
            ("client_secret", "atlas-demo-secret-0123456789"),
            ("api_key", "nemo-demo-api-key-42"),
        ]
        .map(|(k, v)| (k.to_owned(), Secret::new(v))),
    ));
    let json = ("content-type", vec![lit("application/json")]);
    let (method, url, headers, body, card): (_, _, Vec<_>, Vec<_>, bool) = match connector {
        "atlas" => (
            "POST",
            vec![lit("https://sandbox.atriptech.com/pay.do")],
            vec![
                ("accept", vec![lit("application/json")]),
                (
                    "x-atlas-client-id",
                    vec![secret("client_id", Encoding::Raw)],
                ),
                (
                    "x-atlas-client-secret",
                    vec![secret("client_secret", Encoding::Raw)],
                ),
                json,
            ],
            vec![
                lit(
                    r#"{"orderNo":"ATL-OK-1","paymentMethod":3,"clientOrderNo":null,"requestSource":"payhost-demo","creditCard":{"cardExpireMonth":"11","cardExpireYear":"31","cardHolderFirstName":"Grace","cardHolderLastName":"Hopper","cardHolderCountry":null,"cardHolderProvince":null,"cardHolderCity":null,"cardHolderPostCode":null,"cardHolderAddress":null,"reusable":false,"cardNumber":"#,
                ),
                sealed(&pan, Encoding::JsonString),
                lit(r#","cardCVV":"#),
                sealed(&cvv, Encoding::JsonString),
                lit("}}"),
            ],
            true,
        ),
        "hkramble" => (
            "POST",
            vec![lit("https://api.hkramble.example/json/pay")],
            vec![json],
            vec![
                lit(r#"{"authentication":{"partnerId":"HKR-PARTNER-7","sign":""#),
                sealed(&sign, Encoding::Hex),
                lit(
                    r#""},"orderPricing":{"orderNum":"HK-OK-1","currency":"USD","totalPrice":312.99}}"#,
                ),
            ],
            false,
        ),
        "aerohub" => (
            "POST",
            vec![lit("https://api.aerohub.example/flight/booking")],
            vec![json],
            vec![
                lit(
                    r#"{"action":"SetPaymentToBooking","key":"aero-key","timestamp":1764892800,"signature":""#,
                ),
                sealed(&aes, Encoding::Base64),
                lit(
                    r#"","request":{"sessionId":"AH-OK-1","paymentCode":"CC","ccFields":{"expiration":"11/31","holderName":"Grace Hopper","cardType":"VI","cardNumber":"#,
                ),
                sealed(&pan, Encoding::JsonString),
                lit(r#","cvv":"#),
                sealed(&cvv, Encoding::JsonString),
                lit("}}}"),
            ],
            true,
        ),
        "nemo" => (
            "POST",
            vec![lit(
                "https://api.nemo.example/nemoflights/?version=1.0&for=PayOrder",
            )],
            vec![("content-type", vec![lit("text/xml; charset=utf-8")])],
            vec![
                lit(
                    r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ver="https://api.nemo.example/nemoflights/"><soapenv:Header/><soapenv:Body><ver:PayOrder><RequestBin><Request><BookID>100001</BookID><PaymentGateway>Deposit</PaymentGateway></Request><Source><ClientId>4417</ClientId><APIKey>"#,
                ),
                secret("api_key", Encoding::XmlText),
                lit(
                    "</APIKey><Language>RU</Language><Currency>RUB</Currency></Source></RequestBin></ver:PayOrder></soapenv:Body></soapenv:Envelope>",
                ),
            ],
            false,
        ),
        _ => return None,
    };
    // Built once per load, as the registry does.
    let secret_scrub = Scrubber::new(&secrets.hidden_values());
    // The URL as the grant check parsed it, before pinning (literal
    // throughout in these shapes).
    let checked = url::Url::parse(&String::from_utf8_lossy(&parts::literal(&url)?)).ok()?;
    let parts = pinning::Parts {
        method,
        checked: &checked,
        url: &url,
        headers: &headers,
        body: &body,
    };
    pinning::check(&pins, &parts, 1).ok()?;
    let mut cost = SealingCost {
        pin_and_scrub: Vec::with_capacity(rounds),
        pin: Vec::with_capacity(rounds),
        build: Vec::with_capacity(rounds),
        scan: Vec::with_capacity(rounds),
        assemble: Vec::with_capacity(rounds),
    };
    for round in 0..rounds {
        let started = Instant::now();
        // The placement check of the request.
        let _ = std::hint::black_box(pinning::check(&pins, &parts, round as u64));
        let pinned = started.elapsed();
        // The call's own scrubber: its card data and derived values.
        let mut values = Vec::new();
        if card {
            values.push((Hidden::CardNumber, PAN.as_bytes().to_vec()));
            values.push((Hidden::Cvv, CVV.as_bytes().to_vec()));
        }
        for piece in parts.body.iter().chain(parts.url) {
            if let Piece::Sealed { value, .. } = piece
                && !values.iter().any(|(_, b)| b == value.expose())
            {
                values.push((value.name().clone(), value.expose().to_vec()));
            }
        }
        let size = answer.len()
            + answer_headers
                .iter()
                .map(|(n, v)| n.len() + v.len())
                .sum::<usize>();
        // Built only for an answer that may hold one of the values, as the
        // HTTP capability does.
        let call_scrub = if values.is_empty() {
            None
        } else {
            Prefilter::for_answer(
                &values,
                answer,
                answer_headers
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_slice())),
            )
            .map(|pre| Scrubber::sized(&values, size).with_cores_of(pre))
        };
        let built = started.elapsed();
        // The answer, its headers and body, through both.
        let mut echoes = Echoes::default();
        let scrubbers: Vec<&Scrubber> = [Some(&secret_scrub), call_scrub.as_ref()]
            .into_iter()
            .flatten()
            .collect();
        for (name, value) in answer_headers {
            // As the HTTP capability does.
            if !super::passed_on(name) {
                continue;
            }
            std::hint::black_box(Scrubber::scrub_all(
                &scrubbers,
                name.as_bytes(),
                &"name",
                true,
                &mut echoes,
            ));
            std::hint::black_box(Scrubber::scrub_all(
                &scrubbers,
                value,
                &"header",
                true,
                &mut echoes,
            ));
        }
        std::hint::black_box(Scrubber::scrub_all(
            &scrubbers,
            answer,
            &"body",
            true,
            &mut echoes,
        ));
        let done = started.elapsed();
        cost.pin_and_scrub.push(done);
        cost.pin.push(pinned);
        cost.build.push(built - pinned);
        cost.scan.push(done - built);

        let started = Instant::now();
        let budget = HiddenBudget::default();
        let _ = std::hint::black_box(secrets.assemble(&url, 60 * 1024, &budget));
        for (_, value) in &headers {
            let _ = std::hint::black_box(secrets.assemble(value, 16 * 1024, &budget));
        }
        let _ = std::hint::black_box(secrets.assemble(&body, 16 << 20, &budget));
        cost.assemble.push(started.elapsed());
    }
    Some(cost)
}
