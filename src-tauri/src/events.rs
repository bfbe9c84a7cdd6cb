//! Forwards the engine's events to the page, wakes the background host when a connection
//! changes and brings the window forward when the browser comes back.

use amo_core::{Engine, EngineEvent, ErrorView};
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, Runtime};
use tokio::sync::broadcast::error::RecvError;

use crate::state::AppState;

/// The one Tauri event the page listens to: `{name, payload}`, `name` being one of those
/// below (one listener to register as the page starts, not one per kind).
pub const PAGE: &str = "app:event";

/// The browser came back with a code: `{type, account}`.
pub const CALLBACK_RECEIVED: &str = "engine:callback_received";
/// An account was connected: `{type, account}`.
pub const CONNECTED: &str = "engine:connected";
/// An account's tokens were refreshed: `{type, account}`.
pub const REFRESHED: &str = "engine:refreshed";
/// Something failed: `{type, account?, error: {kind, message, fix, amo?}}`.
pub const FAILED: &str = "engine:failed";
/// An account was disconnected: `{type, account}`.
pub const DISCONNECTED: &str = "engine:disconnected";
/// A step was logged: `{type, entry: {ts, step, account?, detail?, ok}}`.
pub const ACTIVITY: &str = "engine:activity";
/// Events were missed; the page reloads what it shows: `{missed}`.
pub const LAGGED: &str = "engine:lagged";
/// The loopback flow ended: `{id, ok, account?, error?}`.
pub const FLOW_ENDED: &str = "flow:ended";

#[derive(Debug, Clone, Serialize)]
pub struct FlowEnded {
    pub id: u64,
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorView>,
}

impl FlowEnded {
    pub fn ok(id: u64, account: String) -> FlowEnded {
        FlowEnded {
            id,
            ok: true,
            account: Some(account),
            error: None,
        }
    }

    pub fn failed(id: u64, error: ErrorView) -> FlowEnded {
        FlowEnded {
            id,
            ok: false,
            account: None,
            error: Some(error),
        }
    }
}

/// Follows `engine` for the life of the app.
pub fn forward<R: Runtime>(app: AppHandle<R>, engine: &Engine) {
    let mut rx = engine.subscribe();
    tauri::async_runtime::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(event) => on_event(&app, &event),
                Err(RecvError::Lagged(missed)) => {
                    send(&app, LAGGED, serde_json::json!({ "missed": missed }));
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
            CALLBACK_RECEIVED
        }
        EngineEvent::Connected { .. } => {
            bring_forward(app);
            host.wake();
            CONNECTED
        }
        EngineEvent::Refreshed { .. } => {
            host.wake();
            REFRESHED
        }
        EngineEvent::Failed { .. } => FAILED,
        EngineEvent::Disconnected { .. } => {
            host.wake();
            DISCONNECTED
        }
        EngineEvent::Activity { entry } => {
            // The page shows the entry in its language, on the local clock.
            let entry = entry.view(app.state::<AppState>().lang());
            send(app, ACTIVITY, serde_json::json!({ "entry": entry }));
            return;
        }
    };
    send(app, name, event);
}

/// Tells the page `name` happened, with `payload`.
pub fn send<R: Runtime>(app: &AppHandle<R>, name: &str, payload: impl Serialize) {
    let _ = app.emit(
        PAGE,
        serde_json::json!({ "name": name, "payload": payload }),
    );
}

/// Shows, unminimises and focuses the main window (building it when it is gone).
pub fn bring_forward<R: Runtime>(app: &AppHandle<R>) {
    crate::window::show(app, None);
}

/// Tells the page flow `id` ended.
pub fn flow_ended<R: Runtime>(app: &AppHandle<R>, ended: &FlowEnded) {
    send(app, FLOW_ENDED, ended);
}
