//! The partner's path in each language, as the guide tells it: `payhost
//! new`, the unit tests, the build, the scenarios (a signature over a pinned
//! clock, a status call after an unknown), a signed package, and the package
//! hot-added to a running `payhost serve` whose operator pinned the
//! publisher, paying with a signature the host computed under the
//! operator's key.

use crate::serve::{Server, connectors, post};
use crate::support::text;
use hmac::Mac as _;
use payhost_sandbox::script::{Scripted, ScriptedSupplier};
use payhost_tests::payhost_bin;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// The repository's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs `program args` in `dir`; panics with its output unless it succeeds.
fn run(program: &str, args: &[&str], dir: &Path, envs: &[(&str, &Path)]) -> String {
    let mut command = Command::new(program);
    command.args(args).current_dir(dir).env_remove("RUSTFLAGS");
    for (name, value) in envs {
        command.env(name, value);
    }
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(out.status.success(), "{program} {args:?}: {}", text(&out));
    text(&out)
}

fn payhost(args: &[&str]) -> Output {
    Command::new(payhost_bin())
        .args(args)
        .output()
        .expect("running payhost")
}

/// `payhost new NAME --lang LANG` in a temporary directory under the
/// repository's target/ (so its rust-toolchain.toml, and the wasm32-wasip2
/// target installed for it, applies): the directory and the connector's.
fn scaffold(lang: Lang, name: &str) -> (tempfile::TempDir, PathBuf) {
    let parent = root().join("target/tmp");
    std::fs::create_dir_all(&parent).unwrap();
    let work = tempfile::tempdir_in(&parent).unwrap();
    let dir = work.path().join(name);
    let out = payhost(&[
        "new",
        name,
        "--lang",
        lang.flag(),
        "--dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    (work, dir)
}

/// componentize-qjs at the version the example's lockfile pins, from npm's
/// cache where `cargo xtask test` put it.
fn npm_install(dir: &Path) {
    run(
        "npm",
        &["install", "--prefer-offline", "--no-audit", "--no-fund"],
        dir,
        &[],
    );
}

/// Asserts that `sent` carries `api_key` and the HMAC-SHA-256 under
/// `signing_key` of its own timestamp, a `.` and its body: what the host
/// computed for a connector that never held the key.
fn assert_signed(sent: &payhost_sandbox::Recorded, api_key: &str, signing_key: &str) {
    let header = |n: &str| {
        sent.headers
            .iter()
            .find(|(h, _)| h == n)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(header("x-api-key"), api_key);
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(signing_key.as_bytes()).unwrap();
    mac.update(format!("{}.", header("x-timestamp")).as_bytes());
    mac.update(&sent.body);
    assert_eq!(
        header("x-signature"),
        hex::encode(mac.finalize().into_bytes())
    );
}

/// A connector's language, and how its partner builds and tests it.
#[derive(Clone, Copy)]
enum Lang {
    Rust,
    Js,
}

impl Lang {
    fn flag(self) -> &'static str {
        match self {
            Lang::Rust => "rust",
            Lang::Js => "js",
        }
    }

    /// The unit tests, then the component: its path.
    fn build(self, dir: &Path) -> PathBuf {
        match self {
            Lang::Rust => {
                // By version, with the checkout patched in; its build
                // output kept out of git.
                let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
                assert!(
                    manifest.contains(&format!("payhost-sdk = \"{}\"", env!("CARGO_PKG_VERSION")))
                        && manifest.contains("[patch.crates-io]"),
                    "{manifest}"
                );
                assert_eq!(
                    std::fs::read_to_string(dir.join(".gitignore")).unwrap(),
                    "/target\n"
                );
                // The same dependency versions as this repository's.
                std::fs::copy(root().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
                let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
                let target = root().join("target/scaffold");
                let envs = [("CARGO_TARGET_DIR", target.as_path())];
                let tests = run(&cargo, &["test"], dir, &envs);
                assert!(tests.contains("test result: ok. 4 passed"), "{tests}");
                run(
                    &cargo,
                    &["build", "--release", "--target", "wasm32-wasip2"],
                    dir,
                    &envs,
                );
                let name = dir.file_name().unwrap().to_string_lossy().replace('-', "_");
                target.join(format!("wasm32-wasip2/release/{name}_connector.wasm"))
            }
            Lang::Js => {
                // The SDK and the contract travel inside the package.
                assert_eq!(
                    std::fs::read_to_string(dir.join("src/payhost.js")).unwrap(),
                    std::fs::read_to_string(root().join("plugins/sdk-js/payhost.js")).unwrap()
                );
                assert_eq!(
                    std::fs::read_to_string(dir.join("wit/types.wit")).unwrap(),
                    std::fs::read_to_string(root().join("wit/types.wit")).unwrap()
                );
                assert_eq!(
                    std::fs::read_to_string(dir.join(".gitignore")).unwrap(),
                    "/node_modules\n/dist\n"
                );
                npm_install(dir);
                let tests = run("npm", &["test"], dir, &[]);
                assert!(
                    tests.contains("# pass 5") && tests.contains("# fail 0"),
                    "{tests}"
                );
                run("npm", &["run", "build"], dir, &[]);
                let name = dir.file_name().unwrap().to_string_lossy().replace('-', "_");
                dir.join(format!("dist/{name}_connector.wasm"))
            }
        }
    }
}

/// The whole path for a connector named `name` in `lang`; the time from
/// `payhost new` to the paid payment.
async fn partner_path(lang: Lang, name: &str) -> Duration {
    let started = Instant::now();
    let (_work, dir) = scaffold(lang, name);
    let wasm = lang.build(&dir);

    // Its scenarios: every code, the signature over the pinned clock, the
    // status call after an unknown, and the built-in ones.
    let out = crate::conformance::plugins_test(
        wasm.to_str().unwrap(),
        &dir.join("scenarios.toml"),
        false,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("17 passed, 0 failed"), "{}", text(&out));

    // Signed by its publisher.
    let host = tempfile::tempdir().unwrap();
    let key = host.path().join("publisher.key");
    let out = payhost(&["plugins", "keygen", "--out", key.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let public = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("public key: ").map(str::to_owned))
        .expect("keygen prints the public key");
    let package = host.path().join(format!("{name}.wasm"));
    let out = payhost(&[
        "plugins",
        "package",
        wasm.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
        "--out",
        package.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // An operator's host, serving, whose section pins the publisher and
    // grants the placements the connector declares.
    let supplier = ScriptedSupplier::start().await.unwrap();
    supplier.answer(Scripted::json(
        200,
        r#"{"code":"0000","message":"ok","reference":"R-77"}"#,
    ));
    let secrets = host.path().join("secrets");
    std::fs::create_dir(&secrets).unwrap();
    for (file, value) in [
        ("api-key", "live-api-key"),
        ("signing-key", "live-signing-key"),
    ] {
        std::fs::write(secrets.join(file), value).unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(secrets.join(file), std::fs::Permissions::from_mode(0o600))
            .unwrap();
    }
    std::fs::create_dir(host.path().join("plugins")).unwrap();
    std::fs::write(
        host.path().join("payhost.toml"),
        format!(
            "[host]\nplugins = \"plugins\"\n# Serving before the connector arrives.\nstart_degraded = true\ncache = {cache:?}\n\n[connectors.{name}]\nbase_url = \"{url}\"\nallowed_hosts = [\"{url}\"]\nsecrets = {{ api_key = {{ file = {api:?} }}, signing_key = {{ file = {signing:?} }} }}\npublishers = [{public:?}]\nplacements = \"declared\"\n",
            cache = payhost_tests::cache_dir().display().to_string(),
            url = supplier.url(),
            api = secrets.join("api-key").display().to_string(),
            signing = secrets.join("signing-key").display().to_string(),
        ),
    )
    .unwrap();
    let server = Server::start(host.path());
    let client = reqwest::Client::new();
    assert_eq!(
        connectors(&client, &server.url).await["connectors"],
        json!([]),
        "nothing is loaded before the package arrives"
    );

    // Hot-added: written beside the plugin directory, then renamed into it.
    let partial = host.path().join(format!("{name}.partial"));
    std::fs::copy(&package, &partial).unwrap();
    std::fs::rename(
        &partial,
        host.path().join("plugins").join(format!("{name}.wasm")),
    )
    .unwrap();
    let waiting = Instant::now();
    let loaded = loop {
        let listed = connectors(&client, &server.url).await;
        if let Some(c) = listed["connectors"]
            .as_array()
            .and_then(|all| all.iter().find(|c| c["name"] == name))
        {
            break c.clone();
        }
        assert!(
            waiting.elapsed() < Duration::from_secs(30),
            "{name} was not picked up: {listed:#}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(loaded["publisher"], public.as_str(), "{loaded:#}");

    // Paid through the API.
    let (_, answer) = post(
        &client,
        &server.url,
        &json!({
            "connector": name, "order_id": "ORDER-PARTNER", "amount": "100.00",
            "currency": "USD", "idempotency_key": format!("partner-{name}")
        }),
    )
    .await;
    assert_eq!(answer["outcome"]["state"], "succeeded", "{answer:#}");
    assert_eq!(
        answer["outcome"]["supplier_reference"], "R-77",
        "{answer:#}"
    );
    let paid = started.elapsed();

    // The supplier saw the operator's key and a signature over the
    // timestamp and the body it received, under the operator's signing key.
    let sent = supplier.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].body,
        br#"{"amount":100.00,"currency":"USD","order":"ORDER-PARTNER"}"#
    );
    assert_signed(&sent[0], "live-api-key", "live-signing-key");
    drop(server);
    paid
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rust_connector_goes_from_payhost_new_to_a_payment_through_a_serving_host() {
    let took = partner_path(Lang::Rust, "acme-air").await;
    eprintln!(
        "Rust: payhost new to a paid, signed, hot-added connector in {:.1} s",
        took.as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_javascript_connector_goes_from_payhost_new_to_a_payment_through_a_serving_host() {
    let took = partner_path(Lang::Js, "acme-js").await;
    eprintln!(
        "JavaScript: payhost new to a paid, signed, hot-added connector in {:.1} s",
        took.as_secs_f64()
    );
}

#[test]
fn payhost_new_refuses_a_directory_that_exists_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("keep"), "mine").unwrap();
    for lang in ["rust", "js"] {
        let out = payhost(&[
            "new",
            "acme-air",
            "--lang",
            lang,
            "--dir",
            dir.path().to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(text(&out).contains("already exists"), "{}", text(&out));
    }
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 1);
}

/// `payhost dev` on a scaffolded connector in `lang`: it builds, writes a
/// development configuration from `info()` and a `.env`, serves, pays with
/// the `.env`'s secrets, and swaps in a change to the sources while serving.
/// The time from `payhost new` to the paid payment, and from the change to
/// the swap.
/// `bare`: the crate names wasm32-unknown-unknown as its target, and what
/// `payhost dev` serves must be a component that imports no WASI.
async fn dev_path(lang: Lang, name: &str, bare: bool) -> (Duration, Duration) {
    let started = Instant::now();
    let (work, dir) = scaffold(lang, name);
    if bare {
        let manifest = dir.join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).unwrap();
        std::fs::write(
            &manifest,
            format!("{text}\n[package.metadata.payhost]\ntarget = \"wasm32-unknown-unknown\"\n"),
        )
        .unwrap();
    }
    match lang {
        Lang::Rust => {
            std::fs::copy(root().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
        }
        Lang::Js => npm_install(&dir),
    }
    let supplier = ScriptedSupplier::start().await.unwrap();
    supplier.answer(Scripted::json(200, r#"{"code":"0000","reference":"R-1"}"#));
    let env_name = name.to_ascii_uppercase().replace('-', "_");
    std::fs::write(
        dir.join(".env"),
        format!(
            "base_url={}\n{env_name}_API_KEY=dev-api-key\nsigning_key='dev-signing-key'\n",
            supplier.url()
        ),
    )
    .unwrap();
    let mut command = Command::new(payhost_bin());
    command
        .args(["dev", "--listen", "127.0.0.1:0", "--dir"])
        .arg(&dir)
        .env("CARGO_TARGET_DIR", root().join("target/scaffold"))
        .env_remove("RUSTFLAGS");
    let server = Server::spawn(command, &work.path().join("dev.log"));
    let url = server.url.clone();
    let client = reqwest::Client::new();
    // The development journal outlives a run: an order and a key of this run's.
    // (In letters: a run of digits may read as a card number, and is refused.)
    let run_id: String = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        .to_string()
        .bytes()
        .map(|d| char::from(b'a' + (d - b'0')))
        .collect();
    let (_, answer) = post(
        &client,
        &url,
        &json!({
            "connector": name, "order_id": format!("ORDER-{run_id}"), "amount": "100.00",
            "currency": "USD", "idempotency_key": format!("dev-{run_id}")
        }),
    )
    .await;
    assert_eq!(answer["outcome"]["state"], "succeeded", "{answer:#}");
    let paid = started.elapsed();
    if bare {
        let plugins = root().join("target/scaffold/payhost-dev/plugins");
        let live = plugins.join(format!("{name}.wasm"));
        let imports = crate::loading::component_imports(&live.to_string_lossy());
        assert!(
            !imports.is_empty() && imports.iter().all(|i| i.starts_with("payhost:connector/")),
            "{}: {imports:?}",
            live.display()
        );
    }
    // Signed with the .env's secrets, which the connector never held.
    assert_signed(&supplier.requests()[0], "dev-api-key", "dev-signing-key");

    // A change to the sources is rebuilt and swapped in while it serves.
    let (file, from, to) = match lang {
        Lang::Rust => ("Cargo.toml", "version = \"0.1.0\"", "version = \"0.1.1\""),
        Lang::Js => (
            "src/connector.js",
            "const VERSION = '0.1.0'",
            "const VERSION = '0.1.1'",
        ),
    };
    let source = std::fs::read_to_string(dir.join(file)).unwrap();
    assert!(source.contains(from), "{source}");
    std::fs::write(dir.join(file), source.replacen(from, to, 1)).unwrap();
    let reloading = Instant::now();
    loop {
        let listed = connectors(&client, &url).await;
        if listed["connectors"][0]["version"] == "0.1.1" {
            break;
        }
        assert!(
            reloading.elapsed() < Duration::from_secs(300),
            "not swapped in: {listed:#}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    drop(server);
    (paid, reloading.elapsed())
}

#[tokio::test(flavor = "multi_thread")]
async fn payhost_dev_builds_configures_and_serves_a_rust_connector_with_hot_reload() {
    let (paid, swapped) = dev_path(Lang::Rust, "acme-dev", false).await;
    eprintln!(
        "Rust: payhost new to a paid payment through payhost dev in {:.1} s; a change swapped in after {:.1} s",
        paid.as_secs_f64(),
        swapped.as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn payhost_dev_builds_a_rust_connector_for_the_target_its_manifest_names() {
    let (paid, swapped) = dev_path(Lang::Rust, "acme-dev-bare", true).await;
    eprintln!(
        "Rust for wasm32-unknown-unknown: payhost new to a paid payment through payhost dev in {:.1} s; a change swapped in after {:.1} s",
        paid.as_secs_f64(),
        swapped.as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn payhost_dev_builds_configures_and_serves_a_javascript_connector_with_hot_reload() {
    let (paid, swapped) = dev_path(Lang::Js, "acme-dev-js", false).await;
    eprintln!(
        "JavaScript: payhost new to a paid payment through payhost dev in {:.1} s; a change swapped in after {:.1} s",
        paid.as_secs_f64(),
        swapped.as_secs_f64()
    );
}

#[test]
fn the_javascript_sdk_passes_its_unit_tests_in_node() {
    let out = run(
        "node",
        &["--test", "plugins/sdk-js/payhost.test.js"],
        &root(),
        &[],
    );
    assert!(
        out.contains("# pass 6") && out.contains("# fail 0"),
        "{out}"
    );
}
