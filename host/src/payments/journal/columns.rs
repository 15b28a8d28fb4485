//! The attempt's columns that every SQL store's first migration creates,
//! written once: `attempt_columns!()` expands to them as a string literal
//! for `concat!`. Like any migration it is history: never edited; a new
//! column is a new migration in each store.

/// The columns between the key column and the timestamps, with a trailing
/// comma.
macro_rules! attempt_columns {
    () => {
        "
        idempotency_key TEXT NOT NULL UNIQUE,
        fingerprint TEXT NOT NULL,
        connector TEXT NOT NULL,
        order_id TEXT NOT NULL,
        method TEXT NOT NULL,
        card TEXT,
        amount TEXT NOT NULL,
        currency TEXT NOT NULL,
        state TEXT NOT NULL,
        outcome TEXT,
"
    };
}

pub(crate) use attempt_columns;
