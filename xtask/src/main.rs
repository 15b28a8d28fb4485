//! Project chores, run as `cargo xtask <command>`: each installs what it
//! lacks (the wasm32-wasip2 and wasm32-unknown-unknown targets) and then
//! does its work with cargo.
//!
//! - `demo`: builds the connectors and pays through all four against the
//!   bundled supplier simulator.
//! - `test`: every test, unit and integration.
//! - `build-plugins`: the connectors, into `target/plugins/`.
//! - `check`: the layout check, rustfmt and clippy (-D warnings), host and
//!   wasm targets.
//! - `layout`: the host library's and the SDK's module import graphs,
//!   checked for cycles.
//! - `bench`: the benchmarks.
//! - `soak`: the reliability suite, against a release build (not part of
//!   `test`: it takes about ten minutes and needs root for one scenario).

mod layout;

use payhost_guests::{Guest, Target};
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

/// The connectors shipped with payhost.
const PLUGINS: [&str; 4] = ["atlas", "hkramble", "aerohub", "nemo"];
/// The packages `cargo xtask test` tests: the host side, the SDK and the
/// shipped connectors (natively, for their unit tests).
const TESTED: [&str; 12] = [
    "payhost",
    "payhost-cli",
    "xtask",
    "payhost-guests",
    "payhost-tests",
    "payhost-sandbox",
    "payhost-rules",
    "payhost-sdk",
    "payhost-atlas",
    "payhost-hkramble",
    "payhost-aerohub",
    "payhost-nemo",
];

/// Every crate built only for wasm32 (clippy checks them for wasm32-wasip2;
/// the SDK and the shipped connectors again for wasm32-unknown-unknown): the
/// SDK, the connectors, the test connectors.
const GUESTS: [&str; 17] = [
    "payhost-sdk",
    "payhost-atlas",
    "payhost-hkramble",
    "payhost-aerohub",
    "payhost-nemo",
    "probe",
    "wrong-contract",
    "legacy-probe",
    "sealed-probe",
    "mixed-contract",
    "thief",
    "echo-thief",
    "echo-thief-v3",
    "info-trap",
    "info-lie",
    "hostile",
    "bare-probe",
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, rest) = match args.split_first() {
        Some((c, rest)) => (c.as_str(), rest),
        None => ("help", &[][..]),
    };
    let result = match command {
        "demo" => demo(rest),
        "test" => test(rest),
        "build-plugins" => build_plugins().map(|_| ()),
        "check" => check(),
        "layout" => layout::check(&root().join("host").join("src"), false)
            .and_then(|()| layout::check(&root().join("plugins").join("sdk").join("src"), true)),
        "bench" => bench(rest),
        "soak" => soak(rest),
        _ => {
            eprintln!(
                "usage: cargo xtask <demo|test|build-plugins|check|layout|bench|soak> [args...]"
            );
            return ExitCode::from(if command == "help" { 0 } else { 2 });
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask {command}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask/ sits in the workspace root")
        .to_owned()
}

/// The cargo that runs this task.
fn cargo_program() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

fn cargo() -> Command {
    let mut cmd = Command::new(cargo_program());
    cmd.current_dir(root());
    cmd
}

fn run(mut cmd: Command) -> Result<(), String> {
    let shown = format!("{cmd:?}");
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed ({status})"))
    }
}

/// Installs the guest targets (wasm32-wasip2 and wasm32-unknown-unknown)
/// with rustup when they are missing.
fn ensure_wasm_target() -> Result<(), String> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .current_dir(root())
        .output()
        .map_err(|e| {
            format!(
                "cannot run rustup ({e}); install the {} targets for your toolchain by hand",
                Target::ALL.map(Target::triple).join(" and ")
            )
        })?;
    let installed = String::from_utf8_lossy(&installed.stdout);
    for target in Target::ALL.map(Target::triple) {
        if installed.lines().any(|l| l.trim() == target) {
            continue;
        }
        eprintln!("installing the {target} target");
        let mut cmd = Command::new("rustup");
        cmd.args(["target", "add", target]).current_dir(root());
        run(cmd)?;
    }
    Ok(())
}

/// Whether PostgreSQL's server tools are here: `initdb` on `PATH` or under
/// `/usr/lib/postgresql/*/bin` (Debian, Ubuntu).
fn postgres_installed() -> bool {
    let on_path = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join("initdb").is_file()));
    on_path
        || std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| e.path().join("bin").join("initdb").is_file())
}

/// Installs PostgreSQL (the journal tests start a server of their own)
/// with apt-get when it is missing and this user may; otherwise stops with
/// the command to run.
fn ensure_postgres() -> Result<(), String> {
    if postgres_installed() {
        return Ok(());
    }
    apt_install(
        &["postgresql"],
        "PostgreSQL is needed by the journal tests and is not installed: run `sudo apt-get install -y postgresql` (or your system's package), then `cargo xtask test` again",
    )?;
    if postgres_installed() {
        Ok(())
    } else {
        Err(
            "apt-get installed postgresql but no initdb was found under /usr/lib/postgresql"
                .to_owned(),
        )
    }
}

/// The crates a connector depends on by version (the SDK and the rules
/// it shares with the host) package as a registry takes them, and their
/// rendered docs build with every public item documented.
fn package_sdk() -> Result<(), String> {
    let mut package = cargo();
    package.args([
        "package",
        "--package",
        "payhost-rules",
        "--package",
        "payhost-sdk",
        "--allow-dirty",
        "--quiet",
    ]);
    run(package)?;
    let mut doc = cargo();
    doc.args([
        "doc",
        "--no-deps",
        "--package",
        "payhost-rules",
        "--package",
        "payhost-sdk",
        "--quiet",
    ])
    .env("RUSTDOCFLAGS", "-D warnings -D missing-docs");
    run(doc)
}

/// Installs Chromium and its WebDriver (the console's tests drive a real
/// headless browser) with apt-get when they are missing and this user may;
/// otherwise stops with the command to run.
fn ensure_chromium() -> Result<(), String> {
    let here = || runs("chromedriver") && (runs("chromium") || runs("chromium-browser"));
    if here() {
        return Ok(());
    }
    apt_install(
        &["chromium", "chromium-driver"],
        "Chromium and chromedriver are needed by the console's browser tests and are not installed: run `sudo apt-get install -y chromium chromium-driver` (or your system's packages), then `cargo xtask test` again",
    )?;
    if here() {
        Ok(())
    } else {
        Err("apt-get installed chromium and chromium-driver but `chromedriver --version` does not run".to_owned())
    }
}

/// Installs `packages` with apt-get when this user is root and apt-get is
/// here; otherwise `Err(refusal)`, which says what to run.
fn apt_install(packages: &[&str], refusal: &str) -> Result<(), String> {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !(root && Path::new("/usr/bin/apt-get").is_file()) {
        return Err(refusal.to_owned());
    }
    eprintln!("installing {} with apt-get", packages.join(" and "));
    let mut update = Command::new("apt-get");
    update.args(["update", "-qq"]);
    run(update)?;
    let mut install = Command::new("apt-get");
    install
        .args(["install", "-y", "-qq"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive");
    run(install)
}

/// The JavaScript example connector's directory.
fn js_dir() -> PathBuf {
    root().join("plugins").join("examples").join("atlas-js")
}

/// Installs Node.js and npm with apt-get when they are missing and this
/// user may; otherwise stops, loudly, with the command to run.
fn ensure_node() -> Result<(), String> {
    if runs("node") && runs("npm") {
        return Ok(());
    }
    apt_install(
        &["nodejs", "npm"],
        "\n\n*** Node.js and npm are missing ***\nThey build the JavaScript connector (plugins/examples/atlas-js) that the tests run.\nInstall them (`sudo apt-get install -y nodejs npm`, or https://nodejs.org) and run `cargo xtask test` again.\n",
    )?;
    if runs("node") && runs("npm") {
        Ok(())
    } else {
        Err("apt-get installed nodejs and npm but `node --version` does not run".to_owned())
    }
}

/// Whether `program --version` runs.
fn runs(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The newest modification time among `paths` (missing ones count as old).
fn newest(paths: &[PathBuf]) -> std::time::SystemTime {
    paths
        .iter()
        .filter_map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
        .max()
        .unwrap_or(std::time::UNIX_EPOCH)
}

/// Builds the JavaScript connector (`plugins/examples/atlas-js`) into
/// `target/plugins-js/atlas-js.wasm` with componentize-qjs, installing the
/// npm packages its lockfile pins. Node.js and npm must be here: without
/// them this stops, loudly, with what to install (`.ci/run` installs them).
/// The benchmark's Extism peer (`bench/peer-extism`), a workspace of its
/// own: its toolchain (Rust 1.96, which Extism's wasmtime 49 needs) and
/// the plugin's target installed with rustup if they are missing, then its
/// plugin for wasm32-unknown-unknown and its runner, both into
/// `target/peer-extism`.
fn build_peer() -> Result<(), String> {
    const TOOLCHAIN: &str = "1.96";
    let dir = root().join("bench").join("peer-extism");
    let installed = Command::new("rustup")
        .args([
            "run",
            TOOLCHAIN,
            "rustc",
            "--print",
            "target-libdir",
            "--target",
            "wasm32-unknown-unknown",
        ])
        .output()
        .ok()
        .and_then(|o| {
            o.status
                .success()
                .then(|| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        })
        .is_some_and(|libdir| Path::new(&libdir).is_dir());
    if !installed {
        eprintln!(
            "installing Rust {TOOLCHAIN} and its wasm32-unknown-unknown target for the Extism peer"
        );
        let mut install = Command::new("rustup");
        install.args([
            "toolchain",
            "install",
            TOOLCHAIN,
            "--profile",
            "minimal",
            "--target",
            "wasm32-unknown-unknown",
        ]);
        run(install)?;
    }
    let target = root().join("target").join("peer-extism");
    for args in [
        &[
            "build",
            "--release",
            "--locked",
            "-p",
            "extism-atlas",
            "--target",
            "wasm32-unknown-unknown",
        ][..],
        &["build", "--release", "--locked", "-p", "extism-peer"][..],
    ] {
        let mut build = Command::new("rustup");
        build
            .args(["run", TOOLCHAIN, "cargo"])
            .args(args)
            .current_dir(&dir);
        // The peer is its own workspace, built by its own cargo: none of
        // what this cargo set for xtask (which would also make every build
        // of it look changed).
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            let set_for_xtask = name.starts_with("CARGO") && name != "CARGO_HOME";
            if set_for_xtask || name == "RUSTUP_TOOLCHAIN" || name == "RUSTC" {
                build.env_remove(&*name);
            }
        }
        build.env("CARGO_TARGET_DIR", &target);
        run(build)?;
    }
    Ok(())
}

fn build_js() -> Result<(), String> {
    ensure_node()?;
    let dir = js_dir();
    let lock = dir.join("package-lock.json");
    let installed = dir.join("node_modules").join(".package-lock.json");
    if newest(std::slice::from_ref(&lock)) > newest(std::slice::from_ref(&installed)) {
        // `npm install`, not `npm ci`: npm 11's `ci` refuses a lockfile that
        // lacks other platforms' optional packages, which its own `install`
        // writes. The versions are the lockfile's (componentize-qjs pinned
        // exactly in package.json), and the lockfile is left as it is.
        eprintln!("installing the JavaScript connector's npm packages (npm install)");
        let mut install = Command::new("npm");
        install
            .args(["install", "--no-audit", "--no-fund"])
            .current_dir(&dir);
        run(install)?;
    }
    let out = root()
        .join("target")
        .join("plugins-js")
        .join("atlas-js.wasm");
    let mut inputs = vec![
        dir.join("atlas.js"),
        lock,
        dir.join("package.json"),
        root().join("plugins").join("sdk-js").join("payhost.js"),
    ];
    if let Ok(entries) = std::fs::read_dir(root().join("wit")) {
        inputs.extend(entries.filter_map(Result::ok).map(|e| e.path()));
    }
    // The connector the tests run, and the same built for size, which the
    // benchmark sets beside it.
    let small = out.with_file_name("atlas-js-small.wasm");
    let sources = newest(&inputs);
    if [&out, &small]
        .iter()
        .all(|built| newest(std::slice::from_ref(*built)) > sources)
    {
        return Ok(());
    }
    std::fs::create_dir_all(out.parent().expect("target/plugins-js"))
        .map_err(|e| format!("cannot create target/plugins-js: {e}"))?;
    eprintln!("building the JavaScript connector with componentize-qjs");
    for script in ["build", "build:small"] {
        let mut build = Command::new("npm");
        build.args(["run", "--silent", script]).current_dir(&dir);
        run(build)?;
    }
    Ok(())
}

/// Builds the shipped connectors, each for the target its manifest names
/// (`payhost_guests::Target`), and writes their components to
/// `target/plugins/`.
fn build_plugins() -> Result<PathBuf, String> {
    ensure_wasm_target()?;
    let target_dir = root().join("target").join("guests");
    let mut guests = Vec::new();
    for p in PLUGINS {
        let dir = root().join("plugins").join(p);
        guests.push(
            Guest::read(&dir)?
                .ok_or_else(|| format!("{} is not a connector crate (a cdylib)", dir.display()))?,
        );
    }
    for (_, build) in payhost_guests::builds(&cargo_program(), &root(), &target_dir, &guests) {
        run(build)?;
    }
    let out = root().join("target").join("plugins");
    for (p, Guest { package, target }) in PLUGINS.iter().zip(&guests) {
        payhost_guests::component(
            *target,
            &target.artifact(&target_dir, package),
            &out.join(format!("{p}.wasm")),
        )?;
    }
    eprintln!("connectors built into {}", out.display());
    Ok(out)
}

/// `cargo run --release --package PACKAGE -- ARGS`.
fn run_release(package: &str, args: &[&str], rest: &[String]) -> Result<(), String> {
    let mut cmd = cargo();
    cmd.args(["run", "--quiet", "--release", "--package", package, "--"])
        .args(args)
        .args(rest);
    run(cmd)
}

fn demo(args: &[String]) -> Result<(), String> {
    let plugins = build_plugins()?;
    let plugins = plugins.to_string_lossy();
    run_release("payhost-sandbox", &["demo", "--plugins", &plugins], args)
}

fn test(args: &[String]) -> Result<(), String> {
    ensure_wasm_target()?;
    ensure_postgres()?;
    ensure_chromium()?;
    build_js()?;
    package_sdk()?;
    // The CLI tests run the `payhost` binary: build it first.
    let mut build = cargo();
    build.args(["build", "--package", "payhost-cli", "--bin", "payhost"]);
    run(build)?;
    // The host-side crates, and the SDK and the shipped connectors
    // compiled natively for their unit tests (with the SDK's test double).
    // The guests are built for their targets by the tests' build script and
    // tested through the host.
    let mut cmd = cargo();
    cmd.arg("test");
    for package in TESTED {
        cmd.args(["--package", package]);
    }
    cmd.args(args).stdout(Stdio::piped());
    let shown = format!("{cmd:?}");
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    let (mut passed, mut failed, mut ignored) = (0u64, 0u64, 0u64);
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line = line.map_err(|e| format!("reading the test output: {e}"))?;
            println!("{line}");
            if let Some(counts) = line.strip_prefix("test result: ") {
                for part in counts.split(['.', ';']) {
                    let mut words = part.split_whitespace();
                    if let (Some(n), Some(what)) = (
                        words.next().and_then(|n| n.parse::<u64>().ok()),
                        words.next(),
                    ) {
                        match what {
                            "passed" => passed += n,
                            "failed" => failed += n,
                            "ignored" => ignored += n,
                            _ => {}
                        }
                    }
                }
            }
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for {shown}: {e}"))?;
    // One closing line for the whole run, unit and integration tests together.
    println!("\ntests: {passed} passed, {failed} failed, {ignored} skipped");
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed ({status})"))
    }
}

fn check() -> Result<(), String> {
    ensure_wasm_target()?;
    layout::check(&root().join("host").join("src"), false)?;
    layout::check(&root().join("plugins").join("sdk").join("src"), true)?;
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--check"]);
    run(fmt)?;
    let mut host = cargo();
    // The host-side crates (the benchmark compiles the connectors natively
    // too); the guests are linted for their own target below.
    host.args(["clippy", "--all-targets", "--workspace"]);
    for guest in GUESTS {
        host.args(["--exclude", guest]);
    }
    host.args(["--", "-D", "warnings"]);
    run(host)?;
    // The SDK's own tests and its test double run natively.
    let mut sdk = cargo();
    sdk.args([
        "clippy",
        "--all-targets",
        "--package",
        "payhost-sdk",
        "--",
        "-D",
        "warnings",
    ]);
    run(sdk)?;
    let mut wasm = cargo();
    wasm.args(["clippy", "--target", Target::Wasip2.triple()])
        .env("CARGO_TARGET_DIR", root().join("target").join("guests"));
    for guest in GUESTS {
        wasm.args(["--package", guest]);
    }
    wasm.args(["--", "-D", "warnings"]);
    run(wasm)?;
    // The SDK and the shipped connectors again for the bare target they
    // ship on (the SDK's panic hook is compiled only there).
    let mut bare = cargo();
    bare.args(["clippy", "--target", Target::Bare.triple()])
        .env("CARGO_TARGET_DIR", root().join("target").join("guests"))
        .args(["--package", "payhost-sdk"]);
    for p in PLUGINS {
        bare.args(["--package", &format!("payhost-{p}")]);
    }
    bare.args(["--", "-D", "warnings"]);
    run(bare)
}

/// The reliability suite against a release build: the connectors, the
/// `payhost` binary and the simulator built for release, PostgreSQL
/// installed if it is missing, then `payhost-sandbox soak`.
fn soak(args: &[String]) -> Result<(), String> {
    ensure_postgres()?;
    let plugins = build_plugins()?;
    let mut build = cargo();
    build.args([
        "build",
        "--release",
        "--package",
        "payhost-cli",
        "--package",
        "payhost-sandbox",
    ]);
    run(build)?;
    let release = root().join("target").join("release");
    let mut cmd = Command::new(release.join("payhost-sandbox"));
    cmd.current_dir(root())
        .arg("soak")
        .arg("--payhost")
        .arg(release.join("payhost"))
        .arg("--plugins")
        .arg(&plugins)
        .args(args);
    run(cmd)
}

fn bench(args: &[String]) -> Result<(), String> {
    build_plugins()?;
    // The JavaScript connector's section is measured when it can be built.
    if let Err(e) = build_js() {
        eprintln!("{e}(the JavaScript connector's section is not measured)");
    }
    // So is the peer's.
    if let Err(e) = build_peer() {
        eprintln!("{e} (the Extism peer's section is not measured)");
    }
    // The twin probes that measure what sealing costs.
    run(Target::Wasip2.build(
        &cargo_program(),
        &root(),
        &root().join("target").join("guests"),
        ["legacy-probe", "sealed-probe"],
    ))?;
    run_release("payhost-bench", &[], args)
}
