//! Faults a test asks for through the order id: `FAULT-<kind>` anywhere in
//! it makes the endpoint answer with the fault, after counting the call.

use crate::serve::{Answer, Dropped, cut_after, full, respond};
use bytes::Bytes;
use std::time::Duration;

/// An injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// `FAULT-slow`: answers only after 30 seconds, past any client timeout.
    Slow,
    /// `FAULT-html500`: HTTP 500 with an HTML error page.
    Html500,
    /// `FAULT-truncated`: announces a body longer than it sends, then closes.
    Truncated,
    /// `FAULT-malformed`: a 200 whose JSON or XML is cut in the middle.
    Malformed,
    /// `FAULT-big`: a 16 MiB body.
    Big,
    /// `FAULT-redirect`: a 302 to the cloud metadata address.
    Redirect,
    /// `FAULT-drop`: reads the request, then closes the connection without answering.
    Drop,
    /// `FAULT-empty`: a 200 with an empty body.
    Empty,
    /// `FAULT-delay`: the endpoint's success, after 2 seconds: a slow
    /// payment that does go through. Not in [`Fault::ALL`], the faults that
    /// must never read as a success.
    Delay,
}

impl Fault {
    /// Every fault, with its marker.
    pub const ALL: [(Fault, &'static str); 8] = [
        (Fault::Slow, "FAULT-slow"),
        (Fault::Html500, "FAULT-html500"),
        (Fault::Truncated, "FAULT-truncated"),
        (Fault::Malformed, "FAULT-malformed"),
        (Fault::Big, "FAULT-big"),
        (Fault::Redirect, "FAULT-redirect"),
        (Fault::Drop, "FAULT-drop"),
        (Fault::Empty, "FAULT-empty"),
    ];

    /// The fault an order id asks for.
    pub fn in_order(order: &str) -> Option<Fault> {
        if order.contains("FAULT-delay") {
            return Some(Fault::Delay);
        }
        Fault::ALL
            .iter()
            .find(|(_, marker)| order.contains(marker))
            .map(|(f, _)| *f)
    }

    /// Answers with the fault; `sample` is a valid answer of the endpoint,
    /// cut for `Malformed`.
    pub(crate) async fn answer(self, content_type: &str, sample: &str) -> Answer {
        match self {
            Fault::Slow => {
                tokio::time::sleep(Duration::from_secs(30)).await;
                Ok(respond(200, content_type, sample.to_owned()))
            }
            Fault::Delay => {
                tokio::time::sleep(Duration::from_secs(2)).await;
                Ok(respond(200, content_type, sample.to_owned()))
            }
            Fault::Html500 => Ok(respond(
                500,
                "text/html",
                "<html><head><title>500 Internal Server Error</title></head><body><h1>Internal Server Error</h1></body></html>",
            )),
            Fault::Truncated => {
                let half = sample.as_bytes()[..sample.len() / 2].to_vec();
                let response = hyper::Response::builder()
                    .status(200)
                    .header("content-type", content_type)
                    .header("content-length", sample.len())
                    .body(cut_after(half))
                    .map_err(|_| Dropped)?;
                Ok(response)
            }
            Fault::Malformed => Ok(respond(
                200,
                content_type,
                sample[..sample.len() / 2].to_owned(),
            )),
            Fault::Big => Ok(respond(
                200,
                content_type,
                Bytes::from(vec![b' '; 16 << 20]),
            )),
            Fault::Redirect => {
                let mut response = respond(302, "text/html", "");
                response.headers_mut().insert(
                    "location",
                    "http://169.254.169.254/latest/meta-data/"
                        .parse()
                        .expect("a valid header"),
                );
                Ok(response)
            }
            Fault::Drop => Err(Dropped),
            Fault::Empty => Ok(hyper::Response::new(full(Bytes::new()))),
        }
    }
}
