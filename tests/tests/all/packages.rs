//! Signed packages: where an operator names a connector's publishers, only
//! packages signed by one of them load; a tampered package is refused
//! wherever it goes; a reload that lowers the version is refused unless
//! the operator allows it.

use crate::serve::workspace;
use crate::support::text;
use payhost::Settings;
use payhost_sandbox::sim::Simulator;
use payhost_tests::{artifacts, payhost_bin};
use std::path::Path;
use std::process::{Command, Output};

fn payhost(args: &[&str], config: &Path) -> Output {
    Command::new(payhost_bin())
        .args(args)
        .arg("--config")
        .arg(config)
        .output()
        .expect("running payhost")
}

/// A new key in `dir`: its file and its public key.
fn keygen(dir: &Path, name: &str, config: &Path) -> (String, String) {
    let file = dir.join(name);
    let out = payhost(
        &["plugins", "keygen", "--out", file.to_str().unwrap()],
        config,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let public = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("public key: ").map(str::to_owned))
        .expect("keygen prints the public key");
    (file.to_str().unwrap().to_owned(), public)
}

fn package(wasm: &str, key: &str, out: &Path, config: &Path) {
    let o = payhost(
        &[
            "plugins",
            "package",
            wasm,
            "--key",
            key,
            "--out",
            out.to_str().unwrap(),
        ],
        config,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[tokio::test(flavor = "multi_thread")]
async fn where_a_publisher_is_named_only_its_signed_packages_load() {
    let sim = Simulator::start().await.unwrap();
    let dir = workspace(&sim, &[artifacts::PAYHOST_ATLAS]);
    let config = dir.path().join("payhost.toml");
    let (key, public) = keygen(dir.path(), "publisher.key", &config);
    let signed = dir.path().join("atlas-signed.wasm");
    package(artifacts::PAYHOST_ATLAS, &key, &signed, &config);
    let text_config = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text_config.replacen(
            "[connectors.atlas]\n",
            &format!("[connectors.atlas]\npublishers = [{public:?}]\n"),
            1,
        ),
    )
    .unwrap();
    let check = |file: &Path| {
        payhost(
            &["plugins", "check", "--with-config", file.to_str().unwrap()],
            &config,
        )
    };

    // The plain component is refused here.
    let out = check(Path::new(artifacts::PAYHOST_ATLAS));
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).contains("is not a signed package"),
        "{}",
        text(&out)
    );
    // Judged alone, the file is a connector.
    let out = payhost(&["plugins", "check", artifacts::PAYHOST_ATLAS], &config);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // The signed package loads, shows its publisher and pays.
    let out = check(&signed);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = payhost(&["plugins", "inspect", signed.to_str().unwrap()], &config);
    assert!(
        text(&out).contains(&format!("{public} (signature verified)")),
        "{}",
        text(&out)
    );
    std::fs::copy(&signed, dir.path().join("plugins/atlas.wasm")).unwrap();
    let out = payhost(
        &[
            "pay",
            "--connector",
            "atlas",
            "--order",
            "ATL-OK-PKG",
            "--amount",
            "312.99",
            "--currency",
            "USD",
        ],
        &config,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // One byte of the component changed after signing: refused.
    let mut bytes = std::fs::read(&signed).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    let tampered = dir.path().join("tampered.wasm");
    std::fs::write(&tampered, &bytes).unwrap();
    let out = check(&tampered);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).contains("changed after signing"),
        "{}",
        text(&out)
    );

    // Signed, but by somebody else: refused.
    let (other_key, other_public) = keygen(dir.path(), "other.key", &config);
    let other = dir.path().join("atlas-other.wasm");
    package(artifacts::PAYHOST_ATLAS, &other_key, &other, &config);
    let out = check(&other);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("is signed by {other_public}, not by a publisher")),
        "{}",
        text(&out)
    );

    // A tampered package is refused even where no publisher is named.
    std::fs::write(&config, text_config).unwrap();
    let out = check(&tampered);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reload_that_lowers_the_version_is_refused_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let atlas = std::fs::read(artifacts::PAYHOST_ATLAS).unwrap();
    // The same connector declaring 0.9.0 instead of 1.0.0.
    let at = atlas
        .windows(5)
        .position(|w| w == b"1.0.0")
        .expect("the version in the component");
    let mut older = atlas.clone();
    older[at..at + 5].copy_from_slice(b"0.9.0");
    let (new, old) = (dir.path().join("atlas.wasm"), dir.path().join("older.wasm"));
    std::fs::write(&new, &atlas).unwrap();
    std::fs::write(&old, &older).unwrap();
    for (allow, refused) in [("", true), ("allow_downgrade = true\n", false)] {
        let settings = Settings::parse(&format!(
            "[connectors.atlas]\nbase_url = \"http://127.0.0.1:1\"\n{allow}{}",
            payhost_sandbox::demo::placements("atlas")
        ))
        .unwrap();
        let host = payhost_tests::host(settings);
        host.load_file(&new).await.unwrap();
        let reload = host.load_file(&old).await;
        let live = host.connector("atlas").unwrap().info.version.clone();
        if refused {
            let e = reload.expect_err("the downgrade was accepted");
            assert!(e.reason.contains("a downgrade is refused"), "{e}");
            assert_eq!(live, "1.0.0");
        } else {
            reload.unwrap();
            assert_eq!(live, "0.9.0");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_manifest_that_differs_from_what_the_component_asks_is_refused() {
    // Signed by its publisher, but listing fewer hosts, or fewer
    // placements, than the component declares in info(): what the operator
    // reviewed is not what runs.
    let key = payhost::package::PublisherKey::generate().unwrap();
    let hosts: Vec<String> = [
        "https://sandbox.atriptech.com",
        "https://*.atriptech.com",
        "config:base_url",
    ]
    .map(str::to_owned)
    .to_vec();
    let placements = payhost_sandbox::demo::placement_specs("atlas");
    assert_eq!(placements.len(), 4);
    let manifest =
        |hosts: Vec<String>, placements: Vec<payhost::PlacementSpec>| payhost::package::Manifest {
            name: "atlas".into(),
            version: "1.0.0".into(),
            contract: "payhost:connector@0.3.0".into(),
            sha256: String::new(),
            hosts,
            secrets: vec!["client_id".into(), "client_secret".into()],
            config_keys: vec!["base_url".into(), "request_source".into()],
            placements,
            section: String::new(),
            publisher: String::new(),
        };
    let atlas = std::fs::read(artifacts::PAYHOST_ATLAS).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let host = payhost_tests::host(Settings::default());
    let file = dir.path().join("atlas.wasm");
    // The faithful manifest loads: the refusals below are for what differs.
    let signed =
        payhost::package::sign(&atlas, manifest(hosts.clone(), placements.clone()), &key).unwrap();
    std::fs::write(&file, signed).unwrap();
    host.load_file(&file)
        .await
        .expect("a faithful manifest loads");
    for (what, wrong) in [
        ("hosts", manifest(hosts[2..].to_vec(), placements.clone())),
        (
            "placements",
            manifest(hosts.clone(), placements[1..].to_vec()),
        ),
    ] {
        let signed = payhost::package::sign(&atlas, wrong, &key).unwrap();
        std::fs::write(&file, signed).unwrap();
        let e = host
            .load_file(&file)
            .await
            .expect_err(&format!("a manifest that hides {what} was accepted"));
        assert!(
            e.reason.contains("differ from what the component asks"),
            "{what}: {e}"
        );
    }
}

#[test]
fn a_call_time_limit_over_a_day_is_refused() {
    for key in ["timeout", "cpu"] {
        let e = Settings::parse(&format!("[limits]\n{key} = \"100y\"\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("at most 24h"), "{key}: {e}");
    }
}

#[test]
fn the_sdk_carries_the_contract_as_it_is() {
    // The SDK crate ships the current contract inside it (a crate on a
    // registry cannot reach outside its folder): the same files as `wit/`.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(root.join("wit")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "wit") {
            let name = path.file_name().unwrap().to_owned();
            let inside = root.join("plugins/sdk/wit").join(&name);
            assert_eq!(
                std::fs::read_to_string(&path).unwrap(),
                std::fs::read_to_string(&inside).unwrap_or_default(),
                "plugins/sdk/wit/{} differs from wit/: copy wit/*.wit into plugins/sdk/wit/",
                name.to_string_lossy()
            );
            names.push(name);
        }
    }
    let inside = std::fs::read_dir(root.join("plugins/sdk/wit"))
        .unwrap()
        .count();
    assert_eq!(
        inside,
        names.len(),
        "plugins/sdk/wit/ holds files wit/ does not"
    );
}
