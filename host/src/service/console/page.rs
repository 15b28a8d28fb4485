//! What the console's parts share: how a state, a time, an age, an
//! outcome and a money amount are shown.

use crate::payments::attempt::AttemptState;
use crate::payments::model::PaymentOutcome;
use maud::{Markup, html};
use std::time::{Duration, UNIX_EPOCH};

/// A state as a badge.
pub(super) fn state(state: AttemptState) -> Markup {
    html! { span class={ "state state-" (state.as_str()) } { (state.as_str()) } }
}

/// A Unix time, UTC, to the second.
pub(super) fn time(unix: i64) -> String {
    let at = UNIX_EPOCH + Duration::from_secs(u64::try_from(unix).unwrap_or(0));
    humantime::format_rfc3339_seconds(at).to_string()
}

/// How long ago `then` was, roughly (`3m`, `2h 5m`).
pub(super) fn age(now: i64, then: i64) -> String {
    let secs = u64::try_from(now.saturating_sub(then)).unwrap_or(0);
    let rounded = if secs >= 3600 { secs - secs % 60 } else { secs };
    humantime::format_duration(Duration::from_secs(rounded)).to_string()
}

/// An outcome's facts: kind, message, the supplier's code, reference and
/// message (each escaped as text, whatever the supplier wrote).
pub(super) fn outcome(o: &PaymentOutcome) -> Markup {
    html! {
        dl.facts {
            dt { "state" } dd { (o.state.as_str()) }
            @if let Some(e) = &o.error {
                dt { "kind" } dd { (e.kind.as_str()) }
                dt { "message" } dd { (e.message) }
                @if let (Some(code), None) = (&e.supplier_code, &o.supplier_code) {
                    dt { "supplier code" } dd { code { (code) } }
                }
            }
            @if let Some(code) = &o.supplier_code { dt { "supplier code" } dd { code { (code) } } }
            @if let Some(message) = &o.supplier_message { dt { "supplier message" } dd { (message) } }
            @if let Some(reference) = &o.supplier_reference { dt { "supplier reference" } dd { (reference) } }
            @if let Some(charged) = &o.charged { dt { "charged" } dd { (charged.amount) " " (charged.currency) } }
            @for (key, value) in &o.details { dt { (key) } dd { (value) } }
        }
    }
}
