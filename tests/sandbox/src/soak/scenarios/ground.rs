//! The SQLite journal's ground: its lock held by another process, its disk
//! full, its file or WAL deleted under the host.

use super::super::client::load;
use super::super::ledger::Ledger;
use super::super::stage::{Stage, free_port};
use super::super::{Ctx, Row};
use super::{settle, told};
use anyhow::Context as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Another process's connection takes the journal's write lock (`BEGIN
/// IMMEDIATE`) for `held` under load; lease 3 s for 12 s, 15 s for 25 s.
pub(super) async fn locked(ctx: &Ctx, held: Duration) -> anyhow::Result<Row> {
    let (lease, wait) = if held > Duration::from_secs(15) {
        (15, 5)
    } else {
        (3, 1)
    };
    let stage = Stage::new(
        ctx,
        &format!("lease = \"{lease}s\"\njournal_wait = \"{wait}s\""),
        "",
    )?;
    let lease = Duration::from_secs(lease);
    let server = stage.serve(free_port()?, false).await?;
    let hosts = vec![server.url.clone()];
    let ledger = Ledger::default();
    let until = Instant::now() + held + Duration::from_secs(120);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let journal = stage.path().join("payhost.db");
    let holder = async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let journal = journal.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let conn = rusqlite::Connection::open(&journal)?;
            conn.busy_timeout(Duration::from_secs(10))?;
            conn.execute_batch("BEGIN IMMEDIATE")?;
            std::thread::sleep(held);
            conn.execute_batch("ROLLBACK")?;
            Ok(())
        })
        .await??;
        tokio::time::sleep(Duration::from_secs(4)).await;
        let _ = stop.send(true);
        anyhow::Ok(())
    };
    let (held_ok, ()) = tokio::join!(holder, load(ctx, &hosts, 12, &stopped, until, 4, &ledger));
    held_ok?;
    let scenario = if held > Duration::from_secs(15) {
        "sqlite-locked-25s"
    } else {
        "sqlite-locked-12s"
    };
    let note = format!(
        "lock held {} s; clients told {}",
        held.as_secs(),
        told(&ledger)
    );
    settle(ctx, scenario, &stage, &ledger, lease, 0, note).await
}

/// A small tmpfs mounted at a directory; unmounted when dropped.
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(at: &Path, size: &str) -> anyhow::Result<Mount> {
        std::fs::create_dir_all(at)?;
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status()
            .context("cannot run mount")?;
        anyhow::ensure!(
            status.success(),
            "the full-disk scenario mounts a {size} tmpfs and could not ({status}): run the soak as root, or leave it out with --only"
        );
        Ok(Mount(at.to_owned()))
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// Fills the filesystem of `dir` with a file until it refuses another byte.
fn fill(dir: &Path) -> std::io::Result<PathBuf> {
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path)?;
    let block = vec![0u8; 4096];
    while file
        .write_all(&block)
        .and_then(|()| file.sync_data())
        .is_ok()
    {}
    while file.write_all(&block[..64]).is_ok() {}
    Ok(path)
}

/// The journal on a 16 MiB filesystem (room for its WAL between
/// checkpoints), filled to the last byte under load for 5 s, then freed.
pub(super) async fn full_disk(ctx: &Ctx) -> anyhow::Result<Row> {
    let lease = Duration::from_secs(3);
    let stage = Stage::new(
        ctx,
        "journal = \"disk/payhost.db\"\nlease = \"3s\"\njournal_wait = \"1s\"",
        "",
    )?;
    let disk = stage.path().join("disk");
    let mount = Mount::tmpfs(&disk, "16m")?;
    let mut server = stage.serve(free_port()?, false).await?;
    let hosts = vec![server.url.clone()];
    let ledger = Ledger::default();
    let until = Instant::now() + Duration::from_secs(120);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let filler = async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let disk = disk.clone();
        let filler = tokio::task::spawn_blocking(move || fill(&disk)).await??;
        tokio::time::sleep(Duration::from_secs(5)).await;
        std::fs::remove_file(filler)?;
        tokio::time::sleep(Duration::from_secs(4)).await;
        let _ = stop.send(true);
        anyhow::Ok(())
    };
    let (filled, ()) = tokio::join!(filler, load(ctx, &hosts, 8, &stopped, until, 4, &ledger));
    filled?;
    let note = format!("disk full for 5 s; clients told {}", told(&ledger));
    let row = settle(ctx, "full-disk", &stage, &ledger, lease, 0, note).await;
    server.kill().await;
    drop(mount);
    row
}

/// Deletes `files` of the journal under load; the host stops taking
/// payments, and the operator restarts it as its log says (moving the
/// rescued copy into place when the journal's file itself is still there).
pub(super) async fn deleted(ctx: &Ctx, files: &[&str]) -> anyhow::Result<Row> {
    let lease = Duration::from_secs(2);
    let stage = Stage::new(ctx, "lease = \"2s\"\njournal_wait = \"500ms\"", "")?;
    let port = free_port()?;
    let mut server = stage.serve(port, false).await?;
    let hosts = vec![server.url.clone()];
    let ledger = Ledger::default();
    let until = Instant::now() + Duration::from_secs(120);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut restarted = String::new();
    let operator = async {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        for f in files {
            std::fs::remove_file(stage.path().join(f))
                .with_context(|| format!("cannot delete {f}"))?;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        server.kill().await;
        restarted = adopt_rescued(stage.path())?;
        server = stage.serve(port, false).await?;
        tokio::time::sleep(Duration::from_secs(3)).await;
        let _ = stop.send(true);
        anyhow::Ok(())
    };
    let (done, ()) = tokio::join!(operator, load(ctx, &hosts, 8, &stopped, until, 4, &ledger));
    done?;
    let noticed = stage.log_count("this host takes no more payments");
    let scenario = if files.len() == 1 {
        "wal-deleted"
    } else {
        "journal-deleted"
    };
    let note = format!(
        "{} deleted; the host {}; {restarted}; clients told {}",
        files.join(" and "),
        if noticed > 0 {
            "noticed and took no more payments"
        } else {
            "DID NOT NOTICE"
        },
        told(&ledger)
    );
    settle(
        ctx,
        scenario,
        &stage,
        &ledger,
        lease,
        u64::from(noticed == 0),
        note,
    )
    .await
}

/// What the operator does before restarting when the host left its journal
/// in a copy beside a `.moved` marker: keeps the copy as the journal.
fn adopt_rescued(dir: &Path) -> anyhow::Result<String> {
    let marker = dir.join("payhost.db.moved");
    if !marker.exists() {
        return Ok("restarted on the journal linked back at its path".to_owned());
    }
    let copy = std::fs::read_dir(dir)?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("payhost.db.rescued-"))
        })
        .context("the host left a .moved marker and no rescued copy")?;
    for f in ["payhost.db-wal", "payhost.db-shm"] {
        let _ = std::fs::remove_file(dir.join(f));
    }
    std::fs::rename(&copy, dir.join("payhost.db"))?;
    std::fs::remove_file(marker)?;
    Ok("restarted on the rescued copy, moved into place as the marker says".to_owned())
}
