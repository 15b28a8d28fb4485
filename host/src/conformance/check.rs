//! Comparing what a connector did with what a scenario expects: its
//! outcome, and the request the supplier received.

use super::scenario::{Expect, Sent};
use super::server::Received;
use crate::payments::model::{ConnectorError, PaymentOutcome};

/// What the outcome says, for a line that reports it: its message (the
/// error's, or the supplier's), quoted.
fn said(outcome: &PaymentOutcome) -> String {
    outcome
        .error
        .as_ref()
        .map(|e| e.message.as_str())
        .or(outcome.supplier_message.as_deref())
        .map(|m| format!(" ({m:?})"))
        .unwrap_or_default()
}

/// What differs between `outcome` and `expect`, one line each; a line
/// about the state or the kind shows the outcome's message beside it.
pub fn outcome(expect: &Expect, outcome: &PaymentOutcome) -> Vec<String> {
    let mut wrong = Vec::new();
    let state = outcome.state.to_string();
    if let Some(want) = &expect.state
        && *want != state
    {
        wrong.push(format!(
            "state: expected {want}, got {state}{}",
            said(outcome)
        ));
    }
    if let Some(never) = &expect.not_state
        && *never == state
    {
        wrong.push(format!("state: must not be {never}"));
    }
    let kind = outcome.kind().map(|k| k.to_string());
    if let Some(want) = &expect.kind
        && Some(want) != kind.as_ref()
    {
        wrong.push(format!(
            "kind: expected {want}, got {}{}",
            kind.as_deref().unwrap_or("none"),
            said(outcome)
        ));
    }
    let code = outcome
        .supplier_code
        .clone()
        .or_else(|| outcome.error.as_ref().and_then(|e| e.supplier_code.clone()));
    if let Some(want) = &expect.code
        && Some(want) != code.as_ref()
    {
        wrong.push(format!(
            "supplier code: expected {want}, got {}",
            code.as_deref().unwrap_or("none")
        ));
    }
    let retryable = outcome.error.as_ref().is_some_and(|e| e.retryable);
    if let Some(want) = expect.retryable
        && want != retryable
    {
        wrong.push(format!("retryable: expected {want}, got {retryable}"));
    }
    if let Some(want) = &expect.reference
        && Some(want) != outcome.supplier_reference.as_ref()
    {
        wrong.push(format!(
            "reference: expected {want:?}, got {}",
            outcome
                .supplier_reference
                .as_ref()
                .map_or("none".to_owned(), |r| format!("{r:?}"))
        ));
    }
    if let Some(want) = &expect.message {
        let messages = [
            outcome.error.as_ref().map(|e| e.message.as_str()),
            outcome.supplier_message.as_deref(),
        ];
        if !messages.iter().flatten().any(|m| m.contains(want.as_str())) {
            wrong.push(format!(
                "message: expected one holding {want:?}, got{}",
                match said(outcome) {
                    s if s.is_empty() => " none".to_owned(),
                    s => s,
                }
            ));
        }
    }
    wrong
}

/// What differs between a query's error and `expect`: a scenario that
/// calls `query` and expects the connector's error says `state = "error"`.
pub fn query_error(expect: &Expect, error: &ConnectorError) -> Vec<String> {
    let mut wrong = Vec::new();
    let said = format!(" ({:?})", error.message);
    if let Some(want) = &expect.state
        && want != "error"
    {
        wrong.push(format!(
            "state: expected {want}, got the connector's error {}{said}",
            error.kind
        ));
    }
    if let Some(want) = &expect.kind
        && *want != error.kind.as_str()
    {
        wrong.push(format!("kind: expected {want}, got {}{said}", error.kind));
    }
    if let Some(want) = &expect.code
        && Some(want) != error.supplier_code.as_ref()
    {
        wrong.push(format!(
            "supplier code: expected {want}, got {}",
            error.supplier_code.as_deref().unwrap_or("none")
        ));
    }
    if let Some(want) = expect.retryable
        && want != error.retryable
    {
        wrong.push(format!(
            "retryable: expected {want}, got {}",
            error.retryable
        ));
    }
    if let Some(want) = &expect.message
        && !error.message.contains(want.as_str())
    {
        wrong.push(format!("message: expected one holding {want:?}, got{said}"));
    }
    wrong
}

/// What differs between the requests received and `sent`, one line each.
pub fn sent(sent: &Sent, received: &[Received]) -> Vec<String> {
    let mut wrong = Vec::new();
    if let Some(n) = sent.requests
        && n != received.len()
    {
        wrong.push(format!(
            "requests: expected {n} at the supplier, got {}",
            received.len()
        ));
    }
    let checks_request = sent.method.is_some()
        || sent.path.is_some()
        || !sent.query.is_empty()
        || !sent.headers.is_empty()
        || !sent.headers_present.is_empty()
        || !sent.headers_match.is_empty()
        || !sent.json.is_empty()
        || !sent.xml.is_empty();
    if !checks_request {
        return wrong;
    }
    let Some(r) = received.first() else {
        wrong.push("the connector sent no request".to_owned());
        return wrong;
    };
    if let Some(want) = &sent.method
        && !want.eq_ignore_ascii_case(&r.method)
    {
        wrong.push(format!("method: expected {want}, got {}", r.method));
    }
    if let Some(want) = &sent.path
        && *want != r.path
    {
        wrong.push(format!("path: expected {want}, got {}", r.path));
    }
    let query: Vec<(String, String)> = url::form_urlencoded::parse(r.query.as_bytes())
        .into_owned()
        .collect();
    for (name, want) in &sent.query {
        match query.iter().find(|(k, _)| k == name) {
            Some((_, got)) if got == want => {}
            Some((_, got)) => wrong.push(format!("query {name}: expected {want:?}, got {got:?}")),
            None => wrong.push(format!("query {name}: missing")),
        }
    }
    let header = |name: &str| {
        let name = name.to_ascii_lowercase();
        r.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    };
    for (name, want) in &sent.headers {
        match header(name) {
            Some(got) if got == want => {}
            Some(got) => wrong.push(format!("header {name}: expected {want:?}, got {got:?}")),
            None => wrong.push(format!("header {name}: missing")),
        }
    }
    for name in &sent.headers_present {
        if header(name).is_none() {
            wrong.push(format!("header {name}: missing"));
        }
    }
    for (name, pattern) in &sent.headers_match {
        // Checked when the file was read.
        let Ok(re) = regex::Regex::new(&format!("^(?:{pattern})$")) else {
            continue;
        };
        match header(name) {
            Some(got) if re.is_match(got) => {}
            Some(got) => wrong.push(format!("header {name}: {got:?} does not match {pattern:?}")),
            None => wrong.push(format!("header {name}: missing")),
        }
    }
    if !sent.json.is_empty() {
        match serde_json::from_slice::<serde_json::Value>(&r.body) {
            Err(e) => wrong.push(format!("body: not JSON ({e})")),
            Ok(body) => {
                for (pointer, want) in &sent.json {
                    let want = serde_json::to_value(want).unwrap_or_default();
                    match body.pointer(pointer) {
                        Some(got) if *got == want => {}
                        Some(got) => {
                            wrong.push(format!("JSON {pointer}: expected {want}, got {got}"))
                        }
                        None => wrong.push(format!("JSON {pointer}: missing")),
                    }
                }
            }
        }
    }
    if !sent.xml.is_empty() {
        let texts = xml_texts(&r.body);
        for (path, want) in &sent.xml {
            match &texts {
                Err(e) => wrong.push(format!("body: not XML ({e})")),
                Ok(texts) => match texts.iter().find(|(p, _)| p == path) {
                    Some((_, got)) if got == want => {}
                    Some((_, got)) => {
                        wrong.push(format!("XML {path}: expected {want:?}, got {got:?}"))
                    }
                    None => wrong.push(format!("XML {path}: missing")),
                },
            }
        }
    }
    wrong
}

/// Why a request body could not be read as XML.
#[derive(Debug, thiserror::Error)]
enum XmlBodyError {
    /// A text's bytes are not in the document's encoding.
    #[error("{0}")]
    Decode(quick_xml::encoding::EncodingError),
    /// A text's entity or character reference is not valid.
    #[error("{0}")]
    Unescape(quick_xml::escape::EscapeError),
    /// The document is not well-formed.
    #[error("{0}")]
    Syntax(quick_xml::Error),
}

/// Every element's text by its path of local names (`Envelope/Body/X`).
fn xml_texts(body: &[u8]) -> Result<Vec<(String, String)>, XmlBodyError> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut path: Vec<String> = Vec::new();
    let mut texts: Vec<(String, String)> = Vec::new();
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => {
                path.push(String::from_utf8_lossy(e.local_name().as_ref()).into_owned());
                texts.push((path.join("/"), String::new()));
            }
            Ok(Event::Empty(e)) => {
                path.push(String::from_utf8_lossy(e.local_name().as_ref()).into_owned());
                texts.push((path.join("/"), String::new()));
                path.pop();
            }
            Ok(Event::End(_)) => {
                path.pop();
            }
            Ok(Event::Text(t)) => {
                let text = t.decode().map_err(XmlBodyError::Decode)?;
                let text = quick_xml::escape::unescape(&text).map_err(XmlBodyError::Unescape)?;
                let here = path.join("/");
                if let Some(entry) = texts.iter_mut().rev().find(|(p, _)| *p == here) {
                    entry.1.push_str(&text);
                }
            }
            Ok(Event::CData(t)) => {
                let here = path.join("/");
                if let Some(entry) = texts.iter_mut().rev().find(|(p, _)| *p == here) {
                    entry.1.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Err(XmlBodyError::Syntax(e)),
        }
        buf.clear();
    }
    Ok(texts)
}
