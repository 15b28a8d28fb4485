//! Reading a connector file and checking it before anything compiles it:
//! its size is bounded, it starts with a component's header (not a core
//! module's, not a precompiled artifact's), and a signed package's
//! signature and digest hold.

use super::info::{LoadError, LoadKind};
use std::path::Path;

/// The largest connector file the host compiles (a JavaScript connector with
/// its engine is about 2 MB with componentize-qjs, 13 MB with componentize-js).
pub(crate) const MAX_COMPONENT_SIZE: u64 = 64 << 20;

/// The bytes of `file`, refused when it is larger than `MAX_COMPONENT_SIZE`
/// before it is read or once it has been.
pub(super) async fn read_file(file: &Path) -> Result<Vec<u8>, LoadError> {
    let size = tokio::fs::metadata(file)
        .await
        .map_err(|e| LoadError::new(file, LoadKind::File, format!("cannot read the file: {e}")))?
        .len();
    if size > MAX_COMPONENT_SIZE {
        return Err(LoadError::new(
            file,
            LoadKind::File,
            format!(
                "is {size} bytes; a connector may be at most {MAX_COMPONENT_SIZE} bytes (compiling is not bounded in time, so its input is bounded in size)"
            ),
        ));
    }
    let bytes = tokio::fs::read(file)
        .await
        .map_err(|e| LoadError::new(file, LoadKind::File, format!("cannot read the file: {e}")))?;
    if bytes.len() as u64 > MAX_COMPONENT_SIZE {
        return Err(LoadError::new(
            file,
            LoadKind::File,
            "grew past the size limit while it was read",
        ));
    }
    Ok(bytes)
}

/// The file is a WebAssembly component: not a precompiled artifact, not a
/// core module.
pub(super) fn check_header(file: &Path, bytes: &[u8]) -> Result<(), LoadError> {
    if wasmtime::Engine::detect_precompiled(bytes).is_some() {
        return Err(LoadError::new(
            file,
            LoadKind::NotAComponent,
            "is a precompiled native artifact; payhost only runs components it compiles itself. Ship the .wasm component instead",
        ));
    }
    match bytes.get(..8) {
        Some([0, b'a', b's', b'm', 0x0d, 0x00, 0x01, 0x00]) => Ok(()),
        Some([0, b'a', b's', b'm', 0x01, 0x00, 0x00, 0x00]) => Err(LoadError::new(
            file,
            LoadKind::NotAComponent,
            "is a core WebAssembly module, not a component: build the connector with `cargo build --release --target wasm32-wasip2`, or make a module built for wasm32-unknown-unknown a component with `wasm-tools component new`",
        )),
        _ => Err(LoadError::new(
            file,
            LoadKind::NotAComponent,
            "is not a WebAssembly component (it does not start with the `\\0asm` header): ship the .wasm that `cargo build --target wasm32-wasip2` writes",
        )),
    }
}

/// The signed manifest of a packaged file, its signature and digest
/// verified; `None` for a file that is not a package.
pub(super) fn open_package(
    file: &Path,
    bytes: &[u8],
) -> Result<Option<crate::package::Manifest>, LoadError> {
    crate::package::open(bytes).map_err(|e| LoadError::new(file, LoadKind::Package, e.to_string()))
}
