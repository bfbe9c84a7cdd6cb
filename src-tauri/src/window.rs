//! The main window's life: built on demand (at start unless `--hidden`, on *Open*, on a
//! second launch, on a notification's click) and destroyed when it closes while a tray
//! holds the app, so a hidden app costs no web view.

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
    // The page takes it with its first overview.
    app.state::<AppState>().set_focus(account);
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

/// The window closed into the tray: the first time, a notice says where the app went.
pub fn hidden_to_tray<R: Runtime>(app: &AppHandle<R>) {
    let state = app.state::<AppState>();
    let Ok(engine) = state.engine(app) else {
        return;
    };
    if engine.host_setting("tray_notice").is_some() {
        return;
    }
    let _ = engine.set_host_setting("tray_notice", "shown");
    if !engine.notifications() {
        return;
    }
    let lang = engine.lang();
    let note = crate::desktop::Note {
        title: lang.tr("notice.tray.title", &[]),
        body: lang.tr("notice.tray.body", &[]),
        open_label: lang.tr("tray.open", &[]),
        account: None,
    };
    let app = app.clone();
    crate::desktop::notify(note, move || Box::new(move |account| show(&app, account)));
}
