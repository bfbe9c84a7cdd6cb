//! The main window's life: built at start (unless `--hidden`), shown again on a second
//! launch (the tray's *Open*, a notification's click) at the account it names.

use tauri::{AppHandle, Emitter, Manager, Runtime, WebviewWindowBuilder};

use crate::state::AppState;

/// The page is told to show this account's card: `{account}`.
pub const FOCUS: &str = "app:focus";

/// Shows the main window, building it when it is gone; with `account`, at that card.
pub fn show<R: Runtime>(app: &AppHandle<R>, account: Option<String>) {
    let handle = app.clone();
    let _ = app.run_on_main_thread(move || show_now(&handle, account));
}

fn show_now<R: Runtime>(app: &AppHandle<R>, account: Option<String>) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
        if let Some(account) = account {
            let _ = app.emit(FOCUS, serde_json::json!({ "account": account }));
        }
        return;
    }
    // The page takes it with its first overview, which is made while WebKit starts.
    let state = app.state::<AppState>();
    state.set_focus(account);
    state.prepare_overview();
    crate::ready::rearm();
    let Some(conf) = app.config().app.windows.iter().find(|w| w.label == "main") else {
        return;
    };
    match WebviewWindowBuilder::from_config(app, conf).and_then(|b| b.build()) {
        Ok(w) => {
            let _ = w.set_focus();
        }
        Err(e) => eprintln!("amo-connector: the window could not be built: {e}"),
    }
}
