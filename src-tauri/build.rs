//! Build script: the page (`ui/` with its modules joined into one script, in `ui-dist/`),
//! the Tauri context, and from the command list (`manifest.rs`) one permission per command,
//! the set the capability grants and the invoke handler.

#[path = "bundle.rs"]
mod bundle;
#[path = "manifest.rs"]
mod manifest;

use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=ui");
    println!("cargo:rerun-if-changed=src-tauri/bundle.rs");
    println!("cargo:rerun-if-changed=src-tauri/manifest.rs");
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    if let Err(e) = bundle::build(&root.join("ui"), &root.join("ui-dist")) {
        panic!("the page could not be built: {e}");
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    write_if_changed(
        &out.join(manifest::HANDLER_FILE),
        &manifest::handler(manifest::COMMANDS),
    );
    write_if_changed(
        &root.join(manifest::PERMISSION_SET_FILE),
        &manifest::permission_set(manifest::COMMANDS),
    );
    println!("cargo:rerun-if-changed=capabilities");
    println!("cargo:rerun-if-changed=tauri.conf.json");
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(manifest::COMMANDS)),
    )
    .expect("tauri-build: tauri.conf.json, capabilities/ or icons/ are invalid");
}

/// Writes `text` unless `path` holds it already, so an unchanged file does not trigger a
/// rebuild.
fn write_if_changed(path: &Path, text: &str) {
    if std::fs::read_to_string(path).ok().as_deref() == Some(text) {
        return;
    }
    if let Err(e) = std::fs::write(path, text) {
        panic!("{}: {e}", path.display());
    }
}
