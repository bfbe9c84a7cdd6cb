//! Build script: the page (`ui/` with its modules joined into one script, in `ui-dist/`),
//! the Tauri context, and one permission per app command (see
//! `capabilities/default.json`, which grants exactly these).

#[path = "bundle.rs"]
mod bundle;

/// Every command the page may call; `capabilities/default.json` lists the same names.
const COMMANDS: &[&str] = &[
    "get_messages",
    "get_overview",
    "ready",
    "still_current",
    "relative_times",
    "recent_activity",
    "save_settings",
    "save_always",
    "start_connect",
    "cancel_connect",
    "open_authorize_url",
    "complete_connect_paste",
    "connect_with_code",
    "connect_long_lived",
    "refresh_connection",
    "test_connection",
    "disconnect",
];

fn main() {
    println!("cargo:rerun-if-changed=ui");
    println!("cargo:rerun-if-changed=src-tauri/bundle.rs");
    let root = std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    if let Err(e) = bundle::build(&root.join("ui"), &root.join("ui-dist")) {
        panic!("the page could not be built: {e}");
    }
    println!("cargo:rerun-if-changed=capabilities");
    println!("cargo:rerun-if-changed=tauri.conf.json");
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri-build: tauri.conf.json, capabilities/ or icons/ are invalid");
}
