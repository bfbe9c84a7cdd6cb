//! The page's commands: thin async wrappers on the engine, named `verb_noun`. Each is
//! listed once, in `src-tauri/manifest.rs`, which makes its permission and its handler.

use amo_core::{
    AccountHost, AccountInfo, ClientSecret, ConnectOptions, ConnectionStatus, Engine, EntryView,
    NewSettings,
};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use tauri::{AppHandle, Manager, Runtime, State};

use crate::error::{Error, Localize, Result};
use crate::flow::FlowView;
use crate::page::{self, FlowEnded};
use crate::state::AppState;
use crate::view::{
    self, AlwaysView, ConnectionView, LocalApiView, Messages, Overview, SettingsView,
};

/// Runs a keychain- or disk-bound engine call off the async workers.
async fn blocking<T: Send + 'static>(
    engine: &Engine,
    f: impl FnOnce(&Engine) -> amo_core::Result<T> + Send + 'static,
) -> Result<T> {
    let e = engine.clone();
    match tauri::async_runtime::spawn_blocking(move || f(&e)).await {
        Ok(r) => r.ui(engine),
        Err(join) => Err(Error::task(&join.to_string(), engine.lang())),
    }
}

fn host(engine: &Engine, account: &str) -> Result<AccountHost> {
    AccountHost::parse(account).ui(engine)
}

/// The catalogue of the window's language; never fails (falls back to the locale's).
#[tauri::command]
pub async fn get_messages(state: State<'_, AppState>) -> Result<Messages> {
    let lang = match state.engine() {
        Ok(engine) => engine.lang(),
        Err(_) => state.lang(),
    };
    Ok(Messages::of(lang))
}

/// Settings, connections, keychain health and the waiting flow.
#[tauri::command]
pub async fn get_overview(state: State<'_, AppState>) -> Result<Overview> {
    let engine = state.engine()?;
    let flow = state.flow.view();
    let overview = blocking(&engine, move |e| Ok(view::overview(e, flow))).await?;
    Ok(state.complete(engine.lang(), overview))
}

/// The page has drawn the dashboard with its data: the readiness signal for `bench/`.
#[tauri::command]
pub async fn ready(state: State<'_, AppState>) -> Result<()> {
    crate::ready::mark();
    state.first.drawn();
    Ok(())
}

/// Asked once the page follows the engine's events: whether the data the page was built
/// with still holds (the engine reported nothing since it was read); if not, the page reads
/// again.
#[tauri::command]
pub async fn still_current(state: State<'_, AppState>) -> Result<bool> {
    Ok(crate::boot::still_current(state.first.take_since()))
}

/// `times` relative to now in the window's language ("через 23 часа"), as the clock moves.
#[tauri::command]
pub async fn relative_times(
    state: State<'_, AppState>,
    times: Vec<DateTime<Utc>>,
) -> Result<Vec<String>> {
    let lang = state.engine()?.lang();
    let now = Utc::now();
    Ok(times
        .into_iter()
        .map(|t| amo_core::when::relative(lang, t, now))
        .collect())
}

/// Start at login and notifications; `None` keeps what is set. The autostart entry starts
/// this very binary, hidden in the tray.
#[tauri::command]
pub async fn save_always(
    state: State<'_, AppState>,
    autostart: Option<bool>,
    notifications: Option<bool>,
) -> Result<AlwaysView> {
    let engine = state.engine()?;
    let tray = state.tray();
    blocking(&engine, move |e| {
        if let Some(on) = autostart {
            // After a package upgrade the running file reads `… (deleted)`: the entry names
            // the installed one.
            let exe = std::env::current_exe().ok();
            let exec = amo_core::autostart::this_app(exe.as_deref());
            e.set_autostart(on, &exec)?;
        }
        if let Some(on) = notifications {
            e.set_notifications(on)?;
        }
        Ok(AlwaysView::of(e, tray))
    })
    .await
}

/// The always-on local API: its settings, what the background host does with it and the
/// last calls. Never its key.
#[tauri::command]
pub async fn get_local_api(state: State<'_, AppState>) -> Result<LocalApiView> {
    let engine = state.engine()?;
    let tray = state.tray();
    blocking(&engine, move |e| LocalApiView::of(e, tray)).await
}

/// Turns the local API on or off, sets its port (`"1"`–`"65535"`) or the account it serves
/// (`""`: the only connection); `None` keeps what is set. The background host follows at once.
#[tauri::command]
pub async fn save_local_api(
    state: State<'_, AppState>,
    on: Option<bool>,
    port: Option<String>,
    account: Option<String>,
) -> Result<LocalApiView> {
    let engine = state.engine()?;
    let tray = state.tray();
    let saved = blocking(&engine, move |e| {
        if let Some(port) = port {
            e.set_hosted_proxy_port(&port)?;
        }
        if let Some(account) = account {
            e.set_hosted_proxy_account(&account)?;
        }
        if let Some(on) = on {
            e.set_hosted_proxy(on)?;
        }
        LocalApiView::of(e, tray)
    })
    .await;
    wake_host(&state);
    saved
}

/// Puts the local API's key on the clipboard. The key goes from the keychain to the
/// clipboard here: it never enters the page, and nothing of it is returned.
#[tauri::command]
pub async fn copy_proxy_key<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<()> {
    let engine = state.engine()?;
    let key = blocking(&engine, |e| e.hosted_proxy_key()).await?;
    to_clipboard(&app, key.expose()).map_err(|reason| Error::clipboard(&reason, engine.lang()))
}

/// Replaces the local API's key: the old one gets 401 as soon as the host serves the new.
#[tauri::command]
pub async fn rotate_proxy_key(state: State<'_, AppState>) -> Result<LocalApiView> {
    let engine = state.engine()?;
    let tray = state.tray();
    let rotated = blocking(&engine, move |e| {
        e.rotate_hosted_proxy_key()?;
        LocalApiView::of(e, tray)
    })
    .await;
    wake_host(&state);
    rotated
}

/// A local API setting changed: the host here (no tray) takes it up now. The tray follows the
/// data folder and takes it up by itself.
fn wake_host(state: &AppState) {
    if !state.tray() {
        state.host.wake();
    }
}

/// Writes `text` to the desktop's clipboard. The clipboard plugin is set up at its first use:
/// on X11 it opens a display connection and a thread, which the window's start goes without.
fn to_clipboard<R: Runtime>(app: &AppHandle<R>, text: &str) -> std::result::Result<(), String> {
    use tauri_plugin_clipboard_manager::{Clipboard, ClipboardExt};
    static SETUP: std::sync::Mutex<()> = std::sync::Mutex::new(());
    {
        let _once = SETUP.lock().unwrap_or_else(|p| p.into_inner());
        if app.try_state::<Clipboard<R>>().is_none() {
            app.plugin(tauri_plugin_clipboard_manager::init())
                .map_err(|e| e.to_string())?;
        }
    }
    app.clipboard().write_text(text).map_err(|e| e.to_string())
}

/// The newest `limit` steps of the activity log, newest first.
#[tauri::command]
pub async fn recent_activity(
    state: State<'_, AppState>,
    limit: Option<usize>,
) -> Result<Vec<EntryView>> {
    let engine = state.engine()?;
    let limit = limit.unwrap_or(crate::boot::ACTIVITY_LIMIT).min(500);
    blocking(&engine, move |e| {
        let lang = e.lang();
        Ok(e.activity(limit).iter().map(|x| x.view(lang)).collect())
    })
    .await
}

/// The setup form; empty or missing fields keep what is saved. The secret goes to the
/// keychain and never comes back.
#[derive(Deserialize, Default)]
pub struct SettingsForm {
    client_id: Option<String>,
    client_secret: Option<String>,
    redirect_uri: Option<String>,
    platform: Option<String>,
    /// `"system"` follows the system locale again.
    lang: Option<String>,
    /// `"light"`, `"dark"`, or `"system"` (the desktop's theme).
    theme: Option<String>,
}

#[tauri::command]
pub async fn save_settings(
    state: State<'_, AppState>,
    settings: SettingsForm,
) -> Result<SettingsView> {
    let engine = state.engine()?;
    let new = NewSettings {
        client_id: settings.client_id,
        client_secret: settings
            .client_secret
            .filter(|s| !s.is_empty())
            .map(ClientSecret::new),
        redirect_uri: settings.redirect_uri,
        platform: settings.platform,
        lang: settings.lang,
        theme: settings.theme,
    };
    blocking(&engine, move |e| {
        let saved = e.save_settings(new)?;
        view::settings(e, &saved)
    })
    .await
}

/// Starts the loopback flow and opens the browser; a flow already waiting is returned as is.
#[tauri::command]
pub async fn start_connect<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<FlowView> {
    if let Some(flow) = state.flow.view() {
        return Ok(flow);
    }
    let engine = state.engine()?;
    let opts = ConnectOptions {
        open_browser: true,
        timeout: None,
    };
    let pending = engine.start_connect(opts).await.ui(&engine)?;
    let flow = state.flow.set(&pending);
    let id = flow.id;
    tauri::async_runtime::spawn(async move {
        let result = pending.wait().await;
        let pasted = app
            .state::<AppState>()
            .flow
            .take(id)
            .and_then(|f| f.ended_by_paste);
        let ended = match (result, pasted) {
            (Ok(status), _) => FlowEnded::ok(id, status.account),
            (Err(_), Some(Ok(account))) => FlowEnded::ok(id, account),
            (Err(_), Some(Err(view))) => FlowEnded::failed(id, view),
            (Err(e), None) => FlowEnded::failed(id, e.view(engine.lang())),
        };
        page::flow_ended(&app, &ended);
    });
    Ok(flow)
}

/// Stops the waiting flow and frees its port; `flow:ended` follows. False when none waits.
#[tauri::command]
pub async fn cancel_connect(state: State<'_, AppState>) -> Result<bool> {
    Ok(state.flow.cancel())
}

/// Opens the waiting flow's authorize page again; answers why the browser failed, if it did.
#[tauri::command]
pub async fn open_authorize_url(state: State<'_, AppState>) -> Result<Option<String>> {
    let engine = state.engine()?;
    let url = state
        .flow
        .authorize_url()
        .ok_or_else(|| Error::no_flow(engine.lang()))?;
    Ok(engine.open_browser(&url).err())
}

/// Finishes the flow from the address the browser ended on. A wrong address leaves the flow
/// waiting; a failure after its state was spent ends it, as the browser's return would.
#[tauri::command]
pub async fn complete_connect_paste(
    state: State<'_, AppState>,
    url: String,
) -> Result<ConnectionStatus> {
    let engine = state.engine()?;
    match engine.connect_pasted_url(&url).await {
        Ok(status) => {
            state.flow.end_by_paste(Ok(status.account.clone()));
            Ok(status)
        }
        Err(e) => {
            if !e.leaves_flow_waiting() {
                state.flow.end_by_paste(Err(e.view(engine.lang())));
            }
            Err(Error::engine(e, engine.lang()))
        }
    }
}

/// Exchanges an authorization code copied from the integration.
#[tauri::command]
pub async fn connect_with_code(
    state: State<'_, AppState>,
    code: String,
    account: String,
) -> Result<ConnectionStatus> {
    let engine = state.engine()?;
    engine.connect_with_code(&code, &account).await.ui(&engine)
}

/// Stores a long-lived token once amoCRM accepts it.
#[tauri::command]
pub async fn connect_long_lived(
    state: State<'_, AppState>,
    token: String,
    account: String,
) -> Result<ConnectionStatus> {
    let engine = state.engine()?;
    engine
        .connect_long_lived(&token, &account)
        .await
        .ui(&engine)
}

/// Refreshes `account`'s tokens now.
#[tauri::command]
pub async fn refresh_connection(
    state: State<'_, AppState>,
    account: String,
) -> Result<ConnectionView> {
    let engine = state.engine()?;
    let host = host(&engine, &account)?;
    let status = engine.refresh(&host).await.ui(&engine)?;
    Ok(ConnectionView::of(status, engine.lang()))
}

/// `GET /api/v4/account` with the stored tokens.
#[tauri::command]
pub async fn test_connection(state: State<'_, AppState>, account: String) -> Result<AccountInfo> {
    let engine = state.engine()?;
    let host = host(&engine, &account)?;
    engine.account_info(&host).await.ui(&engine)
}

/// Removes `account`'s tokens from the keychain and its row from the database.
#[tauri::command]
pub async fn disconnect(state: State<'_, AppState>, account: String) -> Result<()> {
    let engine = state.engine()?;
    let host = host(&engine, &account)?;
    blocking(&engine, move |e| e.disconnect(&host)).await
}
