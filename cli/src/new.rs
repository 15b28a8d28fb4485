//! `payhost new NAME`: a connector crate that builds, tests and passes its
//! scenarios as it is, shaped like the shipped connectors (build the
//! request, send, one code table), for a partner to make their supplier's.

use super::{Exit, exit};
use anyhow::Context as _;
use clap::Args;
use hmac::Mac as _;
use std::path::{Path, PathBuf};

/// Write a new connector crate: Cargo.toml, .cargo/config.toml (the stack
/// size), src/lib.rs with unit tests, scenarios.toml and a README with the
/// code table to fill in.
#[derive(Args)]
pub(crate) struct New {
    /// The connector's name: lower-case letters, digits and `-`, starting
    /// with a letter (the name in `info()` and in `[connectors.NAME]`).
    name: String,
    /// Where to write it (default: ./NAME); it must not exist yet.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// The payhost SDK's source directory, for a path dependency (default:
    /// this build's plugins/sdk when it still exists; otherwise the SDK is
    /// named by version only).
    #[arg(long)]
    sdk: Option<PathBuf>,
}

const CARGO: &str = include_str!("../templates/connector/Cargo.toml.in");
const CONFIG: &str = include_str!("../templates/connector/config.toml.in");
const LIB: &str = include_str!("../templates/connector/lib.rs.in");
const SCENARIOS: &str = include_str!("../templates/connector/scenarios.toml.in");
const README: &str = include_str!("../templates/connector/README.md.in");
/// What a connector's repository keeps out: the build's output.
const IGNORE: &str = "/target\n";

/// The body the scaffold's first scenario and unit test send.
const BODY: &[u8] = br#"{"amount":100.00,"currency":"USD","order":"ORDER-1"}"#;
/// The test signing key in both.
const TEST_KEY: &[u8] = b"test-signing-key";

impl New {
    pub(crate) fn run(self) -> Result<u8, Exit> {
        if !payhost_rules::name::is_connector_name(&self.name) {
            return Err(Exit::usage(anyhow::anyhow!(
                "`{}` is not a connector name: use 1 to 32 lower-case letters, digits or `-`, starting with a letter (like `acme-air`)",
                self.name.escape_debug()
            )));
        }
        let dir = self
            .dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(&self.name));
        if dir.exists() {
            return Err(Exit::usage(anyhow::anyhow!(
                "{} already exists: pick another --dir, nothing was written",
                dir.display()
            )));
        }
        let sdk = match &self.sdk {
            Some(path) => Some(
                path.canonicalize()
                    .with_context(|| format!("--sdk {}: no such directory", path.display()))?,
            ),
            None => Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../plugins/sdk")
                .canonicalize()
                .ok(),
        };
        let crate_name = format!("{}-connector", self.name);
        let mut signature =
            hmac::Hmac::<sha2::Sha256>::new_from_slice(TEST_KEY).context("the test key")?;
        // Over the time both pin the connector's clock to, a `.`, the body.
        signature.update(b"1700000000.");
        signature.update(BODY);
        let signature = hex::encode(signature.finalize().into_bytes());
        let fill = |template: &str| {
            template
                .replace("{{name}}", &self.name)
                .replace("{{crate}}", &crate_name)
                .replace("{{crate_file}}", &crate_name.replace('-', "_"))
                .replace("{{type}}", &type_name(&self.name))
                .replace("{{env}}", &self.name.to_ascii_uppercase().replace('-', "_"))
                .replace("{{sdk_version}}", env!("CARGO_PKG_VERSION"))
                .replace("{{sdk_patch}}", &sdk_patch(sdk.as_deref()))
                .replace("{{signature}}", &signature)
        };
        let files = [
            ("Cargo.toml", fill(CARGO)),
            (".gitignore", IGNORE.to_owned()),
            (".cargo/config.toml", fill(CONFIG)),
            ("src/lib.rs", fill(LIB)),
            ("scenarios.toml", fill(SCENARIOS)),
            ("README.md", fill(README)),
        ];
        for (path, text) in &files {
            let path = dir.join(path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))?;
            }
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        }
        println!("wrote the connector `{}` in {}:", self.name, dir.display());
        for (path, _) in &files {
            println!("  {path}");
        }
        match &sdk {
            Some(path) => println!(
                "note: the SDK comes from {} ([patch.crates-io] in Cargo.toml); remove that section to use the registry's",
                path.display()
            ),
            None => println!(
                "note: the SDK is named by version; to build against a local checkout, pass --sdk PATH (payhost's plugins/sdk) or fill in [patch.crates-io] in Cargo.toml"
            ),
        }
        println!(
            "next: cd {} && cargo test && cargo build --release --target wasm32-wasip2 && payhost plugins test target/wasm32-wasip2/release/{}.wasm --scenarios scenarios.toml",
            dir.display(),
            crate_name.replace('-', "_")
        );
        Ok(exit::OK)
    }
}

/// The `[patch.crates-io]` section: the SDK from the checkout at `sdk`,
/// over the registry's; without one, the same section commented out, to
/// fill in.
fn sdk_patch(sdk: Option<&Path>) -> String {
    match sdk {
        Some(path) => format!(
            "# The SDK from a local checkout of payhost, over the registry's (remove\n# this section to build against the registry).\n[patch.crates-io]\npayhost-sdk = {{ path = {:?} }}\n",
            path.display().to_string()
        ),
        None => "# To build against a local checkout of payhost instead of the registry:\n# [patch.crates-io]\n# payhost-sdk = { path = \"/path/to/payhost/plugins/sdk\" }\n".to_owned(),
    }
}

/// `acme-air` → `AcmeAir`.
fn type_name(name: &str) -> String {
    name.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}
