//! Contract 0.3.0: a connector declares where each hidden value goes; the
//! operator grants what its section also names, or, for a file it pinned,
//! what is declared as a whole; `plugins inspect` prints the declared
//! placements as a section to paste.

use crate::support::text;
use payhost::{ContractVersion, Settings};
use payhost_sandbox::demo;
use payhost_sandbox::sim::{Credentials, Simulator};
use payhost_tests::{Workspace, artifacts, cache_dir, payhost_bin};
use sha2::Digest as _;

/// `specs`, each as one comparable line, sorted.
fn lines(specs: &[payhost::PlacementSpec]) -> Vec<String> {
    let mut lines: Vec<String> = specs.iter().map(|s| format!("{s:?}")).collect();
    lines.sort();
    lines
}

#[tokio::test(flavor = "multi_thread")]
async fn the_shipped_connectors_declare_what_the_project_writes_for_them_and_get_all_of_it() {
    let sim = Simulator::start().await.unwrap();
    let ws = Workspace::new();
    for artifact in [
        artifacts::PAYHOST_ATLAS,
        artifacts::PAYHOST_HKRAMBLE,
        artifacts::PAYHOST_AEROHUB,
        artifacts::PAYHOST_NEMO,
    ] {
        ws.plugin(artifact);
    }
    demo::write_secrets(ws.path(), &Credentials::default()).unwrap();
    ws.config(&demo::config(&sim.url(), &cache_dir(), ""));
    let host = ws.host().await;
    for name in ["atlas", "hkramble", "aerohub", "nemo"] {
        let c = host.connector(name).unwrap();
        assert_eq!(c.contract, ContractVersion::V0_3, "{name}");
        let written = demo::placement_specs(name);
        assert!(!written.is_empty(), "{name}");
        assert_eq!(lines(&c.info.placements), lines(&written), "{name}");
        assert_eq!(c.grant.placements.len(), written.len(), "{name}");
        assert!(c.grant.placements_not_allowed.is_empty(), "{name}");
        assert!(c.grant.placements_not_requested.is_empty(), "{name}");
    }
}

/// A section for the 0.3.0 echo thief with Atlas's secrets, `extra` added.
fn thief_section(ws: &Workspace, extra: &str) -> String {
    let id = ws.secret("client_id", "id");
    let secret = ws.secret("client_secret", "secret");
    format!(
        "[connectors.echo-thief]\nbase_url = \"http://127.0.0.1:9\"\nallowed_hosts = [\"http://127.0.0.1:9\"]\nsecrets = {{ client_id = {{ file = \"{id}\" }}, client_secret = {{ file = \"{secret}\" }} }}\n{extra}\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_0_3_0_connector_gets_only_the_declared_placements_its_section_also_names() {
    let ws = Workspace::new();
    ws.plugin(artifacts::ECHO_THIEF_V3);
    // Atlas's placements, written with other spacing and case, and one the
    // thief does not declare.
    let placements = demo::placements("atlas")
        .replace("POST **/pay.do", "post  **/pay.do")
        .replace("header:x-atlas-client-id", "header:X-Atlas-Client-Id")
        .replacen(
            "placements = [",
            "placements = [\n  { value = \"secret:client_id\", request = \"POST /other\", at = \"header:x-other\", encoding = \"raw\" },",
            1,
        );
    ws.config(&thief_section(&ws, &placements));
    let host = ws.host().await;
    let c = host.connector("echo-thief").unwrap();
    assert_eq!(c.contract, ContractVersion::V0_3);
    assert_eq!(c.info.placements.len(), 18, "{:#?}", c.info.placements);
    assert_eq!(c.grant.placements.len(), 4, "{:#?}", c.grant);
    assert!(
        c.grant
            .placements
            .iter()
            .all(|p| !p.contains("orderNo") && !p.contains("x-other")),
        "{:#?}",
        c.grant.placements
    );
    // Its own wishes are declared, not granted.
    assert_eq!(c.grant.placements_not_allowed.len(), 14, "{:#?}", c.grant);
    assert!(
        c.grant
            .placements_not_allowed
            .iter()
            .any(|p| p.contains("card:number at json:/orderNo")),
        "{:#?}",
        c.grant
    );
    assert_eq!(
        c.grant.placements_not_requested,
        vec!["secret:client_id at header:x-other of POST /other (raw)".to_owned()]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn declared_placements_are_granted_whole_only_for_a_file_the_section_pins() {
    let ws = Workspace::new();
    let file = ws.plugin(artifacts::ECHO_THIEF_V3);
    let sha256 = hex::encode(sha2::Sha256::digest(std::fs::read(&file).unwrap()));

    // Not pinned: the configuration is refused, saying how to pin.
    let path = ws.config(&thief_section(&ws, "placements = \"declared\""));
    let e = Settings::load(&path).expect_err("declared without a pin was accepted");
    let e = format!("{e:#}");
    assert!(e.contains("only for a file this section pins"), "{e}");
    assert!(e.contains("sha256"), "{e}");

    // Pinned by SHA-256: everything it declares is granted.
    ws.config(&thief_section(
        &ws,
        &format!("placements = \"declared\"\nsha256 = \"{sha256}\""),
    ));
    let host = ws.host().await;
    let c = host.connector("echo-thief").unwrap();
    assert_eq!(c.grant.placements.len(), 18, "{:#?}", c.grant);
    assert!(c.grant.placements_not_allowed.is_empty());

    // A 0.2.0 connector declares nothing to accept.
    let ws = Workspace::new();
    let file = ws.plugin(artifacts::ECHO_THIEF);
    let sha256 = hex::encode(sha2::Sha256::digest(std::fs::read(&file).unwrap()));
    ws.config(&thief_section(
        &ws,
        &format!("placements = \"declared\"\nsha256 = \"{sha256}\""),
    ));
    let host = payhost_tests::host(Settings::load(&ws.path().join("payhost.toml")).unwrap());
    let e = host
        .load_file(&file)
        .await
        .expect_err("a 0.2.0 connector was granted declared placements");
    assert!(e.reason.contains("declares none"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_section_naming_no_declared_placement_is_refused_at_load() {
    let ws = Workspace::new();
    let file = ws.plugin(artifacts::ECHO_THIEF_V3);
    ws.config(&thief_section(
        &ws,
        "placements = [{ value = \"secret:client_id\", request = \"POST /other\", at = \"header:x-other\", encoding = \"raw\" }]",
    ));
    let host = payhost_tests::host(Settings::load(&ws.path().join("payhost.toml")).unwrap());
    let e = host
        .load_file(&file)
        .await
        .expect_err("a section granting nothing it declares was accepted");
    assert!(
        e.reason
            .contains("names no placement this connector declares"),
        "{e}"
    );
}

#[test]
fn inspect_prints_the_declared_placements_as_a_section_that_pastes_and_grants_them() {
    let ws = Workspace::new();
    let file = ws.plugin(artifacts::PAYHOST_ATLAS);
    let out = std::process::Command::new(payhost_bin())
        .current_dir(ws.path())
        .args(["plugins", "inspect", file.to_str().unwrap()])
        .output()
        .unwrap();
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    let section: String = String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip_while(|l| !l.starts_with("[connectors.atlas]"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(section.contains("placements = ["), "{t}");
    let sha256 = hex::encode(sha2::Sha256::digest(std::fs::read(&file).unwrap()));
    assert!(section.contains(&format!("sha256 = \"{sha256}\"")), "{t}");

    // Pasted as it is, with the values filled in.
    let id = ws.secret("client_id", "id");
    let secret = ws.secret("client_secret", "secret");
    let filled = section
        .replace("base_url = \"\"", "base_url = \"http://127.0.0.1:9\"")
        .replace(
            "allowed_hosts = [",
            "allowed_hosts = [\"http://127.0.0.1:9\", ",
        )
        .replace(
            "{ env = \"ATLAS_CLIENT_ID\" }",
            &format!("{{ file = \"{id}\" }}"),
        )
        .replace(
            "{ env = \"ATLAS_CLIENT_SECRET\" }",
            &format!("{{ file = \"{secret}\" }}"),
        );
    ws.config(&filled);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let host = ws.host().await;
        let c = host.connector("atlas").unwrap();
        assert_eq!(c.grant.placements.len(), 4, "{filled}\n{:#?}", c.grant);
        assert!(c.grant.placements_not_allowed.is_empty(), "{filled}");
    });
}
