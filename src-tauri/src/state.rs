//! The one managed state: plain data that commands, the window and the wiring (`lib.rs`)
//! share. It starts nothing; `lib.rs` acts on what it holds.

use amo_core::{Engine, EngineEvent, Lang};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use tokio::sync::{broadcast, oneshot};

use crate::boot::FirstPage;
use crate::error::{Error, Result};
use crate::flow::Flows;
use crate::view::{DueView, Overview};
use amo_desktop::Host;

/// Shared by every command; interior locks, no `Arc`.
pub struct AppState {
    engine: Mutex<Option<Engine>>,
    /// Hands the engine, once open, to the wiring.
    opened_tx: Mutex<Option<oneshot::Sender<Opened>>>,
    opened_rx: Mutex<Option<oneshot::Receiver<Opened>>>,
    /// The loopback flow the window waits on.
    pub flow: Flows,
    /// The first page's data and when the page drew it.
    pub first: FirstPage,
    /// The schedule, hosted here only when no tray process runs it.
    pub host: Host,
    /// The tray process runs the background work: closing the window leaves it there.
    tray: AtomicBool,
    /// The account the next window opens at.
    focus: Mutex<Option<String>>,
}

/// The engine as it was opened, with everything it reported from that moment.
pub struct Opened {
    pub engine: Engine,
    pub events: broadcast::Receiver<EngineEvent>,
}

impl Default for AppState {
    fn default() -> AppState {
        let (tx, rx) = oneshot::channel();
        AppState {
            engine: Mutex::default(),
            opened_tx: Mutex::new(Some(tx)),
            opened_rx: Mutex::new(Some(rx)),
            flow: Flows::default(),
            first: FirstPage::default(),
            host: Host::default(),
            tray: AtomicBool::default(),
            focus: Mutex::default(),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl AppState {
    /// The engine, opened on first use (at start, or by the first command after a failed
    /// start).
    ///
    /// # Errors
    /// The data folder or database cannot be opened.
    pub fn engine(&self) -> Result<Engine> {
        let mut slot = lock(&self.engine);
        if let Some(engine) = slot.as_ref() {
            return Ok(engine.clone());
        }
        let engine = Engine::open().map_err(|e| Error::engine(e, Lang::detect()))?;
        self.keep(&mut slot, &engine);
        Ok(engine)
    }

    /// Takes `engine`, opened before the app was (`boot`), unless one is open already.
    pub fn adopt(&self, engine: Engine) {
        let mut slot = lock(&self.engine);
        if slot.is_none() {
            self.keep(&mut slot, &engine);
        }
    }

    fn keep(&self, slot: &mut Option<Engine>, engine: &Engine) {
        // Subscribed before the engine is shared, so no event escapes the forwarder.
        let events = engine.subscribe();
        *slot = Some(engine.clone());
        if let Some(tx) = lock(&self.opened_tx).take() {
            let _ = tx.send(Opened {
                engine: engine.clone(),
                events,
            });
        }
    }

    /// Resolves to the engine once it is open; taken once, by the wiring.
    pub fn take_opened(&self) -> Option<oneshot::Receiver<Opened>> {
        lock(&self.opened_rx).take()
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
}
