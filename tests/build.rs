//! Builds every guest component the tests load (the connectors in
//! `plugins/` and the test connectors in `tests/connectors/`), each for the
//! target its manifest names (`payhost_guests::Target`), and writes their
//! paths as constants into `artifacts.rs`.
//!
//! The guests build with the `guest` profile into `target/guests`, their own
//! target directory, so this nested cargo never waits on the outer one's lock.

use payhost_guests::{Guest, Target};
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
    for (target, mut cmd) in payhost_guests::builds(&cargo, &root, &target_dir, &guests) {
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
    for Guest {
        package: name,
        target,
    } in &guests
    {
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

/// The guest crates directly below `dir`, sorted by package name.
fn crates_in(dir: &Path) -> Vec<Guest> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut guests: Vec<Guest> = entries
        .filter_map(Result::ok)
        .filter_map(|e| Guest::read(&e.path()).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    guests.sort();
    guests
}
