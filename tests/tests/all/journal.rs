//! The journal's promises on every store: memory (the rules' own), SQLite
//! and a real PostgreSQL server started for the test: one key makes one attempt, an order has at
//! most one live attempt, whoever asks and however many hosts ask at once;
//! a host whose lease lapsed leaves its attempt `unknown` for the others.
//! And two `payhost serve` on one PostgreSQL database.

use crate::serve::{Server, body, post, workspace};
use payhost::{AttemptState, Begin, Journal, JournalError, JournalOptions, PaymentState};
use payhost_sandbox::pg::PgServer;
use payhost_sandbox::sim::{Simulator, Supplier};
use payhost_tests::{artifacts, request};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A place for a journal: a SQLite file, a PostgreSQL database (and the
/// server it lives in, stopped when the store is dropped), or memory, the
/// rules' own store.
enum Store {
    Memory(payhost::Memory),
    Sqlite(tempfile::TempDir),
    Postgres(
        #[allow(dead_code, reason = "held until the store is dropped")] PgServer,
        String,
    ),
}

impl Store {
    fn all() -> Vec<Store> {
        let pg = PgServer::start().unwrap_or_else(|e| panic!("{e}"));
        let url = pg.database().unwrap();
        vec![
            Store::Memory(payhost::Memory::new()),
            Store::Sqlite(tempfile::tempdir().unwrap()),
            Store::Postgres(pg, url),
        ]
    }

    fn name(&self) -> &'static str {
        match self {
            Store::Memory(_) => "memory",
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(..) => "postgres",
        }
    }

    /// A host's journal: each call is another instance, as another host.
    async fn open(&self, options: JournalOptions) -> Journal {
        match self {
            Store::Memory(memory) => Journal::in_memory(memory, options),
            Store::Sqlite(dir) => Journal::open_with(&dir.path().join("journal.db"), options),
            Store::Postgres(_, url) => Journal::connect(url, options).await,
        }
        .unwrap_or_else(|e| panic!("{}: {e}", self.name()))
    }
}

fn keyed(order: &str, key: &str) -> payhost::PaymentRequest {
    let mut r = request(&[]);
    r.order_id = order.into();
    r.idempotency_key = key.into();
    r
}

#[tokio::test(flavor = "multi_thread")]
async fn one_key_one_attempt_and_one_live_attempt_per_order_across_hosts_on_every_store() {
    for store in Store::all() {
        let name = store.name();
        let options = JournalOptions::default();
        let hosts = [
            Arc::new(store.open(options).await),
            Arc::new(store.open(options).await),
        ];

        // Sixteen new keys for one order, from two hosts at once: one attempt.
        let tries: Vec<_> = (0..16)
            .map(|i| {
                let host = hosts[i % 2].clone();
                tokio::spawn(async move {
                    host.begin(
                        "atlas",
                        &keyed("O-RACE", &format!("race-{i}")),
                        Duration::ZERO,
                    )
                    .await
                })
            })
            .collect();
        let mut new = 0;
        for t in tries {
            match t.await.unwrap() {
                Ok(Begin::New(_)) => new += 1,
                Err(JournalError::OrderBusy { state, .. }) => {
                    assert_eq!(state, AttemptState::InFlight, "{name}")
                }
                other => panic!("{name}: {other:?}"),
            }
        }
        assert_eq!(new, 1, "{name}: attempts for one order");

        // One key from both hosts at once: one attempt, the rest replay it.
        let tries: Vec<_> = (0..8)
            .map(|i| {
                let host = hosts[i % 2].clone();
                tokio::spawn(async move {
                    (
                        i % 2,
                        host.begin("atlas", &keyed("O-KEY", "one-key"), Duration::ZERO)
                            .await,
                    )
                })
            })
            .collect();
        let mut new_id = None;
        let mut replays = 0;
        for t in tries {
            match t.await.unwrap() {
                (owner, Ok(Begin::New(id))) => {
                    assert!(
                        new_id.replace((owner, id)).is_none(),
                        "{name}: a second attempt"
                    )
                }
                (_, Ok(Begin::Replay(_))) => replays += 1,
                (_, other) => panic!("{name}: {other:?}"),
            }
        }
        assert_eq!(replays, 7, "{name}");
        // The host that began it finishes it.
        let (owner, id) = new_id.unwrap();
        hosts[owner]
            .finish(id, &payhost::PaymentOutcome::new(PaymentState::Succeeded))
            .await
            .unwrap();
        // Paid: a new key for the order is refused, from either host; the
        // key replays.
        assert!(
            matches!(
                hosts[1 - owner]
                    .begin("atlas", &keyed("O-KEY", "other-key"), Duration::ZERO)
                    .await,
                Err(JournalError::OrderBusy {
                    state: AttemptState::Succeeded,
                    ..
                })
            ),
            "{name}"
        );
        let Begin::Replay(replayed) = hosts[1]
            .begin("atlas", &keyed("O-KEY", "one-key"), Duration::ZERO)
            .await
            .unwrap()
        else {
            panic!("{name}: the key did not replay");
        };
        assert_eq!(replayed.state, AttemptState::Succeeded, "{name}");
        // The same key with other parameters is refused.
        let mut other = keyed("O-KEY", "one-key");
        other.amount.amount = "1.00".into();
        assert!(
            matches!(
                hosts[0].begin("atlas", &other, Duration::ZERO).await,
                Err(JournalError::KeyReused { .. })
            ),
            "{name}"
        );
        for host in &hosts {
            host.close().await.unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_host_that_stops_renewing_leaves_its_attempt_unknown_for_the_others_on_every_store() {
    for store in Store::all() {
        let name = store.name();
        let options = JournalOptions {
            lease: Duration::from_secs(1),
            busy_timeout: Duration::from_millis(300),
        };
        let dying = store.open(options).await;
        let Begin::New(id) = dying
            .begin("atlas", &keyed("O-DIE", "die-1"), Duration::ZERO)
            .await
            .unwrap()
        else {
            panic!("{name}: not a new attempt");
        };
        // Killed: no close, no more renewals.
        drop(dying);
        let other = store.open(options).await;
        let started = Instant::now();
        loop {
            match other
                .begin("atlas", &keyed("O-DIE", "die-2"), Duration::ZERO)
                .await
            {
                Err(JournalError::OrderBusy {
                    state: AttemptState::Unknown,
                    ..
                }) => break,
                Err(JournalError::OrderBusy {
                    state: AttemptState::InFlight,
                    ..
                }) => {}
                other => panic!("{name}: {other:?}"),
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{name}: still in flight"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(other.get(id).await.unwrap().state, AttemptState::Unknown);
        // Counted as lapsed, for the metrics, from any host.
        assert_eq!(
            other.tally().await.unwrap().lapsed,
            vec![("atlas".to_owned(), 1)],
            "{name}"
        );
        // Resolved by the operator, from any host; then the order may go again.
        let resolved = other
            .resolve(
                id,
                &payhost::PaymentOutcome::new(PaymentState::Failed),
                "supplier: no charge",
                "cli",
            )
            .await
            .unwrap();
        assert_eq!(
            (resolved.state, resolved.resolved_by.as_deref()),
            (AttemptState::Failed, Some("cli")),
            "{name}"
        );
        assert!(matches!(
            other
                .begin("atlas", &keyed("O-DIE", "die-3"), Duration::ZERO)
                .await,
            Ok(Begin::New(_))
        ));
        other.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_hosts_on_one_postgresql_journal_never_pay_twice_and_take_over_a_dead_ones_attempt() {
    let pg = PgServer::start().unwrap_or_else(|e| panic!("{e}"));
    let url = pg.database().unwrap();
    let sim = Simulator::start().await.unwrap();
    let dir = workspace(&sim, &[artifacts::PAYHOST_ATLAS]);
    let config = dir.path().join("payhost.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replacen(
            "[host]\n",
            &format!("[host]\njournal = {url:?}\nlease = \"2s\"\njournal_wait = \"500ms\"\n"),
            1,
        ),
    )
    .unwrap();
    let mut one = Server::start(dir.path());
    let two = Server::start(dir.path());
    let client = reqwest::Client::new();

    // The same key and the same order, to both hosts at once.
    let b = body("atlas", "ATL-OK-both", "both-1");
    let (u1, u2, c1, c2, b1, b2) = (
        one.url.clone(),
        two.url.clone(),
        client.clone(),
        client.clone(),
        b.clone(),
        b.clone(),
    );
    let (a1, a2) = tokio::join!(
        tokio::spawn(async move { post(&c1, &u1, &b1).await }),
        tokio::spawn(async move { post(&c2, &u2, &b2).await })
    );
    for (status, answer) in [a1.unwrap(), a2.unwrap()] {
        assert_eq!(
            (status, answer["outcome"]["state"].as_str()),
            (200, Some("succeeded")),
            "{answer:#}"
        );
    }
    assert_eq!(sim.pay_calls(Supplier::Atlas, "ATL-OK-both"), 1);

    // Host one dies mid-payment; host two takes its attempt as unknown.
    let order = "FAULT-slow-failover";
    let (u1, c1) = (one.url.clone(), client.clone());
    let dying = tokio::spawn(async move {
        c1.post(format!("{u1}/v1/payments"))
            .json(&body("atlas", order, "failover-1"))
            .send()
            .await
    });
    while sim.pay_calls(Supplier::Atlas, order) == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    one.kill();
    assert!(dying.await.unwrap().is_err());
    let started = Instant::now();
    let answer = loop {
        let (status, answer) = post(&client, &two.url, &body("atlas", order, "failover-2")).await;
        assert_eq!(status, 409, "{answer:#}");
        if answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown")
        {
            break answer;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "still in flight: {answer:#}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(answer["error"]["code"], "order_busy");
    // The first key, replayed on host two, says unknown; nothing was resent.
    let (status, answer) = post(&client, &two.url, &body("atlas", order, "failover-1")).await;
    assert_eq!(
        (status, answer["outcome"]["state"].as_str()),
        (200, Some("unknown")),
        "{answer:#}"
    );
    assert_eq!(sim.pay_calls(Supplier::Atlas, order), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connector_published_on_one_host_serves_on_the_other() {
    let pg = PgServer::start().unwrap_or_else(|e| panic!("{e}"));
    let url = pg.database().unwrap();
    let sim = Simulator::start().await.unwrap();
    let on_journal = |dir: &std::path::Path| {
        let config = dir.join("payhost.toml");
        let text = std::fs::read_to_string(&config).unwrap();
        std::fs::write(
            &config,
            text.replacen("[host]\n", &format!("[host]\njournal = {url:?}\n"), 1),
        )
        .unwrap();
    };
    let with_atlas = workspace(&sim, &[artifacts::PAYHOST_ATLAS]);
    let without = workspace(&sim, &[]);
    on_journal(with_atlas.path());
    on_journal(without.path());
    let one = Server::start(with_atlas.path());
    let two = Server::start(without.path());
    let client = reqwest::Client::new();
    assert!(
        crate::serve::sha_of(&crate::serve::connectors(&client, &two.url).await, "atlas").is_none()
    );

    let out = std::process::Command::new(payhost_tests::payhost_bin())
        .args(["plugins", "publish"])
        .arg(with_atlas.path().join("plugins/atlas.wasm"))
        .arg("--config")
        .arg(with_atlas.path().join("payhost.toml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let started = Instant::now();
    let sha = loop {
        if let Some(sha) =
            crate::serve::sha_of(&crate::serve::connectors(&client, &two.url).await, "atlas")
        {
            break sha;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the published connector never went live on the other host"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    println!(
        "published connector live on the other host after {:?}",
        started.elapsed()
    );
    // The same live set on both hosts.
    assert_eq!(
        crate::serve::sha_of(&crate::serve::connectors(&client, &one.url).await, "atlas"),
        Some(sha)
    );
    let (status, answer) = post(&client, &two.url, &body("atlas", "ATL-OK-pub", "pub-1")).await;
    assert_eq!(
        (status, answer["outcome"]["state"].as_str()),
        (200, Some("succeeded")),
        "{answer:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lease_too_short_for_the_journal_wait_is_refused_on_every_store() {
    let options = JournalOptions {
        lease: Duration::from_secs(3),
        busy_timeout: Duration::from_secs(5),
    };
    for store in Store::all() {
        let opened = match &store {
            Store::Memory(memory) => Journal::in_memory(memory, options),
            Store::Sqlite(dir) => Journal::open_with(&dir.path().join("journal.db"), options),
            Store::Postgres(_, url) => Journal::connect(url, options).await,
        };
        let Err(err) = opened else {
            panic!("{}: a 3 s lease with a 5 s wait was accepted", store.name());
        };
        assert!(
            err.to_string().contains("make lease at least 15s"),
            "{}: {err}",
            store.name()
        );
    }
}

/// Begins `key` for `order` on `journal`, trying again while the journal is
/// still coming back (a pool's connections cut, a lock not yet free).
async fn begin_when_back(journal: &Journal, order: &str, key: &str) -> i64 {
    let started = Instant::now();
    loop {
        match journal
            .begin("atlas", &keyed(order, key), Duration::ZERO)
            .await
        {
            Ok(Begin::New(id)) => return id,
            Ok(other) => panic!("{other:?}"),
            Err(e) => {
                assert!(
                    started.elapsed() < Duration::from_secs(20),
                    "the journal did not come back: {e}"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// After an outage longer than the lease (25 s against 15 s), host B
/// begins an attempt the moment the journal is back, before its lease
/// thread has renewed; host A then looks at the same order, which sweeps
/// lapsed hosts' attempts. B's new attempt was begun under a lease it
/// confirmed in the same transaction: it stays in flight, and B records its
/// outcome. Only what was in flight when the outage began may be unknown.
async fn outage_longer_than_the_lease(
    a: &Journal,
    b: &Journal,
    outage: impl AsyncFnOnce(),
    name: &str,
) {
    let before = b
        .begin("atlas", &keyed("O-OUTAGE-1", "outage-1"), Duration::ZERO)
        .await
        .unwrap();
    let Begin::New(before) = before else {
        panic!("{before:?}")
    };
    outage().await;
    let after = begin_when_back(b, "O-OUTAGE-2", "outage-2").await;
    match a
        .begin(
            "atlas",
            &keyed("O-OUTAGE-2", "outage-2-other"),
            Duration::ZERO,
        )
        .await
    {
        Err(JournalError::OrderBusy { state, .. }) => assert_eq!(
            state,
            AttemptState::InFlight,
            "{name}: the attempt begun after the outage was swept"
        ),
        other => panic!("{name}: {other:?}"),
    }
    assert_eq!(
        b.finish(
            after,
            &payhost::PaymentOutcome::new(PaymentState::Succeeded)
        )
        .await
        .unwrap(),
        payhost::Finished::Recorded,
        "{name}"
    );
    assert_eq!(
        b.get(after).await.unwrap().state,
        AttemptState::Succeeded,
        "{name}"
    );
    // What was in flight when it began may have become unknown, no more.
    let earlier = b.get(before).await.unwrap().state;
    assert!(
        matches!(earlier, AttemptState::InFlight | AttemptState::Unknown),
        "{name}: {earlier:?}"
    );
}

fn long_lease() -> JournalOptions {
    JournalOptions {
        lease: Duration::from_secs(15),
        busy_timeout: Duration::from_secs(5),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_attempt_begun_after_a_postgresql_outage_longer_than_the_lease_is_not_swept() {
    let pg = PgServer::start().unwrap_or_else(|e| panic!("{e}"));
    let url = pg.database().unwrap();
    let a = Journal::connect(&url, long_lease()).await.unwrap();
    let b = Journal::connect(&url, long_lease()).await.unwrap();
    outage_longer_than_the_lease(
        &a,
        &b,
        async || {
            pg.crash().unwrap();
            tokio::time::sleep(Duration::from_secs(25)).await;
            pg.resume().unwrap();
        },
        "postgres",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_attempt_begun_after_a_sqlite_lock_longer_than_the_lease_is_not_swept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    let a = Journal::open_with(&path, long_lease()).unwrap();
    let b = Journal::open_with(&path, long_lease()).unwrap();
    outage_longer_than_the_lease(
        &a,
        &b,
        async || {
            let path = path.clone();
            tokio::task::spawn_blocking(move || {
                let conn = rusqlite::Connection::open(&path).unwrap();
                conn.execute_batch("BEGIN IMMEDIATE").unwrap();
                std::thread::sleep(Duration::from_secs(25));
                conn.execute_batch("ROLLBACK").unwrap();
            })
            .await
            .unwrap();
        },
        "sqlite",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_search_finds_by_state_connector_order_time_and_resolution_page_by_page_on_every_store() {
    for store in Store::all() {
        let name = store.name();
        let journal = store.open(long_lease()).await;
        // Five orders: two unknown, one succeeded, one failed, one pending.
        let mut ids = Vec::new();
        for (n, state) in [
            PaymentState::Unknown,
            PaymentState::Succeeded,
            PaymentState::Unknown,
            PaymentState::Failed,
            PaymentState::Pending,
        ]
        .into_iter()
        .enumerate()
        {
            let Begin::New(id) = journal
                .begin(
                    "atlas",
                    &keyed(&format!("S-{n}"), &format!("s-{n}")),
                    Duration::ZERO,
                )
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"))
            else {
                panic!("{name}: not new")
            };
            let mut outcome = payhost::PaymentOutcome::new(state);
            outcome.supplier_code = Some(format!("code-{n}"));
            journal.finish(id, &outcome).await.unwrap();
            ids.push(id);
        }
        let search = |text: &str| {
            let mut s = payhost::Search::default();
            for pair in text.split('&').filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once('=').unwrap();
                match k {
                    "state" => s.state = Some(v.into()),
                    "connector" => s.connector = Some(v.into()),
                    "order" => s.order = Some(v.into()),
                    "since" => s.since = Some(v.into()),
                    "resolved" => s.resolved = Some(v == "true"),
                    "limit" => s.limit = Some(v.parse().unwrap()),
                    other => panic!("{other}"),
                }
            }
            s.filter(payhost_tests::now()).unwrap()
        };
        let found = |page: payhost::Page| page.attempts.iter().map(|a| a.id).collect::<Vec<_>>();

        // By state, newest first; two pages of one and one more.
        let unknown = journal.find(&search("state=unknown")).await.unwrap();
        assert_eq!(found(unknown), vec![ids[2], ids[0]], "{name}");
        let first = journal
            .find(&search("state=unknown,pending&limit=2"))
            .await
            .unwrap();
        assert_eq!(found(first.clone()), vec![ids[4], ids[2]], "{name}");
        let mut rest = search("state=unknown,pending&limit=2");
        rest.before = first.next;
        let second = journal.find(&rest).await.unwrap();
        assert_eq!(found(second.clone()), vec![ids[0]], "{name}");
        assert_eq!(second.next, None, "{name}");
        // By order, connector and time.
        assert_eq!(
            found(journal.find(&search("order=S-3")).await.unwrap()),
            vec![ids[3]],
            "{name}"
        );
        assert!(
            journal
                .find(&search("connector=nemo"))
                .await
                .unwrap()
                .attempts
                .is_empty(),
            "{name}"
        );
        assert_eq!(
            journal
                .find(&search("since=1h"))
                .await
                .unwrap()
                .attempts
                .len(),
            5,
            "{name}"
        );
        assert!(
            journal
                .find(&search("since=0&state=in-flight"))
                .await
                .unwrap()
                .attempts
                .is_empty(),
            "{name}"
        );

        // Settled by a person: the supplier's own outcome stays beside it.
        let resolved = journal
            .resolve(
                ids[0],
                &payhost::PaymentOutcome::new(PaymentState::Failed),
                "no charge on the statement",
                "api:ops",
            )
            .await
            .unwrap();
        assert_eq!(resolved.state, AttemptState::Failed, "{name}");
        assert_eq!(
            resolved
                .supplier_outcome
                .as_ref()
                .and_then(|o| o.supplier_code.as_deref()),
            Some("code-0"),
            "{name}"
        );
        assert!(resolved.resolved_at.is_some(), "{name}");
        assert_eq!(
            found(journal.find(&search("resolved=true")).await.unwrap()),
            vec![ids[0]],
            "{name}"
        );
        assert_eq!(
            journal
                .find(&search("resolved=false"))
                .await
                .unwrap()
                .attempts
                .len(),
            4,
            "{name}"
        );

        // The order's history: a new attempt after the failed one.
        let Begin::New(again) = journal
            .begin("atlas", &keyed("S-0", "s-0-again"), Duration::ZERO)
            .await
            .unwrap()
        else {
            panic!("{name}: not new")
        };
        let (attempt, history) = journal.history(again).await.unwrap();
        assert_eq!(attempt.id, again, "{name}");
        assert_eq!(
            history.iter().map(|a| a.id).collect::<Vec<_>>(),
            vec![ids[0], again],
            "{name}"
        );
        journal.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_outcome_that_comes_after_the_journal_closed_is_kept_beside_its_attempt() {
    // A payment still running when its host's shutdown grace ended: closing
    // made its attempt unknown; the supplier's answer that comes a moment
    // later is written beside it (a late outcome for the operator), not
    // dropped because the journal's writer has stopped.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    let journal = Journal::open(&path).unwrap();
    let Begin::New(id) = journal
        .begin("atlas", &request(&[]), Duration::ZERO)
        .await
        .unwrap()
    else {
        panic!("a new attempt")
    };
    journal.close().await.unwrap();
    let finished = journal
        .finish(id, &payhost::PaymentOutcome::new(PaymentState::Succeeded))
        .await;
    assert!(
        matches!(
            finished,
            Ok(payhost::Finished::Late {
                state: AttemptState::Unknown
            })
        ),
        "{finished:?}"
    );
    drop(journal);
    let attempt = Journal::open(&path).unwrap().get(id).await.unwrap();
    assert_eq!(attempt.state, AttemptState::Unknown);
    assert_eq!(
        attempt.late_outcome.map(|o| o.state),
        Some(PaymentState::Succeeded)
    );
}
