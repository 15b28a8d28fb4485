//! The plugin directory changing under load: files broken, removed,
//! duplicated, unreadable, replaced, and put back.

use super::super::client::{http, load};
use super::super::ledger::Ledger;
use super::super::stage::{CONNECTORS, Stage, free_port};
use super::super::{Ctx, Row};
use super::{settle, told};
use std::path::Path;
use std::time::{Duration, Instant};

/// One change to the directory.
type Phase = (&'static str, fn(&Path, &Path) -> std::io::Result<()>);

/// A connector's good bytes, from the options' plugin directory.
fn good(from: &Path, name: &str) -> std::io::Result<Vec<u8>> {
    std::fs::read(from.join(format!("{name}.wasm")))
}

/// Writes `bytes` to `dir/name` as an editor would: in place.
fn put(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(dir.join(name), bytes)
}

/// Sets `path`'s permission bits.
fn mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

/// The 27 phases, each given the plugin directory and the good files.
const PHASES: [Phase; 27] = [
    ("atlas.wasm overwritten with garbage", |d, _| {
        put(d, "atlas.wasm", &[0x5a; 4096])
    }),
    ("atlas.wasm restored", |d, g| {
        put(d, "atlas.wasm", &good(g, "atlas")?)
    }),
    ("hkramble.wasm cut in half", |d, g| {
        let b = good(g, "hkramble")?;
        put(d, "hkramble.wasm", &b[..b.len() / 2])
    }),
    ("hkramble.wasm restored", |d, g| {
        put(d, "hkramble.wasm", &good(g, "hkramble")?)
    }),
    ("aerohub.wasm emptied", |d, _| put(d, "aerohub.wasm", b"")),
    ("aerohub.wasm restored", |d, g| {
        put(d, "aerohub.wasm", &good(g, "aerohub")?)
    }),
    ("nemo.wasm removed", |d, _| {
        std::fs::remove_file(d.join("nemo.wasm"))
    }),
    ("nemo.wasm back", |d, g| {
        put(d, "nemo.wasm", &good(g, "nemo")?)
    }),
    ("a second file claiming atlas", |d, g| {
        put(d, "atlas-copy.wasm", &good(g, "atlas")?)
    }),
    ("the second atlas removed", |d, _| {
        std::fs::remove_file(d.join("atlas-copy.wasm"))
    }),
    ("atlas.wasm unreadable", |d, _| {
        mode(&d.join("atlas.wasm"), 0o000)
    }),
    ("atlas.wasm readable again", |d, _| {
        mode(&d.join("atlas.wasm"), 0o644)
    }),
    ("hkramble.wasm renamed away", |d, _| {
        std::fs::rename(d.join("hkramble.wasm"), d.join("hkramble.wasm.off"))
    }),
    ("hkramble.wasm renamed back", |d, _| {
        std::fs::rename(d.join("hkramble.wasm.off"), d.join("hkramble.wasm"))
    }),
    ("atlas.wasm holding HK Ramble's connector", |d, g| {
        put(d, "atlas.wasm", &good(g, "hkramble")?)
    }),
    ("atlas.wasm restored", |d, g| {
        put(d, "atlas.wasm", &good(g, "atlas")?)
    }),
    ("atlas.wasm written in four slow pieces", |d, g| {
        use std::io::Write as _;
        let b = good(g, "atlas")?;
        let mut f = std::fs::File::create(d.join("atlas.wasm"))?;
        for piece in b.chunks(b.len().div_ceil(4)) {
            f.write_all(piece)?;
            f.flush()?;
            std::thread::sleep(Duration::from_millis(120));
        }
        Ok(())
    }),
    ("a directory named like a connector", |d, _| {
        std::fs::create_dir(d.join("folder.wasm"))
    }),
    ("the directory removed", |d, _| {
        std::fs::remove_dir(d.join("folder.wasm"))
    }),
    ("a link to /etc/passwd named evil.wasm", |d, _| {
        std::os::unix::fs::symlink("/etc/passwd", d.join("evil.wasm"))
    }),
    ("the link removed", |d, _| {
        std::fs::remove_file(d.join("evil.wasm"))
    }),
    ("a 20 MiB garbage file", |d, _| {
        put(d, "big.wasm", &vec![0x11; 20 << 20])
    }),
    ("the garbage file removed", |d, _| {
        std::fs::remove_file(d.join("big.wasm"))
    }),
    ("all four touched, the same bytes", |d, g| {
        for name in CONNECTORS {
            put(d, &format!("{name}.wasm"), &good(g, name)?)?;
        }
        Ok(())
    }),
    ("all four removed", |d, _| {
        for name in CONNECTORS {
            std::fs::remove_file(d.join(format!("{name}.wasm")))?;
        }
        Ok(())
    }),
    ("all four back", |d, g| {
        for name in CONNECTORS {
            put(d, &format!("{name}.wasm"), &good(g, name)?)?;
        }
        Ok(())
    }),
    ("aerohub.wasm replaced by an atomic rename", |d, g| {
        put(d, ".aerohub.tmp", &good(g, "aerohub")?)?;
        std::fs::rename(d.join(".aerohub.tmp"), d.join("aerohub.wasm"))
    }),
];

/// The 27 phases, 600 ms apart, under twelve careful clients paying at the
/// four connectors; at the end the four must be live again.
pub(super) async fn faults(ctx: &Ctx) -> anyhow::Result<Row> {
    let stage = Stage::new(ctx, "lease = \"2s\"\njournal_wait = \"500ms\"", "")?;
    let server = stage.serve(free_port()?, false).await?;
    let hosts = vec![server.url.clone()];
    let ledger = Ledger::default();
    let until = Instant::now() + Duration::from_secs(120);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let dir = stage.path().join("plugins");
    let from = ctx.opts.plugins.clone();
    let mut failed = Vec::new();
    let changer = async {
        for (what, phase) in PHASES {
            tokio::time::sleep(Duration::from_millis(600)).await;
            let (d, f) = (dir.clone(), from.clone());
            if let Err(e) = tokio::task::spawn_blocking(move || phase(&d, &f)).await? {
                failed.push(format!("{what}: {e}"));
            }
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        let _ = stop.send(true);
        anyhow::Ok(())
    };
    let (changed, ()) = tokio::join!(changer, load(ctx, &hosts, 12, &stopped, until, 8, &ledger));
    changed?;
    anyhow::ensure!(failed.is_empty(), "phases could not be applied: {failed:?}");
    // All four live again within 10 s.
    let http = http();
    let started = Instant::now();
    let live = loop {
        let live = match http
            .get(format!("{}/v1/connectors", server.url))
            .send()
            .await
        {
            Ok(r) => r.json::<serde_json::Value>().await.ok().map_or(0, |v| {
                v["connectors"].as_array().map_or(0, |c| {
                    CONNECTORS
                        .iter()
                        .filter(|n| c.iter().any(|x| x["name"] == **n))
                        .count()
                })
            }),
            Err(_) => 0,
        };
        if live == CONNECTORS.len() || started.elapsed() > Duration::from_secs(10) {
            break live;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let note = format!(
        "27 phases; {} refused unknown_connector while a file was away; {live} of 4 live at the end; clients told {}",
        ledger.refused("unknown_connector"),
        told(&ledger)
    );
    let wrong = (CONNECTORS.len() - live) as u64;
    settle(
        ctx,
        "plugin-faults",
        &stage,
        &ledger,
        Duration::from_secs(2),
        wrong,
        note,
    )
    .await
}
