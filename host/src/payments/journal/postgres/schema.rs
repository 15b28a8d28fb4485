//! The PostgreSQL journal's migrations, in order; the schema's version is
//! how many ran (table `payhost_schema`).

use crate::payments::journal::columns::attempt_columns;

/// The migrations, in order; the schema's version is how many ran.
pub(super) const MIGRATIONS: [&str; 4] = [
    concat!(
        "
    CREATE TABLE attempts (
        id BIGSERIAL PRIMARY KEY,",
        attempt_columns!(),
        "
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        resolution TEXT,
        resolved_by TEXT,
        instance TEXT,
        late_outcome TEXT,
        lapsed BOOLEAN NOT NULL DEFAULT FALSE
    );
    CREATE UNIQUE INDEX attempts_one_live_attempt_per_order ON attempts (connector, order_id)
        WHERE state IN ('in-flight', 'unknown', 'succeeded', 'pending');
    CREATE INDEX attempts_in_flight ON attempts (instance) WHERE state = 'in-flight';
    CREATE TABLE instances (
        instance TEXT PRIMARY KEY,
        pid BIGINT NOT NULL,
        started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        expires_at TIMESTAMPTZ NOT NULL
    );
"
    ),
    "
    CREATE TABLE published (
        seq BIGSERIAL PRIMARY KEY,
        file TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        bytes BYTEA NOT NULL,
        published_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
",
    "
    ALTER TABLE attempts ADD COLUMN resolved_at BIGINT, ADD COLUMN supplier_outcome TEXT;
    CREATE INDEX attempts_created ON attempts (created_at);
    CREATE INDEX attempts_state ON attempts (state, id);
    CREATE INDEX attempts_resolved ON attempts (resolved_by) WHERE resolved_by IS NOT NULL;
    CREATE INDEX attempts_lapsed ON attempts (connector) WHERE lapsed;
",
    "
    CREATE TABLE queries (
        id BIGSERIAL PRIMARY KEY,
        attempt_id BIGINT NOT NULL,
        at BIGINT NOT NULL,
        asked_by TEXT NOT NULL,
        answer TEXT NOT NULL,
        outcome TEXT,
        error TEXT,
        settled BOOLEAN NOT NULL DEFAULT FALSE
    );
    CREATE INDEX queries_attempt ON queries (attempt_id);
    CREATE TABLE reconcile (
        attempt_id BIGINT PRIMARY KEY,
        queries BIGINT NOT NULL DEFAULT 0,
        next_at BIGINT,
        stopped_at BIGINT,
        claimed_by TEXT,
        claim_until BIGINT
    );
    CREATE INDEX attempts_unsettled ON attempts (connector, id) WHERE state IN ('unknown', 'pending');
    CREATE INDEX attempts_connector ON attempts (connector, id);
",
];
