//! `payhost new NAME`: a connector that builds, tests and passes its
//! scenarios as it is, shaped like the shipped connectors (build the
//! request, send, one code table), for a partner to make their supplier's:
//! a Rust crate, or with `--lang js` a JavaScript package.

use super::{Exit, exit};
use anyhow::Context as _;
use clap::{Args, ValueEnum};
use hmac::Mac as _;
use std::path::{Path, PathBuf};

/// Write a new connector: in Rust, Cargo.toml, .cargo/config.toml (the
/// stack size) and src/lib.rs with unit tests; in JavaScript (`--lang js`),
/// package.json, src/connector.js, src/supplier.js, the SDK (src/payhost.js),
/// the contract (wit/) and test/supplier.test.js; in both, scenarios.toml,
/// a .gitignore and a README with the code table to fill in.
#[derive(Args)]
pub(crate) struct New {
    /// The connector's name: lower-case letters, digits and `-`, starting
    /// with a letter (the name in `info()` and in `[connectors.NAME]`).
    name: String,
    /// Where to write it (default: ./NAME); it must not exist yet.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// The language to write it in.
    #[arg(long, value_enum, default_value_t = Lang::Rust)]
    lang: Lang,
    /// The payhost SDK's source directory, for a path dependency of a Rust
    /// connector (default: this build's plugins/sdk when it still exists;
    /// otherwise the SDK is named by version only).
    #[arg(long)]
    sdk: Option<PathBuf>,
}

/// The language a connector is written in.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Lang {
    /// A Rust crate on payhost-sdk, built with cargo for wasm32-wasip2.
    Rust,
    /// A JavaScript package on the JavaScript SDK, built with componentize-qjs.
    Js,
}

const CARGO: &str = include_str!("../templates/rust/Cargo.toml.in");
const CONFIG: &str = include_str!("../templates/rust/config.toml.in");
const LIB: &str = include_str!("../templates/rust/lib.rs.in");
const README: &str = include_str!("../templates/rust/README.md.in");
/// What a Rust connector's repository keeps out: the build's output.
const IGNORE: &str = "/target\n";

const PACKAGE: &str = include_str!("../templates/js/package.json.in");
const CONNECTOR_JS: &str = include_str!("../templates/js/connector.js.in");
const SUPPLIER_JS: &str = include_str!("../templates/js/supplier.js.in");
const SUPPLIER_TEST_JS: &str = include_str!("../templates/js/supplier.test.js.in");
const README_JS: &str = include_str!("../templates/js/README.md.in");
/// What a JavaScript connector's repository keeps out: the packages and the build's output.
const IGNORE_JS: &str = "/node_modules\n/dist\n";
/// The JavaScript SDK, written into the package as it is.
const SDK_JS: &str = include_str!("../../plugins/sdk-js/payhost.js");
/// The contract a JavaScript connector builds against, written under `wit/`.
const WIT: [(&str, &str); 8] = [
    ("wit/world.wit", include_str!("../../wit/world.wit")),
    ("wit/types.wit", include_str!("../../wit/types.wit")),
    ("wit/connector.wit", include_str!("../../wit/connector.wit")),
    ("wit/http.wit", include_str!("../../wit/http.wit")),
    ("wit/crypto.wit", include_str!("../../wit/crypto.wit")),
    ("wit/config.wit", include_str!("../../wit/config.wit")),
    ("wit/clock.wit", include_str!("../../wit/clock.wit")),
    ("wit/log.wit", include_str!("../../wit/log.wit")),
];

/// The scenarios, the same for both languages: one supplier, one behaviour.
const SCENARIOS: &str = include_str!("../templates/scenarios.toml.in");

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
        if self.lang == Lang::Js && self.sdk.is_some() {
            return Err(Exit::usage(anyhow::anyhow!(
                "--sdk names the Rust SDK's checkout; a JavaScript connector carries its SDK in src/payhost.js: drop --sdk"
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
        let wasm = match self.lang {
            Lang::Rust => format!(
                "target/wasm32-wasip2/release/{}.wasm",
                crate_name.replace('-', "_")
            ),
            Lang::Js => format!("dist/{}.wasm", crate_name.replace('-', "_")),
        };
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
                .replace("{{wasm}}", &wasm)
        };
        let files: Vec<(&str, String)> = match self.lang {
            Lang::Rust => vec![
                ("Cargo.toml", fill(CARGO)),
                (".gitignore", IGNORE.to_owned()),
                (".cargo/config.toml", fill(CONFIG)),
                ("src/lib.rs", fill(LIB)),
                ("scenarios.toml", fill(SCENARIOS)),
                ("README.md", fill(README)),
            ],
            Lang::Js => {
                let mut files = vec![
                    ("package.json", fill(PACKAGE)),
                    (".gitignore", IGNORE_JS.to_owned()),
                    ("src/connector.js", fill(CONNECTOR_JS)),
                    ("src/supplier.js", fill(SUPPLIER_JS)),
                    ("src/payhost.js", SDK_JS.to_owned()),
                    ("test/supplier.test.js", fill(SUPPLIER_TEST_JS)),
                    ("scenarios.toml", fill(SCENARIOS)),
                    ("README.md", fill(README_JS)),
                ];
                files.extend(WIT.iter().map(|(path, text)| (*path, (*text).to_owned())));
                files
            }
        };
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
        match self.lang {
            Lang::Rust => {
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
                    "next: cd {} && cargo test && cargo build --release --target wasm32-wasip2 && payhost plugins test {wasm} --scenarios scenarios.toml",
                    dir.display(),
                );
            }
            Lang::Js => println!(
                "next: cd {} && npm install && npm test && npm run build && payhost plugins test {wasm} --scenarios scenarios.toml",
                dir.display(),
            ),
        }
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
