//! The loopback flow the window waits on: at most one, its cancel handle, and what the page
//! may know of it.

use amo_core::{CancelHandle, ErrorView, PendingConnect};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use url::Url;

/// The waiting flow, if any, and the id the next one takes.
#[derive(Default)]
pub struct Flows {
    waiting: Mutex<Option<Flow>>,
    next: AtomicU64,
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

impl Flows {
    fn lock(&self) -> MutexGuard<'_, Option<Flow>> {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps `pending` as the waiting flow; returns its view (with its new id).
    pub fn set(&self, pending: &PendingConnect) -> FlowView {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
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
        *self.lock() = Some(flow);
        view
    }

    /// The waiting flow, if any.
    pub fn view(&self) -> Option<FlowView> {
        self.lock().as_ref().map(Flow::view)
    }

    /// The waiting flow's authorize address.
    pub fn authorize_url(&self) -> Option<Url> {
        self.lock().as_ref().map(|f| f.authorize_url.clone())
    }

    /// Stops the waiting flow and frees its port; its task then reports the end.
    pub fn cancel(&self) -> bool {
        match self.lock().as_ref() {
            Some(f) => {
                f.cancel.cancel();
                true
            }
            None => false,
        }
    }

    /// A pasted address ended the flow (connected, or failed once its state was spent): the
    /// listener is no longer needed, and the flow's end reports `outcome`.
    pub fn end_by_paste(&self, outcome: std::result::Result<String, ErrorView>) {
        if let Some(f) = self.lock().as_mut() {
            f.ended_by_paste = Some(outcome);
            f.cancel.cancel();
        }
    }

    /// Removes flow `id` once its listener has closed.
    pub fn take(&self, id: u64) -> Option<Flow> {
        let mut slot = self.lock();
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
