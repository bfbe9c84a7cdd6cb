//! The desktop app: a Tauri window on the engine. The background work runs in the tray
//! process (`amo-connector-tray`) where the desktop has a tray host, else here while the
//! window is open. Plugins, state and commands are wired here; the work is in `amo-core`.

mod background;
mod boot;
mod commands;
mod error;
mod events;
mod ready;
mod state;
mod view;
mod window;

use amo_desktop::launch::{self, APP_BUS_NAME, HIDDEN_ARG, QUIT_ARG};
use tauri::{App, Builder, Manager, Runtime, WindowEvent};

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
                window.state::<AppState>().cancel_flow();
            }
        })
        .invoke_handler(tauri::generate_handler![
            commands::get_messages,
            commands::get_overview,
            commands::ready,
            commands::still_current,
            commands::relative_times,
            commands::recent_activity,
            commands::save_settings,
            commands::save_always,
            commands::start_connect,
            commands::cancel_connect,
            commands::open_authorize_url,
            commands::complete_connect_paste,
            commands::connect_with_code,
            commands::connect_long_lived,
            commands::refresh_connection,
            commands::test_connection,
            commands::disconnect,
        ])
}

/// Takes what the early thread settled (`boot`): whether a tray process does the
/// background work (it starts one where the desktop has a tray host), the engine and the
/// first page's data; then builds the window unless started `--hidden` into a tray.
fn setup<R: Runtime>(app: &mut App<R>) {
    let handle = app.handle().clone();
    let state = app.state::<AppState>();
    match app.try_state::<boot::Starting>().and_then(|s| s.take()) {
        Some(early) => {
            state.set_tray(early.tray);
            if let Ok(engine) = early.engine {
                state.adopt(&handle, engine);
            }
            if let Some(first) = early.first {
                state.keep_first(first);
            }
        }
        None => {
            state.set_tray(background::ensure_tray());
            let _ = state.engine(&handle);
        }
    }
    let args: Vec<String> = std::env::args().collect();
    if !(launch::has(&args, HIDDEN_ARG) && state.tray()) {
        window::show(&handle, launch::account_arg(&args));
    }
}

/// Runs the app. `--hidden` with a tray host becomes the tray process (no window);
/// `--quit` ends a running window app and starts nothing.
pub fn run() {
    let args: Vec<String> = std::env::args().collect();
    if launch::has(&args, QUIT_ARG) && !amo_desktop::bus::name_has_owner(APP_BUS_NAME) {
        return;
    }
    if launch::has(&args, HIDDEN_ARG) && !launch::has(&args, QUIT_ARG) {
        background::become_tray();
    }
    // The engine opens and the first page's data is read while Tauri and GTK start.
    run_app(Builder::default().manage(boot::Starting::start()))
        .build(tauri::generate_context!())
        .expect("the window could not start")
        .run(|_, _| {});
}
