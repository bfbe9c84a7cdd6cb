//! The desktop app: a Tauri window on the engine. Plugins, state and commands are wired
//! here; the work is in `amo-core`.

mod commands;
mod error;
mod events;
mod ready;
mod refresher;
mod state;
mod view;

use tauri::{Builder, Manager, Runtime, WindowEvent};

pub use error::{Error, Result};
pub use state::AppState;

/// Wires plugins, state and commands into `builder`; a test can pass a mock builder.
pub fn run_app<R: Runtime>(builder: Builder<R>) -> Builder<R> {
    builder
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            events::bring_forward(app);
        }))
        .manage(AppState::default())
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

/// Runs the app.
pub fn run() {
    run_app(Builder::default())
        .run(tauri::generate_context!())
        .expect("the window could not start");
}
