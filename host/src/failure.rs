//! What a failure means for whoever asked, in one table: for every error
//! the library returns, its stable code, the API's HTTP status and the
//! CLI's exit code.

use crate::execution::PayError;
use crate::payments::journal::JournalError;

/// What kind of failure, for a person or a script deciding what to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The request, its arguments or the configuration is wrong: fix it.
    /// Nothing was sent.
    Usage,
    /// The journal's rules refuse it (a key reused for another payment, an
    /// order that already has an attempt, an attempt that is not unknown).
    /// Nothing was sent.
    Refused,
    /// Busy or stopping: nothing was sent; the same request later may go
    /// through.
    Busy,
    /// The payment may have reached the supplier: check before paying again.
    Unknown,
    /// payhost itself or its journal failed.
    Internal,
}

impl Failure {
    /// The exit code `payhost` ends with.
    pub const fn exit_code(self) -> u8 {
        match self {
            Failure::Usage => 2,
            Failure::Refused => 6,
            Failure::Unknown => 4,
            Failure::Busy => 5,
            Failure::Internal => 1,
        }
    }
}

/// A failure's stable code, as the API answers it (`{"error": {"code"}}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// `invalid_request`.
    InvalidRequest,
    /// `unknown_connector`.
    UnknownConnector,
    /// `method_not_supported`.
    MethodNotSupported,
    /// `connector_busy`.
    ConnectorBusy,
    /// `host_busy`.
    HostBusy,
    /// `journal_busy`.
    JournalBusy,
    /// `stopping`.
    Stopping,
    /// `still_running`.
    StillRunning,
    /// `not_recorded`.
    NotRecorded,
    /// `superseded`.
    Superseded,
    /// `idempotency_key_reused`.
    IdempotencyKeyReused,
    /// `order_busy`.
    OrderBusy,
    /// `not_unknown`.
    NotUnknown,
    /// `not_found`.
    NotFound,
    /// `journal_unwritable`.
    JournalUnwritable,
    /// `journal_error`.
    JournalError,
    /// `query_in_progress`: another host is asking the supplier about the
    /// attempt now.
    QueryInProgress,
    /// `undecided`: the supplier was asked and its answer settled nothing
    /// (the query is in the attempt's history).
    Undecided,
}

impl Code {
    /// Every code.
    pub const ALL: [Code; 18] = [
        Code::InvalidRequest,
        Code::UnknownConnector,
        Code::MethodNotSupported,
        Code::ConnectorBusy,
        Code::HostBusy,
        Code::JournalBusy,
        Code::Stopping,
        Code::StillRunning,
        Code::NotRecorded,
        Code::Superseded,
        Code::IdempotencyKeyReused,
        Code::OrderBusy,
        Code::NotUnknown,
        Code::NotFound,
        Code::JournalUnwritable,
        Code::JournalError,
        Code::QueryInProgress,
        Code::Undecided,
    ];

    /// The table: the code's text, its HTTP status and its kind.
    const fn row(self) -> (&'static str, u16, Failure) {
        use Failure::*;
        match self {
            Code::InvalidRequest => ("invalid_request", 400, Usage),
            Code::UnknownConnector => ("unknown_connector", 404, Usage),
            Code::MethodNotSupported => ("method_not_supported", 400, Usage),
            Code::NotFound => ("not_found", 404, Usage),
            Code::IdempotencyKeyReused => ("idempotency_key_reused", 409, Refused),
            Code::OrderBusy => ("order_busy", 409, Refused),
            Code::NotUnknown => ("not_unknown", 409, Refused),
            Code::ConnectorBusy => ("connector_busy", 503, Busy),
            Code::HostBusy => ("host_busy", 503, Busy),
            Code::JournalBusy => ("journal_busy", 503, Busy),
            Code::Stopping => ("stopping", 503, Busy),
            // The attempt's own host may still answer: ask again later.
            Code::StillRunning => ("still_running", 409, Busy),
            // The supplier answered; the journal will take it: 500, the
            // host's fault, and unknown to the caller until then.
            Code::NotRecorded => ("not_recorded", 500, Unknown),
            Code::Superseded => ("superseded", 409, Unknown),
            Code::JournalUnwritable => ("journal_unwritable", 503, Internal),
            Code::JournalError => ("journal_error", 500, Internal),
            Code::QueryInProgress => ("query_in_progress", 409, Busy),
            // Still unknown (or pending): not settled, check before paying.
            Code::Undecided => ("undecided", 409, Unknown),
        }
    }

    /// The code's text: `order_busy`.
    /// The code whose text is `text` (`order_busy`), as an API answer
    /// carries it: for a client deciding its exit code by the same table.
    pub fn named(text: &str) -> Option<Code> {
        Code::ALL.into_iter().find(|c| c.as_str() == text)
    }

    /// The code's text.
    pub const fn as_str(self) -> &'static str {
        self.row().0
    }

    /// The HTTP status the API answers with.
    pub const fn status(self) -> u16 {
        self.row().1
    }

    /// What kind of failure it is.
    pub const fn failure(self) -> Failure {
        self.row().2
    }
}

impl JournalError {
    /// Its code in the table.
    pub fn code(&self) -> Code {
        match self {
            JournalError::KeyReused { .. } => Code::IdempotencyKeyReused,
            JournalError::OrderBusy { .. } => Code::OrderBusy,
            JournalError::NotFound(_) => Code::NotFound,
            JournalError::NotUnknown { .. } => Code::NotUnknown,
            JournalError::Busy { .. } | JournalError::Unanswered { .. } => Code::JournalBusy,
            JournalError::Moved { .. } => Code::JournalUnwritable,
            JournalError::Closed => Code::Stopping,
            JournalError::StillRunning { .. } => Code::StillRunning,
            JournalError::Queried { .. } => Code::QueryInProgress,
            JournalError::Sqlite { .. }
            | JournalError::File { .. }
            | JournalError::Newer { .. }
            | JournalError::Write { .. }
            | JournalError::Postgres { .. }
            | JournalError::Options(_) => Code::JournalError,
        }
    }
}

impl PayError {
    /// Its code in the table.
    pub fn code(&self) -> Code {
        match self {
            PayError::UnknownConnector(_) => Code::UnknownConnector,
            PayError::Invalid(_) => Code::InvalidRequest,
            PayError::Busy { .. } => Code::ConnectorBusy,
            PayError::HostBusy { .. } => Code::HostBusy,
            PayError::MethodNotSupported { .. } => Code::MethodNotSupported,
            PayError::Superseded { .. } => Code::Superseded,
            PayError::Unrecorded { .. } => Code::NotRecorded,
            PayError::Journal(e) => e.code(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_and_an_exit_code_agree_on_what_a_failure_is() {
        let all = Code::ALL;
        for code in all {
            assert_eq!(Code::named(code.as_str()), Some(code));
        }
        for code in all {
            let (status, failure) = (code.status(), code.failure());
            // A caller's mistake is a 4xx; payhost's own failure a 5xx;
            // busy is worth asking again (503, or 409 while another host
            // may still answer).
            match failure {
                Failure::Usage | Failure::Refused => {
                    assert!((400..500).contains(&status), "{code:?}")
                }
                Failure::Internal => assert!(status >= 500, "{code:?}"),
                Failure::Busy => assert!(status == 503 || status == 409, "{code:?}"),
                Failure::Unknown => assert!(status == 409 || status == 500, "{code:?}"),
            }
        }
        let texts: std::collections::BTreeSet<_> = all.iter().map(|c| c.as_str()).collect();
        assert_eq!(texts.len(), all.len(), "each code has its own text");
    }
}
