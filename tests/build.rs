//! Builds every guest component the tests load (the connectors in
//! `plugins/` and the test connectors in `tests/connectors/`), each for the
//! target its manifest names (`payhost_guests::Target`), and writes their
//! paths as constants into `artifacts.rs`.
//!
//! The guests build with the `guest` profile into `target/guests`, their own
//! target directory, so this nested cargo never waits on the outer one's lock.

use payhost_guests::Target;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    );
    let root = manifest
        .parent()
        .expect("tests/ sits in the workspace root")
        .to_owned();
    for dir in ["plugins", "tests/connectors", "wit"] {
        println!("cargo:rerun-if-changed={}", root.join(dir).display());
    }

    let mut guests = Vec::new();
    for dir in [root.join("plugins"), manifest.join("connectors")] {
        guests.extend(crates_in(&dir));
    }
    let target_dir = root.join("target").join("guests");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    for target in Target::ALL {
        let packages: Vec<&str> = guests
            .iter()
            .filter(|(_, t)| *t == target)
            .map(|(name, _)| name.as_str())
            .collect();
        if packages.is_empty() {
            continue;
        }
        let mut cmd = target.build(&cargo, &root, &target_dir, packages);
        // What the outer build set for itself must not leak into the guests' build.
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
        let status = cmd
            .status()
            .expect("running cargo to build the guest components");
        if !status.success() {
            panic!(
                "building the guest components for {} failed (see above). If the target is missing, run `rustup target add {}`, or use `cargo xtask test`, which installs it.",
                target.triple(),
                target.triple()
            );
        }
    }

    let mut code = String::from(
        "// Written by build.rs: the guest components, each built for its target.\n\n",
    );
    let mut all = String::from(
        "/// Every guest component: (package name, path).\npub const ALL: &[(&str, &str)] = &[\n",
    );
    for (name, target) in &guests {
        let built = target.artifact(&target_dir, name);
        assert!(built.exists(), "{} was not built", built.display());
        let file = match target {
            Target::Wasip2 => built,
            Target::Bare => {
                let file = target_dir
                    .join("components")
                    .join(format!("{}.wasm", name.replace('-', "_")));
                payhost_guests::component(*target, &built, &file).unwrap_or_else(|e| panic!("{e}"));
                file
            }
        };
        let constant = name.to_uppercase().replace('-', "_");
        code.push_str(&format!(
            "/// The `{name}` component.\npub const {constant}: &str = {:?};\n",
            file.display().to_string()
        ));
        all.push_str(&format!("    ({name:?}, {constant}),\n"));
    }
    all.push_str("];\n");
    code.push_str(&all);
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("artifacts.rs");
    std::fs::write(out, code).expect("writing artifacts.rs");
}

/// The package names of the cdylib crates directly below `dir`, each with
/// the target its manifest asks for.
fn crates_in(dir: &Path) -> Vec<(String, Target)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<(String, Target)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let text = std::fs::read_to_string(e.path().join("Cargo.toml")).ok()?;
            let manifest: toml::Table = toml::from_str(&text).ok()?;
            let is_cdylib = manifest
                .get("lib")
                .and_then(|l| l.get("crate-type"))
                .and_then(|t| t.as_array())
                .is_some_and(|t| t.iter().any(|v| v.as_str() == Some("cdylib")));
            let name = manifest.get("package")?.get("name")?.as_str()?.to_owned();
            let target = Target::of(&manifest).unwrap_or_else(|e| panic!("{name}: {e}"));
            is_cdylib.then_some((name, target))
        })
        .collect();
    names.sort();
    names
}
