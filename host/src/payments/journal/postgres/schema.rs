//! The PostgreSQL journal's migrations, in order; the schema's version is
//! how many ran (table `payhost_schema`).

/// The migrations, in order; the schema's version is how many ran.
pub(super) const MIGRATIONS: [&str; 2] = [
    "
    CREATE TABLE attempts (
        id BIGSERIAL PRIMARY KEY,
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
",
    "
    CREATE TABLE published (
        seq BIGSERIAL PRIMARY KEY,
        file TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        bytes BYTEA NOT NULL,
        published_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
",
];
