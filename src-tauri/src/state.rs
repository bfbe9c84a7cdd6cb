//! The one managed state: the engine (opened at start), the waiting flow, the background
//! host, and how the window comes and goes (tray, focus).

use amo_core::{CancelHandle, Engine, EngineEvent, ErrorView, Lang, PendingConnect};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use tauri::{AppHandle, Runtime};
use tokio::sync::broadcast;
use url::Url;

use crate::error::{Error, Result};
use amo_desktop::Host;

use crate::boot::First;
use crate::view::{DueView, Overview};
use crate::{background, events};

/// Shared by every command; interior locks, no `Arc`.
#[derive(Default)]
pub struct AppState {
    engine: Mutex<Option<Engine>>,
    flow: Mutex<Option<Flow>>,
    next_flow: AtomicU64,
    /// The schedule, hosted here only when no tray process runs it.
    pub host: Host,
    /// The tray process runs the background work: closing the window leaves it there.
    tray: AtomicBool,
    /// The account the next window opens at.
    focus: Mutex<Option<String>>,
    /// The first page's data, read before the window was built (`boot`).
    first: Mutex<Option<First>>,
    /// What the engine reported since the page's first data was read (`ready` asks it).
    since_first: Mutex<Option<broadcast::Receiver<EngineEvent>>>,
    /// The page has drawn its first frame (`ready`).
    drawn: tokio::sync::watch::Sender<bool>,
}

/// The loopback flow that waits for the browser.
pub struct Flow {
    pub id: u64,
    cancel: CancelHandle,
    authorize_url: Url,
    expires_at: DateTime<Utc>,
    listen_addr: String,
    browser_error: Option<String>,
    /// Set when a pasted address ended this flow before the browser came back: the account
    /// it connected, or why it failed after the state was spent.
    pub ended_by_paste: Option<std::result::Result<String, ErrorView>>,
}

/// What the page knows of a waiting flow. The state in the address is single-use and bound
/// to this machine's listener; the page needs the address for Copy link.
#[derive(Debug, Clone, Serialize)]
pub struct FlowView {
    pub id: u64,
    pub authorize_url: String,
    pub expires_at: DateTime<Utc>,
    pub listen_addr: String,
    pub browser_error: Option<String>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl AppState {
    /// The engine, opened on first use (at start); opening starts the event forwarder and,
    /// when no tray process does the background work, the background host.
    ///
    /// # Errors
    /// The data folder or database cannot be opened.
    pub fn engine<R: Runtime>(&self, app: &AppHandle<R>) -> Result<Engine> {
        let mut slot = lock(&self.engine);
        if let Some(engine) = slot.as_ref() {
            return Ok(engine.clone());
        }
        let engine = Engine::open().map_err(|e| Error::engine(e, Lang::detect()))?;
        *slot = Some(engine.clone());
        drop(slot);
        self.started(app, &engine);
        Ok(engine)
    }

    /// Takes `engine`, opened before the app was (`boot`), unless one is open already.
    pub fn adopt<R: Runtime>(&self, app: &AppHandle<R>, engine: Engine) {
        let mut slot = lock(&self.engine);
        if slot.is_some() {
            return;
        }
        *slot = Some(engine.clone());
        drop(slot);
        self.started(app, &engine);
    }

    fn started<R: Runtime>(&self, app: &AppHandle<R>, engine: &Engine) {
        events::forward(app.clone(), engine);
        if !self.tray() {
            background::host(app, engine);
        }
    }

    /// Remembers that the tray process does the background work.
    pub fn set_tray(&self, on: bool) {
        self.tray.store(on, Ordering::Relaxed);
    }

    /// Whether the tray process does the background work (closing the window leaves it).
    pub fn tray(&self) -> bool {
        self.tray.load(Ordering::Relaxed)
    }

    /// The account the next window opens at.
    pub fn set_focus(&self, account: Option<String>) {
        *lock(&self.focus) = account;
    }

    /// Takes the account the window should open at.
    pub fn take_focus(&self) -> Option<String> {
        lock(&self.focus).take()
    }

    /// Keeps the first page's data until the window is built.
    pub fn keep_first(&self, first: First) {
        *lock(&self.first) = Some(first);
    }

    /// The first page's data read before the window was built, if not taken yet.
    pub fn take_first(&self) -> Option<First> {
        lock(&self.first).take()
    }

    /// The page has drawn its first frame.
    pub fn drawn(&self) {
        self.drawn.send_replace(true);
    }

    /// Resolves once a page has drawn its first frame.
    pub async fn first_frame(&self) {
        let _ = self.drawn.subscribe().wait_for(|drawn| *drawn).await;
    }

    /// Follows the engine from the moment the page's first data was read.
    pub fn set_since_first(&self, since: broadcast::Receiver<EngineEvent>) {
        *lock(&self.since_first) = Some(since);
    }

    /// What the engine reported since the page's first data was read; once.
    pub fn take_since_first(&self) -> Option<broadcast::Receiver<EngineEvent>> {
        lock(&self.since_first).take()
    }

    /// Adds to `o` what the running app knows: when each connection is next refreshed,
    /// whether a tray holds the app, and the account to show first.
    pub fn complete(&self, lang: Lang, mut o: Overview) -> Overview {
        let statuses: Vec<_> = o.connections.iter().map(|c| c.status.clone()).collect();
        o.due = self.host.due(&statuses);
        for c in &mut o.connections {
            c.due = o.due.get(&c.status.account).map(|d| DueView::of(d, lang));
        }
        o.always.tray = self.tray();
        o.focus = self.take_focus();
        o
    }

    /// The language of the window when the engine is not open.
    pub fn lang(&self) -> Lang {
        lock(&self.engine)
            .as_ref()
            .map_or_else(Lang::detect, Engine::lang)
    }

    /// Keeps `pending` as the waiting flow; returns its id.
    pub fn set_flow(&self, pending: &PendingConnect) -> FlowView {
        let id = self.next_flow.fetch_add(1, Ordering::Relaxed) + 1;
        let flow = Flow {
            id,
            cancel: pending.cancel_handle(),
            authorize_url: pending.authorize_url.clone(),
            expires_at: pending.expires_at,
            listen_addr: pending.listen_addr.to_string(),
            browser_error: pending.browser_error.clone(),
            ended_by_paste: None,
        };
        let view = flow.view();
        *lock(&self.flow) = Some(flow);
        view
    }

    /// The waiting flow, if any.
    pub fn flow_view(&self) -> Option<FlowView> {
        lock(&self.flow).as_ref().map(Flow::view)
    }

    /// The waiting flow's authorize address.
    pub fn authorize_url(&self) -> Option<Url> {
        lock(&self.flow).as_ref().map(|f| f.authorize_url.clone())
    }

    /// Stops the waiting flow and frees its port; its task then reports the end.
    pub fn cancel_flow(&self) -> bool {
        match lock(&self.flow).as_ref() {
            Some(f) => {
                f.cancel.cancel();
                true
            }
            None => false,
        }
    }

    /// A pasted address ended the flow (connected, or failed once its state was spent): the
    /// listener is no longer needed, and the flow's end reports `outcome`.
    pub fn end_flow_by_paste(&self, outcome: std::result::Result<String, ErrorView>) {
        if let Some(f) = lock(&self.flow).as_mut() {
            f.ended_by_paste = Some(outcome);
            f.cancel.cancel();
        }
    }

    /// Removes flow `id` once its listener has closed.
    pub fn take_flow(&self, id: u64) -> Option<Flow> {
        let mut slot = lock(&self.flow);
        if slot.as_ref().is_some_and(|f| f.id == id) {
            slot.take()
        } else {
            None
        }
    }
}

impl Flow {
    fn view(&self) -> FlowView {
        FlowView {
            id: self.id,
            authorize_url: self.authorize_url.to_string(),
            expires_at: self.expires_at,
            listen_addr: self.listen_addr.clone(),
            browser_error: self.browser_error.clone(),
        }
    }
}
