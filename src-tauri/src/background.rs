//! Where the background work runs. With a tray host on the desktop it runs in the tray
//! process (`amo-connector-tray`, started here beside this binary), and closing the window
//! ends this process; without one, this process hosts the engine's schedule itself
//! (`amo_desktop::Host`) while the window is open, and closing quits as before.

use amo_core::{ConnectionStatus, Engine, Lang};
use amo_desktop::launch::{self, TRAY_BINARY};
use amo_desktop::{OnClick, Shell};
use tauri::{async_runtime, AppHandle, Manager, Runtime};

use crate::state::AppState;
use crate::window;

/// Starts the tray process when the desktop has a tray host; true when it was started (or
/// already runs: a second one leaves at once). The tray then does the background work.
pub fn ensure_tray() -> bool {
    if !amo_desktop::tray_host_present() {
        return false;
    }
    if amo_core::DataDir::locate().is_ok_and(|dir| launch::tray_running(&dir)) {
        return true;
    }
    match launch::sibling(TRAY_BINARY).and_then(launch::start) {
        Ok(()) => true,
        Err(e) => {
            eprintln!(
                "amo-connector: the tray could not be started ({e}); this window refreshes \
                 the connections while it is open"
            );
            false
        }
    }
}

/// With `--hidden` and a tray host, this process becomes the tray process: no window is
/// built. Returns only when that could not be done (no tray host, no tray binary).
pub fn become_tray() {
    if !amo_desktop::tray_host_present() {
        return;
    }
    let Some(tray) = launch::beside_me(TRAY_BINARY) else {
        return;
    };
    let e = launch::replace_me(std::process::Command::new(tray));
    eprintln!("amo-connector: the tray could not be started ({e}); starting hidden here");
}

/// How long the first check waits for the window's first frame.
const FIRST_CHECK_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// Hosts the engine's schedule in this process (no tray process).
pub fn host<R: Runtime>(app: &AppHandle<R>, engine: &Engine) {
    let app = app.clone();
    let engine = engine.clone();
    async_runtime::spawn(async move {
        let shell = WindowShell { app: app.clone() };
        // The first check reads every connection from the keychain: after the window's
        // first frame (or a few seconds), not while WebKit starts beside it.
        let state = app.state::<AppState>();
        let _ = tokio::time::timeout(FIRST_CHECK_WAIT, state.first.first_frame()).await;
        state.host.run(&engine, &shell).await;
    });
}

/// The window app as the schedule's shell: no tray to redraw; a notice's click opens the
/// window at its account.
struct WindowShell<R: Runtime> {
    app: AppHandle<R>,
}

impl<R: Runtime> Shell for WindowShell<R> {
    fn checked(&self, _lang: Lang, _all: Vec<ConnectionStatus>) {}

    fn on_click(&self) -> OnClick {
        let app = self.app.clone();
        Box::new(move |account| window::show(&app, account))
    }
}
