//! The desktop app: a Tauri window on the engine. The background work runs in the tray
//! process (`amo-connector-tray`) where the desktop has a tray host, else here while the
//! window is open. Plugins, state, commands and what acts on the engine once it opens (the
//! event forwarder, the background host) are wired here; the work is in `amo-core`.

mod background;
mod boot;
mod commands;
mod error;
mod events;
mod flow;
mod page;
mod ready;
mod state;
mod view;
mod window;

#[cfg(test)]
#[path = "../bundle.rs"]
mod bundle;
#[cfg(test)]
#[path = "../manifest.rs"]
mod manifest;
#[cfg(test)]
mod tests;

use amo_desktop::launch::{self, HIDDEN_ARG, QUIT_ARG};
use tauri::{App, AppHandle, Builder, Manager, RunEvent, Runtime, WindowEvent};

pub use error::{Error, Result};
pub use state::AppState;

/// Wires plugins, state and commands into `builder`; a test can pass a mock builder.
pub fn run_app<R: Runtime>(builder: Builder<R>) -> Builder<R> {
    builder
        .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| {
            // A second launch shows the window (at `--account HOST`, the tray's and a
            // notice's way in); `--quit` is the tray's *Quit*; `--hidden` changes nothing.
            if launch::has(&argv, QUIT_ARG) {
                app.exit(0);
            } else if !launch::has(&argv, HIDDEN_ARG) {
                window::show(app, launch::account_arg(&argv));
            }
        }))
        .manage(AppState::default())
        .setup(|app| {
            setup(app);
            Ok(())
        })
        .on_window_event(|window, event| {
            // Closing the window while a flow waits cancels it and frees the port.
            if matches!(
                event,
                WindowEvent::CloseRequested { .. } | WindowEvent::Destroyed
            ) {
                window.state::<AppState>().flow.cancel();
            }
        })
        // Every command in `manifest.rs`, as `tauri::generate_handler![commands::…]`.
        .invoke_handler(include!(concat!(env!("OUT_DIR"), "/invoke_handler.rs")))
}

/// Takes what the early thread settled (`boot`): whether a tray process does the
/// background work (it starts one where the desktop has a tray host), the engine and the
/// first page's data; then builds the window unless started `--hidden` into a tray.
fn setup<R: Runtime>(app: &mut App<R>) {
    // The single-instance plugin has made its window by now: a tray waiting for this app
    // finds it.
    amo_desktop::window_started();
    let handle = app.handle().clone();
    let state = app.state::<AppState>();
    match app.try_state::<boot::Starting>().and_then(|s| s.take()) {
        Some(early) => {
            state.set_tray(early.tray);
            if let Ok(engine) = early.engine {
                state.adopt(engine);
            }
            if let Some(first) = early.first {
                state.first.keep(first);
            }
        }
        None => {
            state.set_tray(background::ensure_tray());
            let _ = state.engine();
        }
    }
    on_engine_opened(&handle, &state);
    let args: Vec<String> = std::env::args().collect();
    if !(launch::has(&args, HIDDEN_ARG) && state.tray()) {
        window::show(&handle, launch::account_arg(&args));
    }
}

/// Once the engine is open (now, or at a later command's first use), forwards its events
/// to the page and, when no tray process does the background work, hosts the schedule here.
fn on_engine_opened<R: Runtime>(app: &AppHandle<R>, state: &AppState) {
    let Some(opened) = state.take_opened() else {
        return;
    };
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let Ok(opened) = opened.await else {
            return;
        };
        events::forward(app.clone(), opened.events);
        if !app.state::<AppState>().tray() {
            background::host(&app, &opened.engine);
        }
    });
}

/// Runs the app. `--hidden` with a tray host becomes the tray process (no window);
/// `--quit` ends a running window app and starts nothing.
pub fn run() {
    let args: Vec<String> = std::env::args().collect();
    if launch::has(&args, QUIT_ARG) && !amo_desktop::window_open() {
        return;
    }
    if launch::has(&args, HIDDEN_ARG) && !launch::has(&args, QUIT_ARG) {
        background::become_tray();
    }
    // The engine opens and the first page's data is read while Tauri and GTK start.
    run_app(Builder::default().manage(boot::Starting::start(background::ensure_tray)))
        .build(tauri::generate_context!())
        .expect("the window could not start")
        .run(|app, event| {
            // Hosting the background work here, the app stops the local API as it ends and
            // records it as off, so `amo config show` and a next window do not read it served.
            if let RunEvent::Exit = event {
                app.state::<AppState>().host.end();
            }
        });
}
