//! The benchmark's baseline: one empty window whose page says when it is interactive.

// Keeps a console window from opening beside the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::sync::Once;
use std::time::{SystemTime, UNIX_EPOCH};

/// The page's first (and only) data request. Its first answer marks the window
/// interactive, as the dashboard's first `get_overview` answer does in amo-connector.
#[tauri::command]
fn ready() {
    static READY: Once = Once::new();
    READY.call_once(|| {
        if let Some(path) = std::env::var_os("AMO_BENCH_READY_FILE") {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            let _ = std::fs::write(path, format!("{:.6}\n", now.as_secs_f64()));
        }
    });
}

fn main() {
    tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![ready])
        .run(tauri::generate_context!())
        .expect("the empty window runs");
}
