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

/// What a finished process printed, standard output then standard error.
pub fn text(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
