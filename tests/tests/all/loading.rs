//! Loading: every file that is not a connector this host can run is refused
//! with an error that names the file and says why.

use crate::support::probe;
use payhost::{LoadKind, Settings, SettingsError};
use payhost_tests::{Workspace, artifacts, host};

async fn load_error(ws: &Workspace, file: &std::path::Path) -> String {
    let settings = Settings::load(&ws.path().join("payhost.toml")).unwrap_or_default();
    let err = host(settings)
        .check_file(file)
        .await
        .expect_err("the file must be refused");
    let text = err.to_string();
    assert!(
        text.starts_with(&file.display().to_string()),
        "the error names the file: {text}"
    );
    text
}

/// The kind of the load failure of `file`.
async fn load_kind(ws: &Workspace, file: &std::path::Path) -> LoadKind {
    let settings = Settings::load(&ws.path().join("payhost.toml")).unwrap_or_default();
    host(settings)
        .check_file(file)
        .await
        .expect_err("the file must be refused")
        .kind
}

#[tokio::test]
async fn a_load_failure_says_what_kind_it_is() {
    let ws = Workspace::new();
    let garbage = ws.path().join("plugins/garbage.wasm");
    std::fs::write(&garbage, b"this is not wasm").unwrap();
    assert_eq!(load_kind(&ws, &garbage).await, LoadKind::NotAComponent);
    let wrong = ws.plugin(artifacts::WRONG_CONTRACT);
    assert_eq!(load_kind(&ws, &wrong).await, LoadKind::Contract);
    let lie = ws.plugin(artifacts::INFO_LIE);
    assert_eq!(load_kind(&ws, &lie).await, LoadKind::Info);
    let gone = ws.path().join("plugins/gone.wasm");
    assert_eq!(load_kind(&ws, &gone).await, LoadKind::File);
}

#[tokio::test]
async fn files_that_are_not_components_are_refused() {
    let ws = Workspace::new();
    let garbage = ws.path().join("plugins/garbage.wasm");
    std::fs::write(&garbage, b"this is not wasm").unwrap();
    assert!(
        load_error(&ws, &garbage).await.contains(
            "is not a WebAssembly component (it does not start with the `\\0asm` header)"
        )
    );

    let module = ws.path().join("plugins/module.wasm");
    std::fs::write(&module, b"\0asm\x01\0\0\0").unwrap();
    assert!(load_error(&ws, &module).await.contains("is a core WebAssembly module, not a component: build the connector with `cargo build --release --target wasm32-wasip2`"));
}

#[tokio::test]
async fn a_component_of_another_contract_version_is_refused() {
    let ws = Workspace::new();
    let file = ws.plugin(artifacts::WRONG_CONTRACT);
    let text = load_error(&ws, &file).await;
    assert!(
        text.contains(
            "is built for contract payhost:connector@9.0.0; this host runs payhost:connector@0.3.0"
        ),
        "{text}"
    );
}

/// The names a component imports.
pub(crate) fn component_imports(file: &str) -> Vec<String> {
    let bytes = std::fs::read(file).unwrap();
    let mut names = Vec::new();
    let mut depth = 0;
    for payload in wasmparser::Parser::new(0).parse_all(&bytes) {
        match payload.unwrap() {
            wasmparser::Payload::ModuleSection { .. }
            | wasmparser::Payload::ComponentSection { .. } => depth += 1,
            wasmparser::Payload::End(_) => depth -= 1,
            // The outer component's own imports (depth 0 until its end).
            wasmparser::Payload::ComponentImportSection(imports) if depth == 0 => {
                for import in imports {
                    names.push(import.unwrap().name.name.to_owned());
                }
            }
            _ => {}
        }
    }
    names
}

#[test]
fn the_shipped_connectors_import_the_contract_and_no_wasi() {
    for (name, file) in [
        ("atlas", artifacts::PAYHOST_ATLAS),
        ("hkramble", artifacts::PAYHOST_HKRAMBLE),
        ("aerohub", artifacts::PAYHOST_AEROHUB),
        ("nemo", artifacts::PAYHOST_NEMO),
    ] {
        let imports = component_imports(file);
        assert!(
            imports
                .iter()
                .any(|i| i.starts_with("payhost:connector/http@")),
            "{name}: {imports:?}"
        );
        assert!(
            imports.iter().all(|i| i.starts_with("payhost:connector/")),
            "{name} imports more than the contract: {imports:?}"
        );
    }
    // A connector built for wasm32-wasip2 imports WASI: the check sees it.
    assert!(
        component_imports(artifacts::PROBE)
            .iter()
            .any(|i| i.starts_with("wasi:")),
        "the probe's imports show no WASI"
    );
}

#[tokio::test]
async fn an_info_that_traps_or_lies_is_refused() {
    for (artifact, expected) in [
        // Built for wasm32-unknown-unknown: its panic reaches the host
        // through the log, not standard error, and still explains the trap.
        (artifacts::INFO_TRAP, "its info() trapped: "),
        (artifacts::INFO_TRAP, " (panicked at "),
        (artifacts::INFO_TRAP, ": info() is broken on purpose)"),
        (
            artifacts::INFO_LIE,
            "its info() is invalid: name `Not A Valid Name!` must be 1 to 32 lower-case letters",
        ),
    ] {
        let ws = Workspace::new();
        let file = ws.plugin(artifact);
        let text = load_error(&ws, &file).await;
        assert!(text.contains(expected), "{text}");
    }
}

#[test]
fn a_bad_payhost_toml_names_the_right_key() {
    let ws = Workspace::new();
    let path = ws.config("[host]\nplugin = \"plugins\"\n");
    let err = Settings::load(&path).unwrap_err();
    assert!(matches!(err, SettingsError::Invalid { .. }));
    let text = err.to_string();
    assert!(
        text.contains("payhost.toml is not valid")
            && text.contains("unknown field `plugin`")
            && text.contains("`plugins`"),
        "{text}"
    );
}

#[tokio::test]
async fn an_unknown_config_key_or_secret_in_a_connector_section_is_refused() {
    let (ws, _) = probe("https://probe.example.com", &[], "base_ulr = \"https://x\"");
    let text = load_error(&ws, &ws.path().join("plugins/probe.wasm")).await;
    assert!(
        text.contains(
            "[connectors.probe] in payhost.toml: unknown key `base_ulr`; did you mean `base_url`?"
        ),
        "{text}"
    );
}

#[tokio::test]
async fn the_grant_is_what_the_connector_asks_for_and_the_operator_allows() {
    let (ws, _) = probe(
        "http://127.0.0.1:9",
        &[
            "http://127.0.0.1:9",
            "https://probe.example.com",
            "https://elsewhere.example.com",
        ],
        "",
    );
    let host = ws.host().await;
    let probe = host.connector("probe").unwrap();
    assert_eq!(
        probe.info.hosts,
        ["config:base_url", "https://probe.example.com"]
    );
    assert_eq!(
        probe.grant.hosts,
        ["http://127.0.0.1:9", "https://probe.example.com"]
    );
    assert_eq!(
        probe.grant.hosts_not_requested,
        ["https://elsewhere.example.com"]
    );
    assert_eq!(
        probe.grant.secrets,
        ["aes_key", "hmac_key", "nemo_key", "token"]
    );
}

/// A workspace with the probe, and its section with `extra`.
fn probe_workspace(extra: &str) -> Workspace {
    let ws = Workspace::new();
    ws.plugin(artifacts::PROBE);
    ws.config(&format!(
        "[host]\nplugins = \"plugins\"\ncache = {:?}\n\n[connectors.probe]\nbase_url = \"https://probe.example.com\"\nunpinned = true\n{extra}\n",
        payhost_tests::cache_dir().display().to_string()
    ));
    ws
}

/// The probe's bytes with a custom section appended: another file (another
/// SHA-256) that declares the same name.
fn squatter(ws: &Workspace, name: &str) -> std::path::PathBuf {
    let mut bytes = std::fs::read(artifacts::PROBE).unwrap();
    bytes.extend_from_slice(&[0, 4, 3, b's', b'q', b'u']);
    let path = ws.path().join("plugins").join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn sha256_hex(path: &str) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

#[tokio::test]
async fn two_files_declaring_one_name_both_stay_out_until_one_goes() {
    let ws = probe_workspace("");
    let update = squatter(&ws, "00-partner-update.wasm");
    let settings = Settings::load(&ws.path().join("payhost.toml")).unwrap();
    let host = host(settings);
    let results = host.load_plugins().await;
    assert_eq!(results.len(), 2);
    for r in &results {
        let error = r.as_ref().unwrap_err().to_string();
        assert!(
            error.contains("declares the name `probe`, as do")
                && error.contains("none of them is live"),
            "{error}"
        );
    }
    assert!(host.connectors().is_empty());
    assert_eq!(host.registry().conflicts(), 1);
    assert!(
        host.pay("probe", payhost_tests::request(&[]))
            .await
            .is_err()
    );
    // One goes: the other is live.
    std::fs::remove_file(update).unwrap();
    host.scan().await.unwrap();
    assert_eq!(
        host.connector("probe").unwrap().file,
        ws.path().join("plugins").join("probe.wasm")
    );
    assert_eq!(host.registry().conflicts(), 0);
}

#[tokio::test]
async fn a_pinned_section_goes_only_to_its_file() {
    for pin in [
        format!("sha256 = {:?}", sha256_hex(artifacts::PROBE)),
        "file = \"probe.wasm\"".to_owned(),
    ] {
        let ws = probe_workspace(&pin);
        squatter(&ws, "00-partner-update.wasm");
        let settings = Settings::load(&ws.path().join("payhost.toml")).unwrap();
        let host = host(settings);
        let results = host.load_plugins().await;
        let errors: Vec<String> = results
            .iter()
            .filter_map(|r| r.as_ref().err().map(ToString::to_string))
            .collect();
        assert_eq!(errors.len(), 1, "{pin}: {errors:?}");
        assert!(
            errors[0].contains("00-partner-update.wasm")
                && errors[0].contains("it does not get that section"),
            "{pin}: {}",
            errors[0]
        );
        assert_eq!(
            host.connector("probe").unwrap().file,
            ws.path().join("plugins").join("probe.wasm"),
            "{pin}"
        );
    }
}

fn host_with_cache(ws: &Workspace, cache: &std::path::Path) -> payhost::Host {
    let settings = Settings::load(&ws.path().join("payhost.toml")).unwrap();
    payhost::Host::new(
        settings,
        &payhost::RuntimeOptions {
            cache_dir: Some(cache.to_owned()),
            max_instances: 16,
            ..payhost::RuntimeOptions::default()
        },
    )
    .unwrap()
}

#[tokio::test]
async fn connectors_built_with_the_same_sdk_share_compiled_functions_and_stay_themselves() {
    let ws = probe_workspace("");
    let hostile = ws.plugin(artifacts::HOSTILE);
    let probe_file = ws.path().join("plugins").join("probe.wasm");
    let host = host_with_cache(&ws, &ws.path().join("cache"));
    let probe = host.check_file(&probe_file).await.unwrap();
    assert_eq!(probe.cache, payhost::CacheOutcome::Compiled);
    let (reused_before, compiled) = host.runtime().compiled_functions();
    assert!(compiled > 0, "the probe's functions were compiled");
    let loaded = host.check_file(&hostile).await.unwrap();
    assert_eq!(loaded.cache, payhost::CacheOutcome::Compiled);
    assert_eq!(loaded.info.name, "hostile", "its own code, not the probe's");
    assert_eq!(probe.info.name, "probe");
    let (reused, _) = host.runtime().compiled_functions();
    assert!(
        reused > reused_before,
        "the second connector reused functions compiled for the first ({reused_before} then {reused})"
    );
}

#[tokio::test]
async fn a_cache_entry_copied_over_another_is_recompiled_never_loaded() {
    let ws = probe_workspace("");
    let hostile = ws.plugin(artifacts::HOSTILE);
    let probe_file = ws.path().join("plugins").join("probe.wasm");
    let cache = ws.path().join("cache");
    let host = host_with_cache(&ws, &cache);
    assert_eq!(
        host.check_file(&probe_file).await.unwrap().cache,
        payhost::CacheOutcome::Compiled
    );
    assert_eq!(
        host.check_file(&hostile).await.unwrap().cache,
        payhost::CacheOutcome::Compiled
    );
    assert_eq!(
        host.check_file(&hostile).await.unwrap().cache,
        payhost::CacheOutcome::Hit
    );
    let entry = |file: &str, ext: &str| {
        let sha = sha256_hex(file);
        std::fs::read_dir(&cache)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                name.starts_with(&sha) && name.ends_with(ext)
            })
            .unwrap()
    };
    // The probe's compiled code, and then its MAC too, planted as the
    // hostile connector's entry.
    for ext in [".cwasm", ".mac"] {
        std::fs::copy(entry(artifacts::PROBE, ext), entry(artifacts::HOSTILE, ext)).unwrap();
        let loaded = host.check_file(&hostile).await.unwrap();
        assert_eq!(loaded.info.name, "hostile", "after planting {ext}");
        assert_eq!(
            loaded.cache,
            payhost::CacheOutcome::Compiled,
            "after planting {ext}"
        );
    }
}

#[cfg(unix)]
#[tokio::test]
async fn a_cache_directory_others_may_write_is_not_used() {
    use std::os::unix::fs::PermissionsExt as _;
    let ws = probe_workspace("");
    let cache = ws.path().join("shared-cache");
    std::fs::create_dir(&cache).unwrap();
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap();
    let host = host_with_cache(&ws, &cache);
    let probe_file = ws.path().join("plugins").join("probe.wasm");
    for _ in 0..2 {
        assert_eq!(
            host.check_file(&probe_file).await.unwrap().cache,
            payhost::CacheOutcome::Uncached
        );
    }
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 0);
}

#[tokio::test]
async fn a_file_over_the_size_limit_is_refused_before_it_is_compiled() {
    let ws = Workspace::new();
    ws.config("");
    let file = ws.path().join("plugins").join("huge.wasm");
    let mut bytes = vec![0u8; (64 << 20) + 1];
    bytes[..8].copy_from_slice(&[0, b'a', b's', b'm', 0x0d, 0x00, 0x01, 0x00]);
    std::fs::write(&file, bytes).unwrap();
    let error = load_error(&ws, &file).await;
    assert!(
        error.contains("a connector may be at most 67108864 bytes"),
        "{error}"
    );
}

#[tokio::test]
async fn a_file_that_takes_too_long_to_compile_is_refused() {
    let ws = Workspace::new();
    let file = ws.plugin(artifacts::PROBE);
    ws.config("[host]\nplugins = \"plugins\"\ncompile_timeout = \"1ms\"\n");
    // A cache of its own: nothing compiled before.
    let cache = tempfile::tempdir().unwrap();
    let error = host_with_cache(&ws, &cache.path().join("cache"))
        .check_file(&file)
        .await
        .expect_err("compiling takes more than a millisecond")
        .to_string();
    assert!(
        error.contains("took longer than compile_timeout = \"1ms\" to compile and is refused"),
        "{error}"
    );
}

#[tokio::test]
async fn a_section_with_secrets_and_no_placements_is_refused_until_pinned_or_opted_out() {
    // The probe uses secrets and takes cards: with neither placements nor
    // `unpinned = true` its hidden values would have nowhere to go.
    let ws = Workspace::new();
    ws.plugin(artifacts::PROBE);
    let token = ws.secret("token", "t0k3n-value");
    let section = |extra: &str| {
        format!(
            "[host]\nplugins = \"plugins\"\ncache = {:?}\n\n[connectors.probe]\nbase_url = \"https://probe.example.com\"\nsecrets = {{ token = {{ file = {token:?} }} }}\n{extra}\n",
            payhost_tests::cache_dir().display().to_string()
        )
    };
    for (extra, loads) in [
        ("", false),
        ("unpinned = true", true),
        (
            "placements = [{ value = \"secret:token\", request = \"POST /pay\", at = \"header:x-token\", encoding = \"raw\" }]",
            true,
        ),
    ] {
        ws.config(&section(extra));
        let settings = Settings::load(&ws.path().join("payhost.toml")).unwrap();
        let results = host(settings).load_plugins().await;
        match (&results[0], loads) {
            (Ok(_), true) => {}
            (Err(e), false) => {
                let text = e.to_string();
                assert!(text.contains("has no placements"), "{text}");
                assert!(text.contains("unpinned = true"), "{text}");
            }
            (other, _) => panic!("{extra:?}: {other:?}"),
        }
    }
}
