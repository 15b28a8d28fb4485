//! Set-ups the test modules share.

use payhost_tests::{Workspace, artifacts, cache_dir};
use std::path::PathBuf;

/// The value of the `token` secret: characters that need escaping in
/// headers, JSON and XML alike.
pub const TOKEN: &str = "tok-\"9<&>'Z";

/// A workspace with the probe connector and its section in payhost.toml.
pub fn probe(base_url: &str, allowed: &[&str], extra: &str) -> (Workspace, PathBuf) {
    let ws = Workspace::new();
    ws.plugin(artifacts::PROBE);
    let token = ws.secret("token", TOKEN);
    let aes = ws.secret("aes_key", "024sYXZXMlFKaiAa65IYuMCB0hE2CgaP");
    let nemo = ws.secret("nemo_key", "12345");
    let hmac = ws.secret("hmac_key", "hmac-secret-key");
    let allowed: Vec<String> = allowed.iter().map(|a| format!("{a:?}")).collect();
    let config = ws.config(&format!(
        r#"
[host]
plugins = "plugins"
cache = {cache:?}

[connectors.probe]
base_url = {base_url:?}
allowed_hosts = [{allowed}]
secrets = {{ token = {{ file = {token:?} }}, aes_key = {{ file = {aes:?} }}, nemo_key = {{ file = {nemo:?} }}, hmac_key = {{ file = {hmac:?} }} }}
unpinned = true
{extra}
"#,
        cache = cache_dir().display().to_string(),
        allowed = allowed.join(", "),
    ));
    (ws, config)
}

/// A workspace with the bare probe (a connector that imports no WASI, as
/// the shipped ones) and its section in payhost.toml.
pub fn bare_probe(extra: &str) -> Workspace {
    let ws = Workspace::new();
    let plugin = ws.plugin(artifacts::BARE_PROBE);
    let bytes = std::fs::read(plugin).unwrap();
    assert!(
        !bytes.windows(5).any(|w| w == b"wasi:"),
        "the bare probe names no WASI interface"
    );
    ws.config(&format!(
        "[host]\nplugins = \"plugins\"\ncache = {:?}\n\n[connectors.bare-probe]\nallowed_hosts = []\n{extra}\n",
        cache_dir().display().to_string(),
    ));
    ws
}

/// What a finished process printed, standard output then standard error.
pub fn text(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Runs `payhost args` with `envs` in a fresh temporary directory (so that
/// nothing it writes by default, a compile cache or a journal, lands in the
/// source tree), `stdin` on its standard input; what it printed and its
/// exit code.
pub fn run_payhost(
    args: &[&str],
    stdin: Option<&str>,
    envs: &[(&str, &str)],
) -> std::process::Output {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let cwd = tempfile::tempdir().expect("a temporary directory");
    let mut child = Command::new(payhost_tests::payhost_bin())
        .current_dir(cwd.path())
        .args(args)
        .envs(envs.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running payhost");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("payhost finishes")
}
