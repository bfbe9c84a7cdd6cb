//! The desktop app: a Tauri window on the engine, and a tray icon that keeps it running in
//! the background. Plugins, state and commands are wired here; the work is in `amo-core`.

mod commands;
mod desktop;
mod error;
mod events;
mod ready;
mod refresher;
mod state;
mod tray;
mod trim;
mod view;
mod window;

use amo_core::autostart::HIDDEN_ARG;
use tauri::{App, Builder, Manager, RunEvent, Runtime, WindowEvent};

pub use error::{Error, Result};
pub use state::AppState;

/// Wires plugins, state and commands into `builder`; a test can pass a mock builder.
pub fn run_app<R: Runtime>(builder: Builder<R>) -> Builder<R> {
    builder
        .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| {
            // A second launch shows the window; the login's `--hidden` start changes nothing.
            if !argv.iter().any(|a| a == HIDDEN_ARG) {
                events::bring_forward(app);
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

/// Opens the engine and starts the background host, puts the icon in the tray when the
/// desktop has a tray host, and builds the window unless started `--hidden` into a tray.
fn setup<R: Runtime>(app: &mut App<R>) {
    let handle = app.handle().clone();
    let state = app.state::<AppState>();
    let lang = match state.engine(&handle) {
        Ok(engine) => engine.lang(),
        Err(_) => state.lang(),
    };
    let tray = desktop::tray_host_present() && tray::create(&handle, lang).is_ok();
    state.set_tray(tray);
    state.host.wake();
    let hidden = std::env::args().any(|a| a == HIDDEN_ARG);
    if !(hidden && tray) {
        window::show(&handle, None);
    }
}

/// Runs the app.
pub fn run() {
    run_app(Builder::default())
        .build(tauri::generate_context!())
        .expect("the window could not start")
        .run(|app, event| {
            if let RunEvent::ExitRequested {
                code: None, api, ..
            } = event
            {
                // The last window closed: with a tray the app stays, without its web view.
                let state = app.state::<AppState>();
                if state.keeps_running() {
                    api.prevent_exit();
                    trim::after_window_closed();
                    window::hidden_to_tray(app);
                }
            }
        });
}
