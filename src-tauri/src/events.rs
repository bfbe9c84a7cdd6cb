//! Forwards the engine's events to the page (`page`), wakes the background host when a
//! connection changes and brings the window forward when the browser comes back.

use amo_core::EngineEvent;
use tauri::{AppHandle, Manager, Runtime};
use tokio::sync::broadcast::{self, error::RecvError};

use crate::page::{self, send};
use crate::state::AppState;

/// Follows `events` (the engine's, from when it opened) for the life of the app.
pub fn forward<R: Runtime>(app: AppHandle<R>, mut events: broadcast::Receiver<EngineEvent>) {
    tauri::async_runtime::spawn(async move {
        loop {
            match events.recv().await {
                Ok(event) => on_event(&app, &event),
                Err(RecvError::Lagged(missed)) => {
                    send(&app, page::LAGGED, serde_json::json!({ "missed": missed }));
                }
                Err(RecvError::Closed) => break,
            }
        }
    });
}

fn on_event<R: Runtime>(app: &AppHandle<R>, event: &EngineEvent) {
    let host = &app.state::<AppState>().host;
    let name = match event {
        EngineEvent::CallbackReceived { .. } => {
            bring_forward(app);
            page::CALLBACK_RECEIVED
        }
        EngineEvent::Connected { .. } => {
            bring_forward(app);
            host.wake();
            page::CONNECTED
        }
        EngineEvent::Refreshed { .. } => {
            host.wake();
            page::REFRESHED
        }
        EngineEvent::Failed { .. } => page::FAILED,
        EngineEvent::Disconnected { .. } => {
            host.wake();
            page::DISCONNECTED
        }
        EngineEvent::Activity { entry } => {
            // The page shows the entry in its language, on the local clock.
            let entry = entry.view(app.state::<AppState>().lang());
            send(app, page::ACTIVITY, serde_json::json!({ "entry": entry }));
            return;
        }
    };
    send(app, name, event);
}

/// Shows, unminimises and focuses the main window (building it when it is gone).
fn bring_forward<R: Runtime>(app: &AppHandle<R>) {
    crate::window::show(app, None);
}
