//! The journal's tables, and the migrations that bring a file of any
//! earlier payhost to them: versioned by `PRAGMA user_version`, each run
//! once and in order, inside the opening transaction.

use crate::payments::journal::columns::attempt_columns;
use rusqlite::Connection;

/// Migration 1: the tables.
const SCHEMA: &str = concat!(
    "
    CREATE TABLE IF NOT EXISTS attempts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,",
    attempt_columns!(),
    "
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        resolution TEXT,
        owner INTEGER
    );
    CREATE INDEX IF NOT EXISTS attempts_order ON attempts (connector, order_id);
    CREATE INDEX IF NOT EXISTS attempts_state ON attempts (state);
    CREATE TABLE IF NOT EXISTS published (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        file TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        bytes BLOB NOT NULL,
        published_at INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS instances (
        instance TEXT PRIMARY KEY,
        pid INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
    );"
);

/// Migration 2: columns added after the first schema, with their types.
/// A file from before the schema had versions may hold some of them
/// already: each is added only where it is missing.
const ADDED_COLUMNS: [(&str, &str); 5] = [
    ("instance", "TEXT"),
    ("resolved_by", "TEXT"),
    ("late_outcome", "TEXT"),
    ("instance_pid", "INTEGER"),
    // 1 when the attempt was marked unknown because its host's lease
    // lapsed (its host may yet come back with an answer).
    ("lapsed", "INTEGER"),
];

/// Migration 3: what a resolution keeps (when, and the supplier's own
/// outcome beside it), and the index a search by time uses.
const RESOLUTIONS: &str = "
    ALTER TABLE attempts ADD COLUMN resolved_at INTEGER;
    ALTER TABLE attempts ADD COLUMN supplier_outcome TEXT;
    CREATE INDEX IF NOT EXISTS attempts_created ON attempts (created_at);
    CREATE INDEX IF NOT EXISTS attempts_resolved ON attempts (resolved_by) WHERE resolved_by IS NOT NULL;
    CREATE INDEX IF NOT EXISTS attempts_lapsed ON attempts (connector) WHERE lapsed;";

/// Migration 4: the reconciler's record of each query and its schedule
/// and claim per attempt.
const RECONCILER: &str = "
    CREATE TABLE IF NOT EXISTS queries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        attempt_id INTEGER NOT NULL,
        at INTEGER NOT NULL,
        asked_by TEXT NOT NULL,
        answer TEXT NOT NULL,
        outcome TEXT,
        error TEXT,
        settled INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX IF NOT EXISTS queries_attempt ON queries (attempt_id);
    CREATE TABLE IF NOT EXISTS reconcile (
        attempt_id INTEGER PRIMARY KEY,
        queries INTEGER NOT NULL DEFAULT 0,
        next_at INTEGER,
        stopped_at INTEGER,
        claimed_by TEXT,
        claim_until INTEGER
    );
    CREATE INDEX IF NOT EXISTS attempts_unsettled ON attempts (connector, id) WHERE state IN ('unknown', 'pending');
    CREATE INDEX IF NOT EXISTS attempts_connector ON attempts (connector, id);";

/// The schema's version once every migration has run.
pub(super) const VERSION: i64 = 4;

/// Brings the schema to [`VERSION`] inside `tx`; `Ok(Some(version))` when
/// the file was made by a newer payhost, whose schema this host does not know.
pub(super) fn migrate(tx: &Connection) -> rusqlite::Result<Option<i64>> {
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > VERSION {
        return Ok(Some(version));
    }
    if version < 1 {
        tx.execute_batch(SCHEMA)?;
    }
    if version < 2 {
        let columns: Vec<String> = tx
            .prepare("SELECT name FROM pragma_table_info('attempts')")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for (name, kind) in ADDED_COLUMNS {
            if !columns.iter().any(|c| c == name) {
                tx.execute_batch(&format!("ALTER TABLE attempts ADD COLUMN {name} {kind}"))?;
            }
        }
    }
    if version < 3 {
        tx.execute_batch(RESOLUTIONS)?;
    }
    if version < 4 {
        tx.execute_batch(RECONCILER)?;
    }
    if version < VERSION {
        tx.execute_batch(&format!("PRAGMA user_version = {VERSION}"))?;
    }
    Ok(None)
}
