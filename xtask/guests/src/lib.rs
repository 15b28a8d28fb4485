//! How a guest crate becomes a connector component, for `cargo xtask` and
//! the tests' build script alike.
//!
//! A guest crate names its target in its manifest:
//!
//! ```toml
//! [package.metadata.payhost]
//! target = "wasm32-unknown-unknown"
//! ```
//!
//! Without it, the crate builds for `wasm32-wasip2`, whose linker writes a
//! component that imports WASI (Rust's standard library reaches for
//! standard error, the environment and `exit` on its panic path). A crate
//! built for `wasm32-unknown-unknown` is a core module that imports only
//! the contract; [`component`] makes it a component with `wit-component`,
//! from the contract that `wit-bindgen` embedded in it. Such a component
//! asks the host for nothing but what the contract grants, and each call
//! instantiates it without WASI's imports (about 20 k instructions fewer
//! per payment).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The cargo profile guests are built with.
pub const PROFILE: &str = "guest";

/// A bare guest's code flags. The stack: 128 KiB instead of the default
/// 1 MiB keeps each instance's linear memory small, so the host resets it
/// cheaply (the same as `.cargo/config.toml` sets for wasm32-wasip2).
/// WebAssembly SIMD (which Wasmtime runs, Winch and Cranelift alike): the
/// byte searches of `memchr`, under quick-xml and serde, then scan 16
/// bytes at a time instead of 4 (about 11 k instructions fewer for each
/// Nemo payment).
const GUEST_FLAGS: &str = "-C link-arg=-zstack-size=131072 -C target-feature=+simd128";

/// What a guest crate is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// `wasm32-wasip2`: the linker writes the component, WASI imports and all.
    Wasip2,
    /// `wasm32-unknown-unknown`: a core module, made a component by
    /// [`component`]; it imports only the contract.
    Bare,
}

impl Target {
    /// Every target, in build order.
    pub const ALL: [Target; 2] = [Target::Wasip2, Target::Bare];

    /// The target's triple.
    pub fn triple(self) -> &'static str {
        match self {
            Target::Wasip2 => "wasm32-wasip2",
            Target::Bare => "wasm32-unknown-unknown",
        }
    }

    /// The target a guest crate's manifest asks for; `wasm32-wasip2` when
    /// it names none. An unknown target is an error that names the two.
    pub fn of(manifest: &toml::Table) -> Result<Target, String> {
        let named = manifest
            .get("package")
            .and_then(|p| p.get("metadata"))
            .and_then(|m| m.get("payhost"))
            .and_then(|p| p.get("target"))
            .and_then(toml::Value::as_str);
        named.map_or(Ok(Target::Wasip2), Target::from_triple)
    }

    /// The target named `triple` in `[package.metadata.payhost] target`; an
    /// unknown one is an error that names the two.
    pub fn from_triple(triple: &str) -> Result<Target, String> {
        Target::ALL
            .into_iter()
            .find(|t| t.triple() == triple)
            .ok_or_else(|| {
                format!(
                    "[package.metadata.payhost] target = {triple:?} is not a guest target; name wasm32-wasip2 or wasm32-unknown-unknown"
                )
            })
    }

    /// The environment variable and value that give a build for this target
    /// the guests' 128 KiB stack and SIMD, where `.cargo/config.toml` does
    /// not.
    pub fn guest_flags(self) -> Option<(&'static str, &'static str)> {
        (self == Target::Bare)
            .then_some(("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS", GUEST_FLAGS))
    }

    /// `cargo build` of `packages` for this target with the guest profile,
    /// into `target_dir`, run by `cargo` in `root`. What the calling build
    /// set for itself (its `RUSTFLAGS`, its target, a wrapper) is cleared:
    /// it would replace the guests' stack size, or build them for the host.
    pub fn build<'a>(
        self,
        cargo: &OsStr,
        root: &Path,
        target_dir: &Path,
        packages: impl IntoIterator<Item = &'a str>,
    ) -> Command {
        let mut cmd = Command::new(cargo);
        cmd.current_dir(root)
            .args(["build", "--profile", PROFILE, "--target", self.triple()])
            .env("CARGO_TARGET_DIR", target_dir);
        for var in [
            "CARGO_ENCODED_RUSTFLAGS",
            "RUSTFLAGS",
            "CARGO_BUILD_TARGET",
            "RUSTC_WORKSPACE_WRAPPER",
            "RUSTC_WRAPPER",
            "CARGO_PRIMARY_PACKAGE",
        ] {
            cmd.env_remove(var);
        }
        if let Some((var, flags)) = self.guest_flags() {
            cmd.env(var, flags);
        }
        for package in packages {
            cmd.args(["--package", package]);
        }
        cmd
    }

    /// Where cargo writes `package`'s `.wasm` in `target_dir`.
    pub fn artifact(self, target_dir: &Path, package: &str) -> PathBuf {
        target_dir
            .join(self.triple())
            .join(PROFILE)
            .join(format!("{}.wasm", package.replace('-', "_")))
    }
}

/// A guest crate: a `cdylib` crate with the target its manifest names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Guest {
    /// Its package name.
    pub package: String,
    /// What it is built for.
    pub target: Target,
}

impl Guest {
    /// The guest crate whose `Cargo.toml` is in `dir`; `None` for a crate
    /// that is not a `cdylib` (or a folder with no manifest).
    pub fn read(dir: &Path) -> Result<Option<Guest>, String> {
        let path = dir.join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&path) else {
            return Ok(None);
        };
        let manifest: toml::Table =
            toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let is_cdylib = manifest
            .get("lib")
            .and_then(|l| l.get("crate-type"))
            .and_then(|t| t.as_array())
            .is_some_and(|t| t.iter().any(|v| v.as_str() == Some("cdylib")));
        let package = manifest
            .get("package")
            .and_then(|p| p.get("name"))
            .and_then(toml::Value::as_str);
        let Some(package) = package.filter(|_| is_cdylib) else {
            return Ok(None);
        };
        let target = Target::of(&manifest).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Some(Guest {
            package: package.to_owned(),
            target,
        }))
    }
}

/// One `cargo build` (see [`Target::build`]) per target that `guests`
/// name, in build order, each with the guests built for it.
pub fn builds(
    cargo: &OsStr,
    root: &Path,
    target_dir: &Path,
    guests: &[Guest],
) -> Vec<(Target, Command)> {
    Target::ALL
        .into_iter()
        .filter_map(|target| {
            let mut packages = guests
                .iter()
                .filter(|g| g.target == target)
                .map(|g| g.package.as_str())
                .peekable();
            packages
                .peek()
                .is_some()
                .then(|| (target, target.build(cargo, root, target_dir, packages)))
        })
        .collect()
}

/// Writes to `out` the component of what cargo built at `artifact` for
/// `target`: a copy for wasm32-wasip2; for a bare core module, the
/// component that `wit-component` encodes from the contract embedded in it.
pub fn component(target: Target, artifact: &Path, out: &Path) -> Result<(), String> {
    let bytes =
        std::fs::read(artifact).map_err(|e| format!("cannot read {}: {e}", artifact.display()))?;
    let component = match target {
        Target::Wasip2 => bytes,
        Target::Bare => wit_component::ComponentEncoder::default()
            .module(&bytes)
            .and_then(|encoder| encoder.validate(true).encode())
            .map_err(|e| {
                format!(
                    "cannot make {} a component (was it built with wit-bindgen's bindings for the payhost contract?): {e:#}",
                    artifact.display()
                )
            })?,
    };
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(out, component).map_err(|e| format!("cannot write {}: {e}", out.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(text: &str) -> toml::Table {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn a_crate_names_its_target_or_builds_for_wasip2() {
        let plain = manifest("[package]\nname = \"a\"\n");
        assert_eq!(Target::of(&plain), Ok(Target::Wasip2));
        let bare = manifest(
            "[package]\nname = \"a\"\n[package.metadata.payhost]\ntarget = \"wasm32-unknown-unknown\"\n",
        );
        assert_eq!(Target::of(&bare), Ok(Target::Bare));
        let wrong = manifest(
            "[package]\nname = \"a\"\n[package.metadata.payhost]\ntarget = \"wasm32-wasip1\"\n",
        );
        let error = Target::of(&wrong).unwrap_err();
        assert!(error.contains("wasm32-wasip1") && error.contains("wasm32-unknown-unknown"));
    }

    #[test]
    fn a_guest_is_a_cdylib_crate_with_its_target() {
        let dir = std::env::temp_dir().join(format!("payhost-guest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let write = |text: &str| std::fs::write(dir.join("Cargo.toml"), text).unwrap();
        write("[package]\nname = \"a\"\n[lib]\ncrate-type = [\"rlib\"]\n");
        assert_eq!(Guest::read(&dir), Ok(None));
        write(
            "[package]\nname = \"a\"\n[package.metadata.payhost]\ntarget = \"wasm32-unknown-unknown\"\n[lib]\ncrate-type = [\"cdylib\", \"rlib\"]\n",
        );
        assert_eq!(
            Guest::read(&dir),
            Ok(Some(Guest {
                package: "a".to_owned(),
                target: Target::Bare
            }))
        );
        write(
            "[package]\nname = \"a\"\n[package.metadata.payhost]\ntarget = \"x\"\n[lib]\ncrate-type = [\"cdylib\"]\n",
        );
        assert!(Guest::read(&dir).unwrap_err().contains("Cargo.toml"));
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(Guest::read(&dir), Ok(None));
    }

    #[test]
    fn a_core_module_without_the_contract_is_refused_with_a_reason() {
        let dir = std::env::temp_dir().join(format!("payhost-guests-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let core = dir.join("core.wasm");
        // A core module that imports `foo.bar`, which no contract has.
        let mut module = b"\0asm\x01\0\0\0".to_vec();
        module.extend([1, 4, 1, 0x60, 0, 0]);
        module.extend([2, 11, 1, 3, b'f', b'o', b'o', 3, b'b', b'a', b'r', 0, 0]);
        std::fs::write(&core, module).unwrap();
        let error = component(Target::Bare, &core, &dir.join("out.wasm")).unwrap_err();
        assert!(error.contains("cannot make"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
