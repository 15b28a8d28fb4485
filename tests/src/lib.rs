//! Helpers for payhost's integration tests: the built guest components, a
//! host set up in a temporary directory, requests, and a log capture.

use payhost::{Host, Money, PaymentMethod, PaymentRequest, RuntimeOptions, Settings};
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The guest components built by `build.rs`.
pub mod artifacts {
    include!(concat!(env!("OUT_DIR"), "/artifacts.rs"));
}

/// The four shipped connectors, built for the tests.
pub fn connectors() -> Vec<PathBuf> {
    [
        artifacts::PAYHOST_ATLAS,
        artifacts::PAYHOST_HKRAMBLE,
        artifacts::PAYHOST_AEROHUB,
        artifacts::PAYHOST_NEMO,
    ]
    .iter()
    .map(PathBuf::from)
    .collect()
}

/// The compile cache the tests share, so each component compiles once.
pub fn cache_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/guests/test-cache")
}

/// A temporary directory with a `payhost.toml`, a `plugins/` directory and
/// secret files.
pub struct Workspace {
    /// The directory.
    pub dir: tempfile::TempDir,
}

impl Workspace {
    /// An empty workspace.
    pub fn new() -> Workspace {
        let dir = tempfile::tempdir().expect("creating a temporary directory");
        std::fs::create_dir(dir.path().join("plugins")).expect("creating plugins/");
        Workspace { dir }
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a secret file `secrets/NAME` and returns its relative path.
    pub fn secret(&self, name: &str, value: &str) -> String {
        let dir = self.path().join("secrets");
        std::fs::create_dir_all(&dir).expect("creating secrets/");
        std::fs::write(dir.join(name), format!("{value}\n")).expect("writing a secret");
        format!("secrets/{name}")
    }

    /// Copies a built component into `plugins/`.
    pub fn plugin(&self, artifact: &str) -> PathBuf {
        let from = Path::new(artifact);
        let to = self
            .path()
            .join("plugins")
            .join(from.file_name().expect("a file name"));
        std::fs::copy(from, &to).expect("copying a component");
        to
    }

    /// Writes `payhost.toml` and returns its path.
    pub fn config(&self, text: &str) -> PathBuf {
        let path = self.path().join("payhost.toml");
        let mut file = std::fs::File::create(&path).expect("creating payhost.toml");
        file.write_all(text.as_bytes())
            .expect("writing payhost.toml");
        path
    }

    /// A host on the written `payhost.toml`, with the plugins loaded; panics
    /// if any fails to load.
    pub async fn host(&self) -> Host {
        let settings =
            Settings::load(&self.path().join("payhost.toml")).expect("payhost.toml is valid");
        let host = host(settings);
        for result in host.load_plugins().await {
            result.expect("the plugin loads");
        }
        host
    }
}

impl Default for Workspace {
    fn default() -> Self {
        Self::new()
    }
}

/// A host with the shared test cache and a small instance pool.
pub fn host(settings: Settings) -> Host {
    let options = RuntimeOptions {
        cache_dir: Some(cache_dir()),
        max_instances: 16,
        ..RuntimeOptions::default()
    };
    Host::new(settings, &options).expect("the engine starts")
}

/// A balance payment of 312.99 USD for order `O-1` with these attributes.
pub fn request(attributes: &[(&str, &str)]) -> PaymentRequest {
    PaymentRequest {
        order_id: "O-1".into(),
        client_order_id: None,
        method: PaymentMethod::Balance,
        amount: Money {
            amount: "312.99".into(),
            currency: "USD".into(),
        },
        idempotency_key: "test-key".into(),
        attributes: attributes
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
    }
}

/// The value of an outcome detail.
pub fn detail<'a>(outcome: &'a payhost::PaymentOutcome, key: &str) -> &'a str {
    outcome
        .details
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no detail `{key}` in {outcome:#?}"))
}

/// Captures what the host logs: on this thread while the guard lives, and on
/// any other thread that installs [`LogCapture::dispatch`].
pub struct LogCapture {
    buffer: Arc<Mutex<Vec<u8>>>,
    dispatch: tracing::Dispatch,
    _guard: tracing::dispatcher::DefaultGuard,
}

#[derive(Clone)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogCapture {
    /// Starts capturing every level on this thread.
    pub fn start() -> LogCapture {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = Sink(buffer.clone());
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || sink.clone())
            .finish();
        let dispatch = tracing::Dispatch::new(subscriber);
        let guard = tracing::dispatcher::set_default(&dispatch);
        LogCapture {
            buffer,
            dispatch,
            _guard: guard,
        }
    }

    /// The capture, to install on other threads (`tracing::dispatcher::set_default`).
    pub fn dispatch(&self) -> tracing::Dispatch {
        self.dispatch.clone()
    }

    /// What was logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.buffer.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

/// The `payhost` binary built next to the test binary.
pub fn payhost_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/..");
    let bin = dir.join(format!("payhost{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run the tests with `cargo xtask test`",
        bin.display()
    );
    bin
}

/// Now, in Unix seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
