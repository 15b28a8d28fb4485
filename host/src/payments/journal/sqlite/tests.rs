use super::*;
use crate::payments::journal::Filter;
use crate::payments::journal::types::{Asked, Settlement};
use crate::payments::model::PaymentState;
use std::time::Duration;

async fn begin(j: &SqliteJournal, r: &PaymentRequest) -> Result<Begin, JournalError> {
    j.try_begin(&Asked {
        connector: "c".to_owned(),
        request: r.clone(),
        fingerprint: fingerprint("c", r),
    })
    .await
    .map(|b| b.expect("no attempt under this key is in flight"))
}

use crate::payments::model::{Money, PaymentMethod};

fn request(order: &str, key: &str) -> PaymentRequest {
    PaymentRequest {
        order_id: order.to_owned(),
        client_order_id: None,
        method: PaymentMethod::Balance,
        amount: Money {
            amount: "1.00".into(),
            currency: "USD".into(),
        },
        idempotency_key: key.to_owned(),
        attributes: Default::default(),
    }
}

#[test]
fn writers_on_one_file_wait_their_turn_instead_of_failing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    drop(SqliteJournal::open(&path).unwrap());
    // Eight connections, as eight processes would have, each writing
    // as fast as it can.
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let path = path.clone();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    let journal = SqliteJournal::open(&path)?;
                    for i in 0..25 {
                        let r = request(&format!("O-{w}-{i}"), &format!("k-{w}-{i}"));
                        let Begin::New(id) = begin(&journal, &r).await? else {
                            panic!("a new key replayed");
                        };
                        journal
                            .finish(id, &PaymentOutcome::new(PaymentState::Succeeded))
                            .await?;
                    }
                    journal.close()
                })
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap().unwrap();
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let journal = SqliteJournal::open(&path).unwrap();
    let all = rt.block_on(listed(&journal, 1000)).unwrap();
    assert_eq!(all.len(), 200);
    assert!(all.iter().all(|a| a.state == AttemptState::Succeeded));
}

#[cfg(unix)]
#[test]
fn the_file_is_the_owners_alone() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    std::fs::write(&path, b"").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    drop(SqliteJournal::open(&path).unwrap());
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn a_host_back_from_a_pause_is_heard_before_the_operator_resolves() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    let options = JournalOptions {
        lease: Duration::from_secs(1),
        busy_timeout: Duration::from_millis(300),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let paused = SqliteJournal::open_with(&path, options).unwrap();
        let Begin::New(id) = begin(&paused, &request("O-1", "k-1")).await.unwrap() else {
            panic!("a new key replayed");
        };
        // The host pauses: no renewal; another host finds its lease lapsed.
        paused.stop_renewing();
        tokio::time::sleep(Duration::from_millis(1200)).await;
        let other = SqliteJournal::open_with(&path, options).unwrap();
        assert_eq!(other.get(id).await.unwrap().state, AttemptState::Unknown);
        // The paused host comes back: until its answer is in, the
        // operator is told to wait.
        paused.inner.renew().unwrap();
        let failed = PaymentOutcome::new(PaymentState::Failed);
        assert!(matches!(
            other.resolve(id, settle(&failed)).await,
            Err(JournalError::StillRunning { .. })
        ));
        // Its answer does not move the attempt; it is kept beside it.
        let late = paused
            .finish(id, &PaymentOutcome::new(PaymentState::Succeeded))
            .await
            .unwrap();
        assert_eq!(
            late,
            Finished::Late {
                state: AttemptState::Unknown
            }
        );
        let resolved = other.resolve(id, settle(&failed)).await.unwrap();
        assert_eq!(resolved.state, AttemptState::Failed);
        assert_eq!(
            resolved.late_outcome.map(|o| o.state),
            Some(PaymentState::Succeeded)
        );
        // A closed journal takes no new attempt.
        paused.close().unwrap();
        assert!(matches!(
            begin(&paused, &request("O-2", "k-2")).await,
            Err(JournalError::Closed)
        ));
    });
}

#[test]
fn an_attempt_written_after_its_caller_went_is_failed_never_sent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    let options = JournalOptions {
        lease: Duration::from_secs(3),
        busy_timeout: Duration::from_secs(1),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let journal = SqliteJournal::open_with(&path, options).unwrap();
        // Another process holds the write lock while the caller gives up.
        let locker = Connection::open(&path).unwrap();
        locker.execute_batch("BEGIN IMMEDIATE").unwrap();
        let r = request("O-1", "k-1");
        assert!(
            tokio::time::timeout(Duration::from_millis(200), begin(&journal, &r))
                .await
                .is_err()
        );
        locker.execute_batch("COMMIT").unwrap();
        // The attempt is written once the lock is gone, and at once made
        // failed, never sent: nobody called its connector, nobody will
        // finish it.
        let started = std::time::Instant::now();
        loop {
            if let Ok(a) = journal.get(1).await
                && a.state == AttemptState::Failed
            {
                let error = a.outcome.and_then(|o| o.error).unwrap();
                assert!(error.message.contains("never sent"), "{error:?}");
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(5), "left in flight");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
}
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn an_attempt_begun_under_a_lapsed_lease_renews_it_and_is_not_swept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    let options = JournalOptions {
        lease: Duration::from_secs(1),
        busy_timeout: Duration::from_millis(300),
    };
    runtime().block_on(async {
        let sweeper = SqliteJournal::open_with(&path, options).unwrap();
        let back = SqliteJournal::open_with(&path, options).unwrap();
        // Its lease lapses (no renewal: an outage, a pause) ...
        back.stop_renewing();
        tokio::time::sleep(Duration::from_millis(1200)).await;
        // ... and it begins before any renewal of its own.
        let Begin::New(id) = begin(&back, &request("O-1", "k-1")).await.unwrap() else {
            panic!("a new key replayed");
        };
        sweeper.inner.renew().unwrap();
        assert_eq!(
            sweeper.get(id).await.unwrap().state,
            AttemptState::InFlight,
            "an attempt begun under a lease confirmed in its own transaction was swept"
        );
        assert_eq!(
            back.finish(id, &PaymentOutcome::new(PaymentState::Succeeded))
                .await
                .unwrap(),
            Finished::Recorded
        );
    });
}

/// A journal with one paid attempt, and the file's path.
fn paid(dir: &Path) -> (SqliteJournal, PathBuf, tokio::runtime::Runtime) {
    let path = dir.join("journal.db");
    let rt = runtime();
    let journal = SqliteJournal::open(&path).unwrap();
    rt.block_on(async {
        let Begin::New(id) = begin(&journal, &request("O-PAID", "k-paid")).await.unwrap() else {
            panic!("a new key replayed");
        };
        journal
            .finish(id, &PaymentOutcome::new(PaymentState::Succeeded))
            .await
            .unwrap();
    });
    (journal, path, rt)
}

#[test]
fn a_journal_deleted_under_its_host_stops_it_and_is_put_back_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (journal, path, rt) = paid(dir.path());
    std::fs::remove_file(&path).unwrap();
    rt.block_on(async {
        let refused = begin(&journal, &request("O-NEXT", "k-next")).await;
        assert!(
            matches!(&refused, Err(JournalError::Moved { what, .. }) if what.contains("deleted or renamed")),
            "{refused:?}"
        );
        assert!(!journal.health().writable);
    });
    drop(journal);
    // Every attempt it wrote is back at the path; nothing keeps a
    // host off it.
    assert!(!ground::marker_path(&path).exists());
    let reopened = SqliteJournal::open(&path).unwrap();
    let all = rt.block_on(listed(&reopened, 10)).unwrap();
    assert!(
        all.iter()
            .any(|a| a.order_id == "O-PAID" && a.state == AttemptState::Succeeded),
        "{all:?}"
    );
    assert!(all.iter().all(|a| a.order_id != "O-NEXT"), "{all:?}");
}

#[test]
fn a_journal_replaced_or_losing_its_wal_under_its_host_keeps_every_host_off_it_until_settled() {
    for (case, change) in [
        ("replaced", "replaced by another file"),
        ("wal", "lost its WAL"),
        ("truncated", "truncated"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (journal, path, rt) = paid(dir.path());
        match case {
            "replaced" => {
                let other = dir.path().join("other.db");
                drop(SqliteJournal::open(&other).unwrap());
                std::fs::rename(&other, &path).unwrap();
            }
            "wal" => std::fs::remove_file(ground::wal_path(&path)).unwrap(),
            _ => std::fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_len(0)
                .unwrap(),
        }
        rt.block_on(async {
            let refused = begin(&journal, &request("O-NEXT", "k-next")).await;
            assert!(
                matches!(&refused, Err(JournalError::Moved { what, .. }) if what.contains(change)),
                "{case}: {refused:?}"
            );
            // Still refused: it stopped for good.
            assert!(matches!(
                begin(&journal, &request("O-NEXT", "k-next-2")).await,
                Err(JournalError::Moved { .. })
            ));
        });
        drop(journal);
        let marker = ground::marker_path(&path);
        let note = std::fs::read_to_string(&marker).unwrap();
        assert!(note.contains(change), "{case}: {note}");
        let refused = SqliteJournal::open(&path).err().map(|e| e.to_string());
        assert!(
            refused.as_deref().is_some_and(|e| e.contains(".moved")),
            "{case}: {refused:?}"
        );
        if case == "truncated" {
            continue;
        }
        // The operator keeps the host's copy: it holds the paid attempt.
        let copy = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.to_string_lossy().contains(".rescued-"))
            .unwrap_or_else(|| panic!("{case}: no copy"));
        for stale in [ground::wal_path(&path), path.with_extension("db-shm")] {
            let _ = std::fs::remove_file(stale);
        }
        std::fs::rename(&copy, &path).unwrap();
        std::fs::remove_file(&marker).unwrap();
        let kept = SqliteJournal::open(&path).unwrap();
        let all = rt.block_on(listed(&kept, 10)).unwrap();
        assert!(
            all.iter()
                .any(|a| a.order_id == "O-PAID" && a.state == AttemptState::Succeeded),
            "{case}: {all:?}"
        );
    }
}

#[test]
fn a_journal_whose_wal_belongs_to_another_database_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let one = dir.path().join("one.db");
    let (journal, _, _) = paid(dir.path());
    drop(journal);
    std::fs::rename(dir.path().join("journal.db"), &one).unwrap();
    // Another journal, written enough to hold its first page in its
    // WAL; its WAL copied beside the first while it is open.
    let two = dir.path().join("two.db");
    let other = SqliteJournal::open(&two).unwrap();
    rt.block_on(async {
        for i in 0..200 {
            let r = request(&format!("O-{i}"), &format!("k-{i}"));
            begin(&other, &r).await.unwrap();
        }
    });
    std::fs::copy(ground::wal_path(&two), ground::wal_path(&one)).unwrap();
    let refused = SqliteJournal::open(&one).err().map(|e| e.to_string());
    assert!(
        refused
            .as_deref()
            .is_some_and(|e| e.contains("belongs to another database")),
        "{refused:?}"
    );
    drop(other);
}

#[test]
fn a_journal_from_before_schema_versions_is_migrated_and_one_from_a_newer_host_refused() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // As the first payhost wrote it: the tables, none of the later
    // columns, no schema version.
    let old = dir.path().join("old.db");
    {
        let conn = Connection::open(&old).unwrap();
        conn.execute_batch(
            "CREATE TABLE attempts (id INTEGER PRIMARY KEY AUTOINCREMENT, idempotency_key TEXT NOT NULL UNIQUE,
                fingerprint TEXT NOT NULL, connector TEXT NOT NULL, order_id TEXT NOT NULL, method TEXT NOT NULL,
                card TEXT, amount TEXT NOT NULL, currency TEXT NOT NULL, state TEXT NOT NULL, outcome TEXT,
                created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, resolution TEXT, owner INTEGER);
             INSERT INTO attempts (idempotency_key, fingerprint, connector, order_id, method, amount, currency,
                state, outcome, created_at, updated_at)
             VALUES ('k-old', 'fp', 'c', 'O-old', 'balance', '1.00', 'USD', 'failed', NULL, 1, 1);",
        )
        .unwrap();
    }
    let journal = SqliteJournal::open(&old).unwrap();
    let kept = runtime.block_on(journal.by_key("k-old")).unwrap().unwrap();
    assert_eq!(kept.order_id, "O-old");
    runtime
        .block_on(begin(&journal, &request("O-new", "k-new")))
        .unwrap();
    drop(journal);
    let version: i64 = Connection::open(&old)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, schema::VERSION);

    let newer = dir.path().join("newer.db");
    drop(SqliteJournal::open(&newer).unwrap());
    Connection::open(&newer)
        .unwrap()
        .execute_batch("PRAGMA user_version = 99")
        .unwrap();
    match SqliteJournal::open(&newer) {
        Err(JournalError::Newer { version: 99, .. }) => {}
        Err(e) => panic!("refused for another reason: {e}"),
        Ok(_) => panic!("a journal of a newer schema was opened"),
    }
}

/// The operator's decision these tests make.
fn settle(outcome: &PaymentOutcome) -> Settlement {
    Settlement {
        outcome: outcome.clone(),
        note: "no charge".to_owned(),
        by: "cli".to_owned(),
        asking: None,
    }
}

/// The latest attempts, newest first.
async fn listed(journal: &SqliteJournal, limit: usize) -> Result<Vec<Attempt>, JournalError> {
    let filter = Filter {
        limit,
        ..Default::default()
    };
    journal.find(&filter).await
}
