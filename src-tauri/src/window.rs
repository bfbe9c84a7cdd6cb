//! The main window's life: built at start (unless `--hidden`), shown again on a second
//! launch (the tray's *Open*, a notification's click) at the account it names.

use tauri::{AppHandle, Manager, Runtime, WebviewWindowBuilder};

use crate::boot::{self, Boot};
use crate::page;
use crate::state::AppState;
use crate::view::Messages;

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
            page::send(app, page::FOCUS, serde_json::json!({ "account": account }));
        }
        return;
    }
    // The page takes the account with its first data.
    let state = app.state::<AppState>();
    state.set_focus(account);
    crate::ready::rearm();
    let Some(conf) = app.config().app.windows.iter().find(|w| w.label == "main") else {
        return;
    };
    let boot = first_page(&state).map(|b| b.script());
    match WebviewWindowBuilder::from_config(app, conf)
        .map(|b| match &boot {
            Some(script) => b.initialization_script(script),
            None => b,
        })
        .and_then(|b| b.build())
    {
        Ok(w) => {
            let _ = w.set_focus();
        }
        Err(e) => eprintln!("amo-connector: the window could not be built: {e}"),
    }
}

/// The page's first data, read before the app started; `None` when it was not read in time
/// or was used by an earlier window: the page asks for it then (never read here, on the
/// main thread, since the keychain may take its time).
fn first_page(state: &AppState) -> Option<Boot> {
    let first = state.first.take();
    let fonts = boot::desktop_fonts();
    match state.engine() {
        Ok(engine) => {
            let lang = engine.lang();
            let (overview, activity, since) = first?.into_parts();
            state.first.set_since(since);
            Some(Boot {
                overview: Some(state.complete(lang, overview)),
                error: None,
                activity,
                messages: Messages::of(lang),
                fonts,
            })
        }
        Err(error) => Some(Boot {
            overview: None,
            error: Some(error),
            activity: Vec::new(),
            messages: Messages::of(state.lang()),
            fonts,
        }),
    }
}
