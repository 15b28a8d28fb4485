//! `payhost:connector/http`: outbound HTTP to the origins the operator allowed.
//!
//! Every request is checked in this order, and any refusal is a `denied` or
//! `invalid` error to the connector, never a trap:
//! 1. the per-call request count;
//! 2. the URL: http or https, no user info, scheme/host/port matching a
//!    granted origin exactly; a secret or sealed value only in the query,
//!    with a URL-safe encoding;
//! 3. headers and body, with secrets and sealed values substituted only
//!    now (a sealed value computed by crypto only with a header-safe
//!    encoding in a header, so that no refusal depends on its content);
//! 4. DNS: a name that resolves to a loopback, private, link-local or
//!    metadata address is refused (only an IP literal in `allowed_hosts`
//!    reaches those), and the shared client's resolver refuses it again at
//!    connect time, so a second lookup cannot rebind it.
//!
//! Before anything is assembled, every secret and sealed value must stand
//! where a placement of the connector's allows it (`pinning`); before the
//! connector reads an answer, every hidden value the call sent is
//! scrubbed from it (`scrub`).
//!
//! Redirects are never followed; answers are capped in time and size. The
//! host decodes gzip and nothing else: a connector may ask for no other
//! content encoding, and an answer in one is not passed on.
//!
//! This file holds a call's context (`HttpCtx`, which scrubs every answer),
//! the view the generated traits are implemented on and `add_to_linker`;
//! the shared client and its resolver are in `dns`, the request and its
//! checks in `request`, sending it and reading the answer in `transport`,
//! and each contract version's `send` in `wit`.

pub(crate) mod cost;
mod dns;
mod pinning;
mod request;
pub(crate) mod scrub;
mod trace;
mod transport;
mod wit;

pub use dns::client;

use crate::capabilities::host_side::HostSide;
use crate::contract::hidden::Hidden;
use crate::contract::legacy;
use crate::contract::parts::Piece;
use crate::payments::journal::Fence;
use crate::policy::allowlist::OriginPattern;
use crate::policy::placement::Pins;
use crate::policy::secrets::{HiddenBudget, SecretStore};
use scrub::{Echoes, Scrubber};
use std::sync::Arc;
use std::time::Instant;
use wasmtime::component::{HasData, Linker, ResourceTable};

/// One call's HTTP state.
pub(crate) struct HttpCtx {
    pub(crate) client: reqwest::Client,
    pub(crate) grant: Arc<[OriginPattern]>,
    pub(crate) secrets: Arc<SecretStore>,
    /// What the call may still assemble from secrets and sealed values.
    pub(crate) hidden: HiddenBudget,
    pub(crate) connector: Arc<str>,
    pub(crate) max_requests: u32,
    pub(crate) max_response_size: u64,
    pub(crate) deadline: Instant,
    /// Requests that may have reached a server.
    pub(crate) sent: u32,
    /// Requests the connector asked for, refused ones included.
    pub(crate) attempted: u32,
    /// Requests that went to the network (a lookup or a connection was
    /// tried), failed ones included: what `max_requests` counts.
    pub(crate) tried: u32,
    /// Where each hidden value may stand.
    pub(crate) pins: Arc<Pins>,
    /// The connector's secrets, ready to be scrubbed from any answer.
    pub(crate) secret_scrub: Arc<Scrubber>,
    /// Other hidden values this call holds or sent (card data, derived
    /// values), to be scrubbed from its answers.
    pub(crate) hidden_values: Vec<(Hidden, Vec<u8>)>,
    /// A scrubber for `hidden_values`: how many of them it covers, whether
    /// it was built for a small answer, and the scrubber (boxed: a
    /// scrubber is over a kilobyte, and a call's state is moved whole into
    /// its store, most calls never building one).
    pub(crate) scrubber: Option<(usize, bool, Box<Scrubber>)>,
    /// Hidden values the call's answers echoed (names and places only).
    pub(crate) echoes: Echoes,
    /// Where the placeholders of the next request's check start.
    pub(crate) nonce: u64,
    /// For a journaled payment: whether its attempt is still this host's
    /// to send for (the journal's lease held since it began).
    pub(crate) fence: Option<Fence>,
}

/// Whether an answer's header reaches the connector: not its
/// `content-length`, the length of what was read, not of what was
/// scrubbed.
fn passed_on(header: &str) -> bool {
    header != "content-length"
}

impl HttpCtx {
    /// A random start for a call's placeholder nonces, from the thread's
    /// CSPRNG (seeded from the OS, reseeded as it goes): no system call per
    /// call. The placeholders are unique per call whatever the start; a
    /// connector cannot read them either way.
    pub(crate) fn fresh_nonce() -> u64 {
        rand::random()
    }

    /// Notes the hidden values `pieces` hold, to scrub them from answers.
    fn remember(&mut self, pieces: &[Piece<'_>]) {
        for piece in pieces {
            let (name, bytes) = match *piece {
                Piece::Literal(_) => continue,
                // Every granted secret is scrubbed already.
                Piece::Secret { .. } => continue,
                Piece::Sealed { value, .. } => (value.name(), value.expose()),
            };
            if !self.hidden_values.iter().any(|(_, b)| b == bytes) {
                self.hidden_values.push((name.clone(), bytes.to_vec()));
            }
        }
    }

    /// Replaces in `answer` every hidden value this call holds, and notes
    /// where it found one.
    fn scrub(&mut self, answer: RawIncoming) -> Incoming {
        // Built for this answer's size: one for a small answer builds faster.
        let size = answer.body.len()
            + answer
                .headers
                .iter()
                .map(|(n, v)| n.len() + v.len())
                .sum::<usize>();
        let small = size <= scrub::SMALL_SCAN;
        let stale = self.scrubber.as_ref().is_none_or(|(n, for_small, _)| {
            *n != self.hidden_values.len() || (*for_small && !small)
        });
        // The call's scrubber is built only for an answer that may hold one
        // of its values (one that holds none of their forms' first bytes,
        // plain or in an encoded run, holds none of them).
        if stale
            && !self.hidden_values.is_empty()
            && let Some(pre) = scrub::Prefilter::for_answer(
                &self.hidden_values,
                &answer.body,
                answer
                    .headers
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_slice())),
            )
        {
            self.scrubber = Some((
                self.hidden_values.len(),
                small,
                Box::new(Scrubber::sized(&self.hidden_values, size).with_cores_of(pre)),
            ));
        }
        // A scrubber for fewer values than the call now holds is not used
        // (the prefilter found none of the newer ones' forms).
        let current = self
            .scrubber
            .as_ref()
            .filter(|(n, _, _)| *n == self.hidden_values.len())
            .map(|(_, _, s)| &**s);
        let scrubbers: Vec<&Scrubber> = [Some(&*self.secret_scrub), current]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect();
        let mut echoes = Echoes::default();
        // `place` names where an echo was found; it is written out only
        // for one that was.
        let pass = |bytes: Vec<u8>, place: &dyn std::fmt::Display, echoes: &mut Echoes| {
            Scrubber::scrub_all(&scrubbers, &bytes, place, true, echoes).unwrap_or(bytes)
        };
        let mut headers = Vec::with_capacity(answer.headers.len());
        for (name, value) in answer.headers {
            if !passed_on(&name) {
                continue;
            }
            // A name that holds a hidden value is dropped with its value.
            let changed = Scrubber::scrub_all(
                &scrubbers,
                name.as_bytes(),
                &"a header's name",
                true,
                &mut echoes,
            )
            .is_some_and(|checked| checked != name.as_bytes());
            if changed {
                continue;
            }
            let value = pass(value, &format_args!("header {name}"), &mut echoes);
            let value = String::from_utf8(value)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
            headers.push((name, value));
        }
        let body = pass(answer.body, &"the body", &mut echoes);
        if !echoes.is_empty() {
            tracing::warn!(
                connector = %self.connector,
                echoed = %echoes,
                "an answer echoed hidden values; they were replaced before the connector read it"
            );
            self.echoes.extend(echoes);
        }
        Incoming {
            status: answer.status,
            headers,
            body,
        }
    }
}

/// The view of [`HttpCtx`] that implements the generated traits, with the
/// call's resource table for the sealed values a request names.
pub(crate) struct Http<'a> {
    ctx: &'a mut HttpCtx,
    table: &'a mut ResourceTable,
    _host_side: HostSide<'a>,
}

struct HttpCapability;

impl HasData for HttpCapability {
    type Data<'a> = Http<'a>;
}

/// Adds `http` to a linker whose store is `T`; `get` finds this
/// capability's context in the store.
pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> Http<'_>,
) -> wasmtime::Result<()> {
    crate::contract::http::add_to_linker::<T, HttpCapability>(linker, get)?;
    legacy::http::add_to_linker::<T, HttpCapability>(linker, get)
}

impl<'a> Http<'a> {
    /// The view of one call's context, for one host call.
    pub(crate) fn new(
        ctx: &'a mut HttpCtx,
        table: &'a mut ResourceTable,
        host_side: HostSide<'a>,
    ) -> Self {
        Http {
            ctx,
            table,
            _host_side: host_side,
        }
    }
}

/// Why a request was not answered; each contract version has its own type.
#[derive(Debug)]
pub(crate) enum SendError {
    /// Refused by the host.
    Denied(String),
    /// No complete answer in time.
    Timeout(String),
    /// No connection: nothing was sent.
    Connect(String),
    /// The connection broke after sending.
    Broken(String),
    /// The answer is over the size limit.
    TooLarge(String),
    /// The request is malformed.
    Invalid(String),
}

impl SendError {
    /// The error's kind, as a trace records it (no message: it may name
    /// what the connector wrote).
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            SendError::Denied(_) => "denied",
            SendError::Timeout(_) => "timeout",
            SendError::Connect(_) => "connect",
            SendError::Broken(_) => "broken",
            SendError::TooLarge(_) => "too-large",
            SendError::Invalid(_) => "invalid",
        }
    }
}

/// An answer, as the connector reads it.
pub(crate) struct Incoming {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// An answer as it came, before it is scrubbed.
struct RawIncoming {
    status: u16,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}
