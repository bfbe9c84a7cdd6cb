//! What the app tells the page: one Tauri event, `app:event`, carrying `{name, payload}`;
//! the names and payloads are listed here.

use amo_core::ErrorView;
use serde::Serialize;
use tauri::{AppHandle, Emitter, Runtime};

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
/// The page is told to show this account's card: `{account}`.
pub const FOCUS: &str = "app:focus";

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

/// Tells the page `name` happened, with `payload`.
pub fn send<R: Runtime>(app: &AppHandle<R>, name: &str, payload: impl Serialize) {
    let _ = app.emit(
        PAGE,
        serde_json::json!({ "name": name, "payload": payload }),
    );
}

/// Tells the page flow `id` ended.
pub fn flow_ended<R: Runtime>(app: &AppHandle<R>, ended: &FlowEnded) {
    send(app, FLOW_ENDED, ended);
}
